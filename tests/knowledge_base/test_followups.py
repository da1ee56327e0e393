"""Follow-up questions: when the search with the previous question replaces the question's own."""

from __future__ import annotations

from knowledge_base.documents import Metadata
from knowledge_base.search import CONTEXT_MARGIN, Answer, Hit, choose, contextual_query


def answer(doc_id: str, confidence: float, threshold: float = 0.6) -> Answer:
    metadata = Metadata.from_mapping({"id": doc_id, "title": doc_id, "language": "zh",
                                      "department": "health"})
    hit = Hit(f"{doc_id}#0", doc_id, ("标题",), "", "zh", 0.5, 0.5, 0.0, metadata)
    return Answer([hit], confidence, threshold, "answerability")


def test_the_contextual_result_wins_only_when_clearly_more_likely_to_answer():
    alone, contextual = answer("rental-deposit", 0.30), answer("residence-permit", 0.85)
    chosen = choose(alone, contextual, margin=0.2)
    assert chosen.best.doc_id == "residence-permit" and chosen.used_context
    # Not far enough ahead: the question's own result stands.
    assert choose(answer("doc-a", 0.70), answer("doc-b", 0.80), margin=0.2).best.doc_id == "doc-a"
    assert not choose(answer("doc-a", 0.70), answer("doc-b", 0.80), margin=0.2).used_context


def test_a_contextual_result_that_would_be_declined_is_never_taken():
    alone, contextual = answer("doc-a", 0.10), answer("doc-b", 0.50)  # below the 0.6 threshold
    chosen = choose(alone, contextual, margin=0.0)
    assert chosen is alone and not chosen.answered


def test_an_empty_contextual_result_is_never_taken():
    alone = answer("doc-a", 0.7)
    assert choose(alone, Answer([], 0.0, 0.6, "answerability")) is alone


def test_default_margin_and_query():
    assert CONTEXT_MARGIN >= 0
    assert contextual_query(" 居住证怎么办 ", "要多久 ") == "居住证怎么办 要多久"
