"""SQLite storage: the session, message and part tables and the engine that reaches them.

The engine runs SQLite in WAL mode with a busy timeout, so readers never block the writer and
concurrent writers queue instead of failing. SQLAlchemy, not the sqlite3 module, emits BEGIN
(the recipe from SQLAlchemy's SQLite dialect notes): reads get a plain BEGIN and writes
`BEGIN IMMEDIATE`, which takes the write lock up front so a read-then-write transaction can
never deadlock against another writer.
"""

from __future__ import annotations

import sqlite3
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from sqlalchemy import (
    JSON,
    Engine,
    Float,
    ForeignKey,
    Integer,
    String,
    create_engine,
    event,
)
from sqlalchemy.orm import DeclarativeBase, Mapped, Session, mapped_column
from sqlalchemy.pool import ConnectionPoolEntry

__all__ = [
    "Base",
    "Database",
    "MessageRow",
    "PartRow",
    "ServerLifeRow",
    "SessionRow",
    "make_engine",
]

_BEGIN_OPTION = "freshness_begin"
BUSY_TIMEOUT_MS = 10_000


class Base(DeclarativeBase):
    pass


class SessionRow(Base):
    __tablename__ = "session"

    id: Mapped[str] = mapped_column(String, primary_key=True)
    slug: Mapped[str] = mapped_column(String)
    title: Mapped[str] = mapped_column(String)
    parent_id: Mapped[str | None] = mapped_column(String, nullable=True)
    directory: Mapped[str] = mapped_column(String)
    # NULL means unknown spend (an unpriced model ran here); NULL + x stays NULL in SQL,
    # which is exactly the "unknown stays unknown" rule. No column default: the ORM would
    # put it in place of an explicit None, turning unknown into $0.
    cost: Mapped[float | None] = mapped_column(Float, nullable=True)
    tokens_input: Mapped[int] = mapped_column(Integer, default=0)
    tokens_output: Mapped[int] = mapped_column(Integer, default=0)
    tokens_reasoning: Mapped[int] = mapped_column(Integer, default=0)
    tokens_cache_read: Mapped[int] = mapped_column(Integer, default=0)
    tokens_cache_write: Mapped[int] = mapped_column(Integer, default=0)
    time_created: Mapped[int] = mapped_column(Integer)
    time_updated: Mapped[int] = mapped_column(Integer, index=True)


class MessageRow(Base):
    __tablename__ = "message"

    id: Mapped[str] = mapped_column(String, primary_key=True)
    session_id: Mapped[str] = mapped_column(
        ForeignKey("session.id", ondelete="CASCADE"), index=True
    )
    role: Mapped[str] = mapped_column(String)
    time_created: Mapped[int] = mapped_column(Integer)
    time_completed: Mapped[int | None] = mapped_column(Integer, nullable=True)
    cost: Mapped[float | None] = mapped_column(Float, nullable=True)
    tokens_input: Mapped[int] = mapped_column(Integer, default=0)
    tokens_output: Mapped[int] = mapped_column(Integer, default=0)
    tokens_reasoning: Mapped[int] = mapped_column(Integer, default=0)
    tokens_cache_read: Mapped[int] = mapped_column(Integer, default=0)
    tokens_cache_write: Mapped[int] = mapped_column(Integer, default=0)
    finish: Mapped[str | None] = mapped_column(String, nullable=True)
    error: Mapped[dict[str, Any] | None] = mapped_column(JSON, nullable=True)
    # The fields that never change after creation (modelID, agent, path, ...).
    info: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)


class ServerLifeRow(Base):
    """One row per server start on this data folder. Its id numbers the life, which keeps
    event sequences of different lives apart (see `Database.start_life`)."""

    __tablename__ = "server_life"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    time_started: Mapped[int] = mapped_column(Integer)


class PartRow(Base):
    __tablename__ = "part"

    id: Mapped[str] = mapped_column(String, primary_key=True)
    message_id: Mapped[str] = mapped_column(
        ForeignKey("message.id", ondelete="CASCADE"), index=True
    )
    session_id: Mapped[str] = mapped_column(String, index=True)
    type: Mapped[str] = mapped_column(String)
    # The part's own fields in wire shape, minus the three ids held in columns.
    data: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)


def make_engine(path: Path) -> Engine:
    """An engine on the SQLite file at `path`, configured for WAL and explicit BEGIN."""
    engine = create_engine(
        f"sqlite:///{path}",
        connect_args={"timeout": BUSY_TIMEOUT_MS / 1000, "check_same_thread": False},
    )

    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_connection: sqlite3.Connection, _record: ConnectionPoolEntry) -> None:
        # Take BEGIN away from the sqlite3 module; _on_begin emits it instead.
        dbapi_connection.isolation_level = None
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA journal_mode=WAL")
        cursor.execute(f"PRAGMA busy_timeout={BUSY_TIMEOUT_MS}")
        cursor.execute("PRAGMA foreign_keys=ON")
        # NORMAL is durable across application crashes in WAL mode and much faster.
        cursor.execute("PRAGMA synchronous=NORMAL")
        cursor.close()

    @event.listens_for(engine, "begin")
    def _on_begin(connection: Any) -> None:
        mode = connection.get_execution_options().get(_BEGIN_OPTION, "DEFERRED")
        connection.exec_driver_sql(f"BEGIN {mode}")

    return engine


class Database:
    """The data folder's SQLite database. Thread-safe: every call checks out its own
    pooled connection, so threads never share one."""

    def __init__(self, path: Path) -> None:
        path.parent.mkdir(parents=True, exist_ok=True)
        self.path = path
        self.engine = make_engine(path)
        self._write_engine = self.engine.execution_options(**{_BEGIN_OPTION: "IMMEDIATE"})
        # SQLite admits one writer at a time anyway. Queueing this process's writers on a
        # lock is fair and quick, where SQLite's busy handler would make them sleep and
        # retry (up to 100 ms a try). Other processes still meet the busy timeout.
        self._writer = threading.Lock()
        Base.metadata.create_all(self.engine)

    @contextmanager
    def read(self) -> Iterator[Session]:
        with Session(self.engine, expire_on_commit=False) as session, session.begin():
            yield session

    @contextmanager
    def write(self) -> Iterator[Session]:
        """One write transaction: committed when the block ends, rolled back on error."""
        with (self._writer, Session(self._write_engine, expire_on_commit=False) as session,
              session.begin()):
            yield session

    def start_life(self, started_ms: int) -> int:
        """Records a server start and returns its number: 1 for the first on this folder."""
        with self.write() as db:
            row = ServerLifeRow(time_started=started_ms)
            db.add(row)
            db.flush()
            return row.id

    def journal_mode(self) -> str:
        with self.engine.connect() as connection:
            return str(connection.exec_driver_sql("PRAGMA journal_mode").scalar_one())

    def close(self) -> None:
        self.engine.dispose()
