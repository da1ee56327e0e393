"""Production mode on this machine: two Rasa and two action-server instances behind the
balancers, conversations in PostgreSQL, locks in Redis. Killing an instance mid-conversation
loses nothing: the conversation continues on the other with its history. Restarting
PostgreSQL or Redis loses nothing either; while one is down, citizens get a polite apology,
and afterwards their conversations continue where they were. Whatever happens, PostgreSQL and
Redis are running again when a test ends."""

from __future__ import annotations

import json
import re
import time
from collections.abc import Iterator
from contextlib import contextmanager

import pytest
from sqlalchemy import create_engine, text

from helpers import response_texts
from helpers.backends import PG_CTL, POSTGRES_ADMIN_URL, down, ensure_postgres, ensure_redis, shell
from helpers.chat import RestConversation, assert_reply
from helpers.production import apology, production_stack
from storage.seed import demo_applicants


@pytest.fixture(scope="module")
def production(tmp_path_factory):
    with production_stack(tmp_path_factory, "prod") as (settings, prod, services):
        yield settings, services, prod.pg_db


@pytest.fixture(autouse=True)
def _backends_left_running():
    yield
    assert ensure_postgres() and ensure_redis(), "PostgreSQL or Redis could not be restarted"


def sessions_and_events(database: str, sender: str) -> tuple[int, int]:
    """How many conversation sessions and events PostgreSQL holds for `sender`."""
    engine = create_engine(POSTGRES_ADMIN_URL.rsplit("/", 1)[0] + f"/{database}")
    try:
        with engine.connect() as connection:
            rows = connection.execute(
                text("select type_name from events where sender_id = :s"), {"s": sender}).all()
    finally:
        engine.dispose()
    return sum(row[0] == "session_started" for row in rows), len(rows)


def test_postgresql_restart_loses_no_conversation_and_no_ticket(production):
    settings, _, database = production
    person = demo_applicants(5)[4]
    ticket = RestConversation(settings.rasa_url)
    [proposal] = ticket.texts("小区门口路灯坏了一个月，晚上黑漆漆的")
    assert proposal.startswith("我理解您反映的是：")  # the department is confirmed first
    assert_reply(ticket.texts("对"), "utter_ask_contact_digits", "zh")
    reference = re.search(r"T-\d{8}-\d{6}", ticket.texts("2468")[0]).group(0)
    check = RestConversation(settings.rasa_url)
    assert_reply(check.texts("I want to check my application"), "utter_ask_reference_number",
                 "en")
    before = sessions_and_events(database, check.sender)

    shell(f"{PG_CTL} restart")
    assert ensure_postgres()

    # Both Rasa instances and both action servers answer in turn (round robin): each has
    # pooled connections that died with the restart. The form goes on, in English.
    assert_reply(check.texts(person.number), "utter_ask_verification_code", "en")
    [status] = check.texts(person.phone[-4:])
    assert status.startswith(f"Application {person.number}")
    sessions, events = sessions_and_events(database, check.sender)
    assert sessions == before[0] == 1 and events > before[1]  # one conversation, continued
    followup = RestConversation(settings.rasa_url)
    assert_reply(followup.texts(f"what happened to my ticket {reference}"),
                 "utter_ask_verification_code", "en")
    assert followup.texts("2468")[0].startswith(f"Ticket {reference}")


def test_while_postgresql_is_down_citizens_get_an_apology_then_carry_on(production):
    settings, _, database = production
    chat = RestConversation(settings.rasa_url)
    assert_reply(chat.texts("I want to check my application"), "utter_ask_reference_number",
                 "en")
    with down("postgresql"):
        for message in ("GOV-2024-001234", "are you there?"):  # each Rasa instance once
            started = time.monotonic()
            texts = chat.texts(message)
            assert time.monotonic() - started < 10, "a citizen waited too long for an answer"
            assert apology("en") in texts, texts
            assert all(t in (apology("en"), apology("zh")) for t in texts), texts
    # back: the conversation is where it was before the outage, still in English
    assert_reply(chat.texts("GOV-2024-001234"), "utter_ask_verification_code", "en")
    assert sessions_and_events(database, chat.sender)[0] == 1


