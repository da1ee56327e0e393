"""Knowledge-base documents written by tests, and the running stack's reload interval."""

from __future__ import annotations


def markdown(doc_id: str, title: str, language: str, body: str, **meta: str) -> bytes:
    """A policy document as an editor would upload it (front matter, then the text)."""
    fields = {"id": doc_id, "title": title, "language": language,
              "department": meta.pop("department", "public_security"),
              "effective_date": meta.pop("effective_date", "2024-01-01"), **meta}
    front = "\n".join(f"{k}: {v}" for k, v in fields.items())
    return f"---\n{front}\n---\n# {title}\n\n{body}\n".encode()


def stack_reload_seconds() -> float:
    """How long a running action server may take to notice a new index."""
    from knowledge_base.config import KnowledgeBaseSettings

    return KnowledgeBaseSettings().reload_interval
