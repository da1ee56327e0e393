"""Real embedders, loaded once for all knowledge-base tests."""

from __future__ import annotations

import pytest

from knowledge_base.config import KnowledgeBaseSettings
from knowledge_base.embedding import UniversalSentenceEncoder


@pytest.fixture(scope="session")
def use_embedder() -> UniversalSentenceEncoder:
    return UniversalSentenceEncoder()


@pytest.fixture
def kb_settings(tmp_path, monkeypatch) -> KnowledgeBaseSettings:
    monkeypatch.setenv("GOV_KB_DIR", str(tmp_path / "kb"))
    monkeypatch.setenv("GOV_DATABASE_URL", f"sqlite:///{tmp_path / 'gov.db'}")
    return KnowledgeBaseSettings()
