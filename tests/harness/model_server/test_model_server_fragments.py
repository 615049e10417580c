from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st

from harness.model_server.fragments import split_json, split_text


@given(st.text())
def test_text_pieces_join_back_exactly(text: str) -> None:
    assert "".join(split_text(text)) == text


def test_text_is_cut_at_word_ends() -> None:
    assert split_text("Reading the  file\n") == ["Reading ", "the  ", "file\n"]
    assert split_text("") == []


@given(st.text(), st.integers(min_value=1, max_value=40))
def test_json_pieces_join_back_and_respect_the_size(encoded: str, size: int) -> None:
    pieces = split_json(encoded, size)
    assert "".join(pieces) == encoded
    assert all(0 < len(piece) <= size for piece in pieces)
