from __future__ import annotations

from pathlib import Path

import pytest

from reference_app.server.tools import BUILTIN_TOOLS, ToolError, run_tool


def test_write_then_read_then_list(tmp_path: Path) -> None:
    assert "wrote 5 characters" in run_tool("write", {"path": "a/b.txt", "content": "hello"},
                                            tmp_path).output
    assert run_tool("read", {"path": "a/b.txt"}, tmp_path).output == "hello"
    assert run_tool("list", {}, tmp_path).output == "a/"
    assert run_tool("list", {"path": "a"}, tmp_path).output == "b.txt"
    assert run_tool("echo", {"text": "same"}, tmp_path).output == "same"


@pytest.mark.parametrize("path", ["../escape.txt", "/etc/passwd", "a/../../x"])
def test_paths_outside_the_workspace_are_refused(tmp_path: Path, path: str) -> None:
    workspace = tmp_path / "workspace"
    with pytest.raises(ToolError, match="outside the workspace"):
        run_tool("write", {"path": path, "content": "x"}, workspace)
    assert not (tmp_path / "escape.txt").exists()


def test_a_symlink_out_of_the_workspace_is_refused(tmp_path: Path) -> None:
    workspace = tmp_path / "workspace"
    workspace.mkdir()
    (tmp_path / "secret").write_text("no")
    (workspace / "link").symlink_to(tmp_path / "secret")
    with pytest.raises(ToolError, match="outside the workspace"):
        run_tool("read", {"path": "link"}, workspace)


@pytest.mark.parametrize(("name", "arguments", "message"), [
    ("read", {"path": "missing"}, "no file"),
    ("read", {}, "'path' must be a string"),
    ("list", {"path": "nowhere"}, "no directory"),
    ("fly", {}, "unknown tool 'fly'"),
])
def test_tool_errors_say_what_went_wrong(
    tmp_path: Path, name: str, arguments: dict[str, object], message: str
) -> None:
    with pytest.raises(ToolError, match=message):
        run_tool(name, arguments, tmp_path)


def test_every_builtin_tool_has_an_object_schema() -> None:
    assert {tool.name for tool in BUILTIN_TOOLS} == {"read", "write", "list", "echo"}
    assert all(tool.parameters["type"] == "object" for tool in BUILTIN_TOOLS)
