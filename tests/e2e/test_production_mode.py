"""Production mode on this machine: two Rasa and two action-server instances behind the
balancers, conversations in PostgreSQL, locks in Redis. Killing an instance mid-conversation
loses nothing: the conversation continues on the other with its history."""

from __future__ import annotations

import os
import subprocess
import uuid

import pytest
from sqlalchemy import create_engine, text

from e2e.chat import RestConversation
from helpers import response_texts
from stack.production import ProductionSettings, prepare, running_production_stack
from stack.settings import Settings
from stack.training import ensure_model
from storage.provision import drop_database

ADMIN_URL = os.environ.get("GOV_TEST_POSTGRES_URL",
                           "postgresql+psycopg://postgres@127.0.0.1:5432/test")
REDIS_START = ("redis-server --daemonize yes --bind 127.0.0.1 -::1 --port 6379 --save '' "
               "--appendonly no --dir /var/lib/redis --logfile /var/log/redis/ci.log")


def _redis_up() -> bool:
    return subprocess.run(["redis-cli", "ping"], capture_output=True, text=True,
                          check=False).stdout.strip() == "PONG"


@pytest.fixture(scope="module")
def production(tmp_path_factory):
    try:
        create_engine(ADMIN_URL).connect().close()
    except Exception:
        pytest.skip("PostgreSQL is not running here")
    if not _redis_up():
        subprocess.run(REDIS_START, shell=True, check=False, capture_output=True)
    if not _redis_up():
        pytest.skip("Redis is not running here")
    database = f"gov_prod_{uuid.uuid4().hex[:8]}"
    settings = Settings().isolated(tmp_path_factory.mktemp("state"))
    prod = ProductionSettings(pg_db=database, redis_prefix=database).isolated()
    prepare(settings, prod)
    try:
        with running_production_stack(settings, prod, ensure_model(settings)) as services:
            yield settings, {service.name: service for service in services}, database
    finally:
        drop_database(prod.database_url)


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
