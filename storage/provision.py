"""`python -m storage.provision [--drop] [URL]` — create the PostgreSQL database named in URL
(default GOV_DATABASE_URL) if it does not exist yet (production mode's first start), or drop it
(benchmarks' throw-away databases)."""

from __future__ import annotations

import sys

from sqlalchemy import create_engine, text
from sqlalchemy.engine import make_url

from common.registry import setting


def ensure_database(url: str) -> bool:
    """True if the database had to be created."""
    target = make_url(url)
    if not target.drivername.startswith("postgresql"):
        return False
    server = create_engine(target.set(database="postgres"), isolation_level="AUTOCOMMIT")
    try:
        with server.connect() as connection:
            exists = connection.execute(text("select 1 from pg_database where datname = :name"),
                                        {"name": target.database}).scalar()
            if not exists:
                connection.execute(text(f'create database "{target.database}"'))
            return not exists
    finally:
        server.dispose()


def drop_database(url: str) -> None:
    target = make_url(url)
    server = create_engine(target.set(database="postgres"), isolation_level="AUTOCOMMIT")
    try:
        with server.connect() as connection:
            connection.execute(text(f'drop database if exists "{target.database}" with (force)'))
    finally:
        server.dispose()


def main(argv: list[str]) -> None:
    """The URL may contain a password: the stack passes it as GOV_DATABASE_URL, never as an
    argument (a command line is readable by every user in /proc)."""
    drop = argv[:1] == ["--drop"]
    url = (argv[1:] if drop else argv)[:1] or [setting("GOV_DATABASE_URL") or ""]
    if not url[0]:
        raise SystemExit("usage: python -m storage.provision [--drop] [URL]; "
                         "without URL, GOV_DATABASE_URL")
    if drop:
        drop_database(url[0])
        print("database dropped")
    else:
        created = ensure_database(url[0])
        print("database created" if created else "database exists")


if __name__ == "__main__":
    main(sys.argv[1:])
