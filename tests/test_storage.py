"""Migrations and the knowledge base's records, on SQLite and (when it runs here) PostgreSQL."""

from __future__ import annotations

from sqlalchemy import create_engine, inspect, text

from knowledge_base.records import record_feedback, record_unanswered, unanswered_summary
from storage.migrate import upgrade


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
