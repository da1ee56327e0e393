"""A production stack of a test's own (instances behind balancers, PostgreSQL, Redis)."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from contextlib import contextmanager

import pytest

from common.settings import Settings
from helpers import response_texts
from helpers.backends import ensure_postgres, ensure_redis
from stack.production import ProductionSettings, prepare, running_production_stack
from stack.services import Service
from stack.training import ensure_model
from storage.provision import drop_database


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


def apology(language: str) -> str:
    """What citizens are told while a back end is down."""
    [text] = response_texts("utter_service_unavailable", language)
    return text
