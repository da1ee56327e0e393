"""Migrations and the knowledge base's records, on SQLite and (when it runs here) PostgreSQL."""

from __future__ import annotations

import os
import subprocess
import uuid

import pytest
from sqlalchemy import create_engine, inspect, text

from knowledge_base.records import record_feedback, record_unanswered, unanswered_summary
from storage.migrate import upgrade

POSTGRES_ADMIN_URL = os.environ.get("GOV_TEST_POSTGRES_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/test")
START_POSTGRES = "pg_ctlcluster --skip-systemctl-redirect $(ls /etc/postgresql) main start"


def _postgres_available() -> bool:
    try:
        with create_engine(POSTGRES_ADMIN_URL).connect() as connection:
            connection.execute(text("select 1"))
        return True
    except Exception:
        return False


@pytest.fixture(scope="module")
def postgres_url():
    """A fresh schema in the machine's PostgreSQL, started if it is installed but stopped."""
    if not _postgres_available() and os.path.isdir("/etc/postgresql"):
        subprocess.run(START_POSTGRES, shell=True, check=False, capture_output=True)
    if not _postgres_available():
        pytest.skip("PostgreSQL is not installed on this machine")
    schema = f"t_{uuid.uuid4().hex[:10]}"
    engine = create_engine(POSTGRES_ADMIN_URL)
    with engine.begin() as connection:
        connection.execute(text(f"create schema {schema}"))
    yield f"{POSTGRES_ADMIN_URL}?options=-csearch_path%3D{schema}"
    with engine.begin() as connection:
        connection.execute(text(f"drop schema {schema} cascade"))


@pytest.fixture(params=["sqlite", "postgresql"])
def database_url(request, tmp_path):
    if request.param == "sqlite":
        return f"sqlite:///{tmp_path / 'gov.db'}"
    return request.getfixturevalue("postgres_url")


def test_migrations_create_the_tables(database_url):
    upgrade(database_url)
    upgrade(database_url)  # idempotent
    tables = set(inspect(create_engine(database_url)).get_table_names())
    assert {"unanswered_questions", "answer_feedback", "alembic_version"} <= tables


def test_unanswered_questions_are_masked_and_grouped(database_url):
    upgrade(database_url)
    for _ in range(2):
        record_unanswered("我的电话13812345678，狗证怎么办", "zh", "rest", 0.2, None,
                          url=database_url)
    record_unanswered("how do I license a dog", "en", "socketio", 0.3, "x", url=database_url)
    summary = unanswered_summary(url=database_url)
    assert summary[0].count == 2
    assert "13812345678" not in summary[0].text and "[PHONE ****5678]" in summary[0].text
    assert {row.language for row in summary} == {"zh", "en"}


def test_feedback_is_recorded(database_url):
    upgrade(database_url)
    record_feedback("doc#1", "doc", True, "身份证110101199003071234", "zh", "rest",
                    url=database_url)
    with create_engine(database_url).connect() as connection:
        row = connection.execute(text("select helpful, question from answer_feedback")).one()
    assert bool(row[0]) is True and "110101199003071234" not in row[1]