def test_while_redis_is_down_citizens_get_an_apology_then_carry_on(production):
    settings, _, _ = production
    chat = RestConversation(settings.rasa_url)
    assert_reply(chat.texts("我想查一下申请进度"), "utter_ask_reference_number", "zh")
    with down("redis"):
        for message in ("申请号我找一下", "还在吗？"):
            started = time.monotonic()
            assert chat.texts(message) == [apology("zh")]
            assert time.monotonic() - started < 10, "a citizen waited too long for an answer"
    # Redis kept nothing (no persistence), which a lock store does not need. Each Rasa
    # instance in turn reconnects, and the form goes on from one to the other.
    assert_reply(chat.texts("GOV-2024-001234"), "utter_ask_verification_code", "zh")
    assert_reply(chat.texts("0000"), "utter_verification_failed", "zh", attempts_left="2")


@contextmanager
def table_away(database: str, table: str) -> Iterator[None]:
    """One application table unreachable (renamed) while the conversation store works: what
    the action server meets when the application database fails on its own."""
    engine = create_engine(POSTGRES_ADMIN_URL.rsplit("/", 1)[0] + f"/{database}")
    try:
        with engine.begin() as connection:
            connection.execute(text(f"alter table {table} rename to {table}_away"))
        yield
    finally:
        with engine.begin() as connection:
            connection.execute(text(f"alter table if exists {table}_away rename to {table}"))
        engine.dispose()


def test_application_database_failing_mid_form_apologises_and_asks_again(production):
    """Not silence: the form's validation meets the failure, the citizen hears the apology and
    the question again, and no verification attempt was spent when the database is back."""
    settings, _, database = production
    person = demo_applicants(5)[3]
    chat = RestConversation(settings.rasa_url)
    assert_reply(chat.texts("I want to check my application"), "utter_ask_reference_number",
                 "en")
    with table_away(database, "lookup_attempts"):
        for _ in range(2):  # each Rasa and action-server instance once
            texts = chat.texts(person.number)
            assert texts[0] == apology("en"), texts
            assert_reply(texts[1:], "utter_ask_reference_number", "en")
    assert_reply(chat.texts(person.number), "utter_ask_verification_code", "en")
    with table_away(database, "applications"):
        texts = chat.texts(person.phone[-4:])
        assert texts[0] == apology("en"), texts
        assert_reply(texts[1:], "utter_ask_verification_code", "en")
    [status] = chat.texts(person.phone[-4:])
    assert status.startswith(f"Application {person.number}")


def test_every_service_logs_one_json_object_per_line(production):
    """Production mode logs JSON (GOV_LOG_FORMAT defaults to json there), including the errors
    of the outages above, with their service names."""
    _, services, _ = production
    ours = ["rasa server 1", "rasa server 2", "action server 1", "action server 2",
            "rasa balancer", "action balancer", "web chat", "staff api"]
    for name in ours:
        lines = services[name].log_path.read_text(encoding="utf-8").splitlines()
        entries = [json.loads(line) for line in lines]  # every line, or this fails
        assert entries and {e["service"] for e in entries} == {name.replace(" ", "-")}, name
    rasa = [json.loads(line) for name in ours[:2]
            for line in services[name].log_path.read_text(encoding="utf-8").splitlines()]
    turns = [e for e in rasa if e["message"] == "turn"]
    assert {e["outcome"] for e in turns} == {"ok", "error"} and {e["channel"] for e in turns} \
        == {"rest"}
    assert any(e["logger"] == "bot.resilience" and "exception" in e for e in rasa)


def test_a_rasa_instance_dies_mid_conversation_and_the_other_carries_on(production):
    settings, services, database = production
    chat = RestConversation(settings.rasa_url)
    assert set(chat.texts("我想查一下申请进度")) & \
        set(response_texts("utter_ask_reference_number", "zh"))
    services["rasa server 1"].stop()
    # the form's state lives in PostgreSQL: the surviving instance asks the next question
    for _ in range(2):  # whichever instance the balancer tries first
        texts = chat.texts("GOV-2024-001234")
        if texts:
            break
    assert set(texts) & set(response_texts("utter_ask_verification_code", "zh"))
    engine = create_engine(POSTGRES_ADMIN_URL.rsplit("/", 1)[0] + f"/{database}")
    with engine.connect() as connection:
        stored = connection.execute(text("select count(*) from events where sender_id = :s"),
                                    {"s": chat.sender}).scalar()
    engine.dispose()
    assert stored and stored > 4


def test_an_action_server_dies_and_answers_keep_coming(production):
    settings, services, _ = production
    services["action server 1"].stop()
    for question in ("公积金可以提取吗", "How do I register a marriage?"):
        texts = RestConversation(settings.rasa_url).texts(question)
        assert any("来源：" in t or "Source:" in t for t in texts), texts
