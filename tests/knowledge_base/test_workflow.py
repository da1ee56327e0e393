"""The draft -> publish workflow: versions, diff, rollback, and a failed re-index that leaves
the published document (and what the assistant serves) exactly as it was."""

from __future__ import annotations

import pytest

from helpers.knowledge import markdown
from knowledge_base.search import Searcher
from knowledge_base.service import KnowledgeBase
from knowledge_base.workflow import Workflow


@pytest.fixture
def workflow(kb_settings, use_embedder):
    return Workflow(KnowledgeBase(kb_settings, use_embedder))


def policy(fee: str) -> bytes:
    return markdown("tr-ferry-pass-en", "Ferry pass", "en", f"## Fees\n\nA ferry pass costs {fee}.",
                    department="transport")


def test_versions_diff_and_rollback(workflow):
    workflow.save_draft("ferry.md", policy("10 yuan"), None)
    assert workflow.publish("tr-ferry-pass-en", "li") == 1
    workflow.save_draft("ferry.md", policy("12 yuan"), None)
    assert workflow.publish("tr-ferry-pass-en", "wang") == 2
    assert "-A ferry pass costs 10 yuan." in workflow.diff("tr-ferry-pass-en", 1, 2)
    assert workflow.roll_back("tr-ferry-pass-en", 1, "zhao") == 3
    assert [v.published_by for v in workflow.versions("tr-ferry-pass-en")] == \
        ["li", "wang", "zhao"]
    assert "10 yuan" in workflow.kb.show("tr-ferry-pass-en").sections[0].text
    assert workflow.drafts.list() == []


def test_a_failed_reindex_keeps_the_published_version(workflow, monkeypatch):
    workflow.save_draft("ferry.md", policy("10 yuan"), None)
    workflow.publish("tr-ferry-pass-en", "li")
    workflow.save_draft("ferry.md", policy("99 yuan"), None)

    def broken_reindex():
        raise RuntimeError("disk full")

    monkeypatch.setattr(workflow.kb, "reindex", broken_reindex)
    with pytest.raises(RuntimeError):
        workflow.publish("tr-ferry-pass-en", "wang")
    assert "10 yuan" in workflow.kb.show("tr-ferry-pass-en").sections[0].text
    assert [v.number for v in workflow.versions("tr-ferry-pass-en")] == [1]
    assert workflow.drafts.get("tr-ferry-pass-en") is not None  # the edit is not lost
    hits = Searcher(workflow.kb.settings, workflow.kb.embedder).search("ferry pass fee", "en", 1)
    assert "10 yuan" in hits[0].text
