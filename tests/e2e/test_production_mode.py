"""Production mode on this machine: two Rasa and two action-server instances behind the
balancers, conversations in PostgreSQL, locks in Redis. Killing an instance mid-conversation
loses nothing: the conversation continues on the other with its history. Restarting
PostgreSQL or Redis loses nothing either; while one is down, citizens get a polite apology,
and afterwards their conversations continue where they were. Whatever happens, PostgreSQL and
Redis are running again when a test ends."""

from __future__ import annotations

import json
import os
import re
import subprocess
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager

import pytest
from sqlalchemy import create_engine, text

from common.settings import Settings
from e2e.chat import RestConversation
from e2e.test_rest_conversation import assert_reply
from helpers import response_texts
from stack.production import ProductionSettings, prepare, running_production_stack
from stack.services import Service
from stack.training import ensure_model
from storage.provision import drop_database
from storage.seed import demo_applicants

ADMIN_URL = os.environ.get("GOV_TEST_POSTGRES_URL",
                           "postgresql+psycopg://postgres@127.0.0.1:5432/test")
PG_CTL = "pg_ctlcluster --skip-systemctl-redirect $(ls /etc/postgresql) main"
REDIS_START = ("redis-server --daemonize yes --bind 127.0.0.1 -::1 --port 6379 --save '' "
               "--appendonly no --dir /var/lib/redis --logfile /var/log/redis/ci.log")
REDIS_STOP = "redis-cli shutdown nosave"


def _redis_up() -> bool:
    return subprocess.run(["redis-cli", "ping"], capture_output=True, text=True,
                          check=False).stdout.strip() == "PONG"


def _postgres_up() -> bool:
    engine = create_engine(ADMIN_URL)
    try:
        engine.connect().close()
        return True
    except Exception:
        return False
    finally:
        engine.dispose()


def _shell(command: str) -> None:
    subprocess.run(command, shell=True, check=False, capture_output=True, timeout=60)


def _until(check, seconds: float = 30) -> bool:
    deadline = time.monotonic() + seconds
    while not check():
        if time.monotonic() > deadline:
            return False
        time.sleep(0.2)
    return True


def ensure_postgres() -> bool:
    """Start the machine's PostgreSQL if it is installed but not running."""
    if not _postgres_up() and os.path.isdir("/etc/postgresql"):
        _shell(f"{PG_CTL} start")
    return _until(_postgres_up)


def ensure_redis() -> bool:
    if not _redis_up():
        _shell(REDIS_START)
    return _until(_redis_up, 10)


@contextmanager
def down(name: str) -> Iterator[None]:
    """PostgreSQL or Redis stopped for the duration of the block, and running again after it,
    even when the block fails."""
    stop = f"{PG_CTL} stop" if name == "postgresql" else REDIS_STOP
    up = _postgres_up if name == "postgresql" else _redis_up
    _shell(stop)
    assert _until(lambda: not up(), 15), f"{name} did not stop"
    try:
        yield
    finally:
        assert (ensure_postgres if name == "postgresql" else ensure_redis)(), \
            f"{name} did not come back"


@contextmanager
def production_stack(tmp_path_factory, name: str, api_token: str | None = None,
                     ) -> Iterator[tuple[Settings, ProductionSettings, dict[str, Service]]]:
    """A production stack of its own (database `gov_<name>_…`, the same as its Redis key and
    Socket.IO channel prefix), dropped afterwards; skips where PostgreSQL or Redis is absent."""
    if not ensure_postgres():
        pytest.skip("PostgreSQL is not installed here")
    if not ensure_redis():
        pytest.skip("Redis is not installed here")
    database = f"gov_{name}_{uuid.uuid4().hex[:8]}"
    settings = Settings().isolated(tmp_path_factory.mktemp("state"))
    # Rasa takes only letters and digits as the lock keys' prefix
    prod = ProductionSettings(pg_db=database, redis_prefix=database.replace("_", "")).isolated()
    prepare(settings, prod)
    try:
        with running_production_stack(settings, prod, ensure_model(settings),
                                      api_token=api_token) as services:
            yield settings, prod, {service.name: service for service in services}
    finally:
        ensure_postgres()
        ensure_redis()
        drop_database(prod.database_url)


@pytest.fixture(scope="module")
def production(tmp_path_factory):
    with production_stack(tmp_path_factory, "prod") as (settings, prod, services):
        yield settings, services, prod.pg_db


@pytest.fixture(autouse=True)
def _backends_left_running():
    yield
    assert ensure_postgres() and ensure_redis(), "PostgreSQL or Redis could not be restarted"


def apology(language: str) -> str:
    [text_] = response_texts("utter_service_unavailable", language)
    return text_


def sessions_and_events(database: str, sender: str) -> tuple[int, int]:
    """How many conversation sessions and events PostgreSQL holds for `sender`."""
    engine = create_engine(ADMIN_URL.rsplit("/", 1)[0] + f"/{database}")
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

    _shell(f"{PG_CTL} restart")
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
    engine = create_engine(ADMIN_URL.rsplit("/", 1)[0] + f"/{database}")
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
    engine = create_engine(ADMIN_URL.rsplit("/", 1)[0] + f"/{database}")
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
