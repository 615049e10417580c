"""Storage through factories on real SQLite, read back through the repository."""

from __future__ import annotations

from typing import Any

import pytest
import time_machine

from reference_app.server.db import Database, MessageRow, PartRow
from reference_app.server.repo import NotFound, Repository


def test_database_runs_in_wal_mode_with_a_busy_timeout(database: Database) -> None:
    assert database.journal_mode() == "wal"
    with database.engine.connect() as connection:
        assert connection.exec_driver_sql("PRAGMA busy_timeout").scalar_one() >= 5000
        assert connection.exec_driver_sql("PRAGMA foreign_keys").scalar_one() == 1


def test_session_json_shape(database: Database, rows: Any) -> None:
    row = rows.session(title="Fix the bug", cost=None, tokens_input=7, parent_id=None)
    info = Repository(database, "/w").get_session(row.id)
    assert info["title"] == "Fix the bug"
    assert info["cost"] is None  # unknown is null on the wire, not 0
    assert info["tokens"] == {"input": 7, "output": 0, "reasoning": 0,
                              "cache": {"read": 0, "write": 0}}
    assert set(info) >= {"id", "slug", "projectID", "directory", "title", "version", "time"}
    assert "parentID" not in info


def test_sessions_list_newest_first(database: Database, rows: Any) -> None:
    older = rows.session(time_updated=1)
    newer = rows.session(time_updated=2)
    listed = [s["id"] for s in Repository(database, "/w").list_sessions()]
    assert listed == [newer.id, older.id]


def test_messages_are_the_last_n_oldest_first_with_their_parts(
    database: Database, rows: Any
) -> None:
    session = rows.session()
    messages = [rows.message(session_id=session.id) for _ in range(5)]
    part = rows.part(message_id=messages[-1].id, data={"text": "last words"})
    listed = Repository(database, "/w").list_messages(session.id, limit=2)
    assert [m["info"]["id"] for m in listed] == [messages[3].id, messages[4].id]
    assert listed[1]["parts"] == [{"id": part.id, "sessionID": session.id,
                                   "messageID": messages[4].id, "type": "text",
                                   "text": "last words"}]
    assert listed[0]["parts"] == []


def test_created_sessions_carry_the_current_time(database: Database) -> None:
    with time_machine.travel(1_750_000_000, tick=False):
        info = Repository(database, "/w").create_session()
    assert info["time"] == {"created": 1_750_000_000_000, "updated": 1_750_000_000_000}
    assert info["cost"] == 0.0


def test_deleting_a_session_deletes_its_messages_and_parts(database: Database, rows: Any) -> None:
    message = rows.message()
    part = rows.part(message_id=message.id)
    repo = Repository(database, "/w")
    repo.delete_session(message.session_id)
    with database.read() as db:
        assert db.get(PartRow, part.id) is None
        assert db.get(MessageRow, message.id) is None
    with pytest.raises(NotFound, match="session"):
        repo.get_session(message.session_id)
