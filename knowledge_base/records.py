"""What the knowledge base remembers about citizens' questions: unanswered ones and feedback.

Question text is masked (`common.privacy`) before it is stored.
"""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import func, select

from common.privacy import mask_personal_data
from storage.database import sessions
from storage.models import AnswerFeedback, UnansweredQuestion


@dataclass(frozen=True)
class UnansweredSummary:
    text: str
    language: str
    count: int
    last_seen: str


def record_unanswered(text: str, language: str, channel: str, best_score: float | None,
                      best_doc_id: str | None, url: str | None = None) -> None:
    with sessions(url).begin() as session:
        session.add(UnansweredQuestion(
            text=mask_personal_data(text)[:2000], language=language, channel=channel or "unknown",
            best_score=best_score, best_doc_id=best_doc_id,
        ))


def record_feedback(chunk_id: str, doc_id: str, helpful: bool, question: str, language: str,
                    channel: str, url: str | None = None) -> None:
    with sessions(url).begin() as session:
        session.add(AnswerFeedback(
            chunk_id=chunk_id, doc_id=doc_id, helpful=helpful,
            question=mask_personal_data(question)[:2000], language=language,
            channel=channel or "unknown",
        ))


def unanswered_summary(limit: int = 50, url: str | None = None) -> list[UnansweredSummary]:
    """Most frequent unanswered questions first (identical masked texts counted together)."""
    with sessions(url)() as session:
        rows = session.execute(
            select(UnansweredQuestion.text, UnansweredQuestion.language,
                   func.count().label("n"), func.max(UnansweredQuestion.created_at))
            .where(UnansweredQuestion.handled_by_doc_id.is_(None))
            .group_by(UnansweredQuestion.text, UnansweredQuestion.language)
            .order_by(func.count().desc(), func.max(UnansweredQuestion.created_at).desc())
            .limit(limit)
        ).all()
    return [UnansweredSummary(text, language, n, str(last)) for text, language, n, last in rows]
