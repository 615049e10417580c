"""REST routes over real HTTP: shapes, bad input, not found, password."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import httpx
import pytest

from tests.reference_app.server.server_helpers import of_type


@pytest.fixture
def base_url(start_agent: Callable[..., str]) -> str:
    return start_agent()


async def test_create_get_list_rename_delete(
    base_url: str, http: httpx.AsyncClient, follow: Any
) -> None:
    log = await follow(base_url)
    first = (await http.post(f"{base_url}/session")).json()  # no body at all
    second = (await http.post(f"{base_url}/session", json={"title": "Second"})).json()
    child = (await http.post(f"{base_url}/session",
                             json={"parentID": first["id"]})).json()
    assert first["id"].startswith("ses_")
    assert first["cost"] == 0.0
    assert second["title"] == "Second"
    assert child["parentID"] == first["id"]
    assert (await http.get(f"{base_url}/session/{first['id']}")).json() == first
    listed = [s["id"] for s in (await http.get(f"{base_url}/session")).json()]
    assert listed == [child["id"], second["id"], first["id"]]

    renamed = (await http.patch(f"{base_url}/session/{first['id']}",
                                json={"title": "Renamed"})).json()
    assert renamed["title"] == "Renamed"
    update = await log.wait_for(of_type("session.updated"))
    assert update["properties"]["info"] == renamed

    assert (await http.delete(f"{base_url}/session/{second['id']}")).json() is True
    deleted = await log.wait_for(of_type("session.deleted"))
    assert deleted["properties"]["sessionID"] == second["id"]
    assert (await http.get(f"{base_url}/session/{second['id']}")).status_code == 404
    created = [e["properties"]["info"]["id"] for e in log.payloads
               if e["type"] == "session.created"]
    assert created == [first["id"], second["id"], child["id"]]


@pytest.mark.parametrize(("method", "path"), [
    ("GET", "/session/ses_nope"),
    ("PATCH", "/session/ses_nope"),
    ("DELETE", "/session/ses_nope"),
    ("GET", "/session/ses_nope/message"),
    ("GET", "/session/ses_nope/message/msg_nope"),
    ("POST", "/session/ses_nope/prompt_async"),
    ("POST", "/session/ses_nope/abort"),
])
async def test_unknown_session_is_a_404_not_found_error(
    base_url: str, http: httpx.AsyncClient, method: str, path: str
) -> None:
    body = {"title": "x"} if method == "PATCH" else (
        {"parts": [{"type": "text", "text": "x"}]} if "prompt" in path else None)
    response = await http.request(method, base_url + path, json=body)
    assert response.status_code == 404
    assert response.json()["name"] == "NotFoundError"
    assert "ses_nope" in response.json()["data"]["message"]


async def test_unknown_message_is_a_404(base_url: str, http: httpx.AsyncClient) -> None:
    session = (await http.post(f"{base_url}/session")).json()
    response = await http.get(f"{base_url}/session/{session['id']}/message/msg_nope")
    assert response.status_code == 404
    assert "msg_nope" in response.json()["data"]["message"]


@pytest.mark.parametrize(("body", "field"), [
    ({}, "parts"),
    ({"parts": []}, "parts"),
    ({"parts": [{"type": "text"}]}, "parts.0.text"),
    ({"parts": [{"type": "file", "url": "x"}]}, "parts.0.type"),
    ({"parts": [{"type": "text", "text": "x"}], "model": {"providerID": "scripted"}},
     "model.modelID"),
    ({"parts": [{"type": "text", "text": "x"}], "surprise": 1}, "surprise"),
    ({"parts": [{"type": "text", "text": "x"}],
      "model": {"providerID": "scripted", "modelID": "no-such-model"}}, "model.modelID"),
    ({"parts": [{"type": "text", "text": "x"}],
      "model": {"providerID": "openai", "modelID": "scripted-1"}}, "model.providerID"),
])
async def test_malformed_prompt_is_a_400_naming_the_field(
    base_url: str, http: httpx.AsyncClient, body: dict[str, Any], field: str
) -> None:
    session = (await http.post(f"{base_url}/session")).json()
    response = await http.post(f"{base_url}/session/{session['id']}/prompt_async", json=body)
    assert response.status_code == 400
    error = response.json()
    assert error["name"] == "BadRequest"
    assert error["data"]["field"] == field
    assert field in error["data"]["message"]


async def test_body_that_is_not_json_is_a_400(base_url: str, http: httpx.AsyncClient) -> None:
    response = await http.post(f"{base_url}/session", content=b"{not json",
                               headers={"content-type": "application/json"})
    assert response.status_code == 400
    assert "not valid JSON" in response.json()["data"]["message"]


@pytest.mark.parametrize("case", [
    ("POST", "/session", {"title": 5}, "title"),
    ("POST", "/session", {"parentID": "ses_missing"}, "parentID"),
    ("PATCH", "/session/{id}", {"title": ""}, "title"),
    ("GET", "/session/{id}/message?limit=-1", None, "limit"),
    ("GET", "/session/{id}/message?limit=many", None, "limit"),
])
async def test_other_bad_input_is_a_400(
    base_url: str, http: httpx.AsyncClient, case: tuple[str, str, Any, str]
) -> None:
    method, path, body, field = case
    session = (await http.post(f"{base_url}/session")).json()
    response = await http.request(method, base_url + path.format(id=session["id"]), json=body)
    assert response.status_code == 400
    assert response.json()["data"]["field"] == field


async def test_bad_last_event_id_is_a_400(base_url: str, http: httpx.AsyncClient) -> None:
    response = await http.get(f"{base_url}/event", headers={"Last-Event-ID": "abc"})
    assert response.status_code == 400
    assert response.json()["data"]["kind"] == "Headers"


async def test_unknown_route_is_a_json_404(base_url: str, http: httpx.AsyncClient) -> None:
    response = await http.get(f"{base_url}/nowhere")
    assert response.status_code == 404
    assert response.json()["name"] == "NotFoundError"


async def test_doc_serves_the_openapi_document(base_url: str, http: httpx.AsyncClient) -> None:
    document = (await http.get(f"{base_url}/doc")).json()
    assert document["openapi"].startswith("3.")
    assert {"/session", "/session/{sessionID}", "/session/{sessionID}/prompt_async",
            "/event", "/session/status"} <= set(document["paths"])


async def test_binds_loopback_by_default(base_url: str) -> None:
    assert base_url.startswith("http://127.0.0.1:")


async def test_password_protects_every_route(
    start_agent: Callable[..., str], http: httpx.AsyncClient, follow: Any
) -> None:
    base_url = start_agent(password="s3cret")
    for path in ("/session", "/event", "/doc", "/session/status"):
        response = await http.get(base_url + path)
        assert response.status_code == 401, path
        assert response.headers["www-authenticate"].startswith("Basic")
    wrong = await http.get(f"{base_url}/session", auth=("opencode", "nope"))
    assert wrong.status_code == 401
    right = await http.get(f"{base_url}/session", auth=("opencode", "s3cret"))
    assert right.status_code == 200
    log = await follow(base_url, auth=("opencode", "s3cret"))
    assert log.types() == ["server.connected"]
