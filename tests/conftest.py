"""Shared fixtures: a database of each kind the machine runs, and a private secret key."""

from __future__ import annotations

import uuid

import pytest
from sqlalchemy import create_engine, text

from helpers.backends import POSTGRES_ADMIN_URL, ensure_postgres


@pytest.fixture
def postgres_url():
    """A fresh schema in the machine's PostgreSQL, started if it is installed but stopped."""
    if not ensure_postgres():
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


@pytest.fixture(autouse=True)
def _private_secret_key(tmp_path, monkeypatch):
    """Verification hashes are keyed; each test gets its own key file."""
    monkeypatch.setenv("GOV_SECRET_KEY_FILE", str(tmp_path / "secret.key"))


@pytest.fixture
def workspace(database_url, monkeypatch, tmp_path):
    """The staff service on a free port (imported lazily: the Rasa environment has no staff
    dependencies)."""
    from helpers.staff import run_workspace

    yield from run_workspace(database_url, monkeypatch, tmp_path)


@pytest.fixture(scope="session")
def sample_searcher(tmp_path_factory):
    """A searcher over the shipped sample knowledge base, in a folder of its own."""
    import dataclasses

    from actions import knowledge
    from knowledge_base.config import KnowledgeBaseSettings
    from knowledge_base.search import Searcher
    from knowledge_base.service import KnowledgeBase

    settings = dataclasses.replace(KnowledgeBaseSettings(),
                                   home=tmp_path_factory.mktemp("kb"), answerability="")
    kb = KnowledgeBase(settings, knowledge.searcher().embedder)
    kb.seed_sample()
    return Searcher(settings, knowledge.searcher().embedder)
