"""Engine and sessions from one URL: GOV_DATABASE_URL, default SQLite under the state folder."""

from __future__ import annotations

from functools import lru_cache

from sqlalchemy import Engine, create_engine, event
from sqlalchemy.orm import Session, sessionmaker

from common.registry import setting
from common.settings import default_state_dir


def database_url() -> str:
    url = setting("GOV_DATABASE_URL")
    if url:
        return url
    state = default_state_dir()
    state.mkdir(parents=True, exist_ok=True)
    return f"sqlite:///{state / 'gov.db'}"


def make_engine(url: str | None = None) -> Engine:
    url = url or database_url()
    if url.startswith("sqlite"):
        engine = create_engine(url, connect_args={"timeout": 30})

        @event.listens_for(engine, "connect")
        def _sqlite_pragmas(connection, _record) -> None:  # WAL: readers never block writers
            cursor = connection.cursor()
            cursor.execute("PRAGMA journal_mode=WAL")
            cursor.execute("PRAGMA foreign_keys=ON")
            cursor.close()

        return engine
    return create_engine(url, pool_pre_ping=True)


def sessions(url: str | None = None) -> sessionmaker[Session]:
    """A session factory per database URL (default: GOV_DATABASE_URL as set now), created once
    per process and URL."""
    return _sessions(url or database_url())


@lru_cache(maxsize=8)
def _sessions(url: str) -> sessionmaker[Session]:
    return sessionmaker(make_engine(url), expire_on_commit=False)
