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


def markdown(doc_id: str, title: str, language: str, body: str, **meta: str) -> bytes:
    fields = {"id": doc_id, "title": title, "language": language,
              "department": meta.pop("department", "public_security"),
              "effective_date": meta.pop("effective_date", "2024-01-01"), **meta}
    front = "\n".join(f"{k}: {v}" for k, v in fields.items())
    return f"---\n{front}\n---\n# {title}\n\n{body}\n".encode()
