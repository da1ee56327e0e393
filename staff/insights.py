"""What staff should look at: unanswered questions grouped by meaning, and simple analytics.

Analytics read the conversation store Rasa writes (its `events` table; SQLite by default,
the same schema in PostgreSQL) and the application database.
"""

from __future__ import annotations

import datetime as dt
import json
from collections import Counter, defaultdict
from dataclasses import dataclass, field

import numpy as np
from sqlalchemy import case, create_engine, func, select, text, update

from bot.text import detect_language
from common.settings import Settings
from knowledge_base.config import DEFAULT_MODEL
from knowledge_base.embedding import load_embedder
from storage.database import sessions
from storage.models import AnswerFeedback, Ticket, UnansweredQuestion

SIMILAR = 0.72  # cosine similarity above which two questions are "the same question"


UNANSWERED, POORLY_RATED = "u", "f"


@dataclass
class QuestionGroup:
    ids: list[str]  # "u:<unanswered id>" or "f:<not-helpful feedback id>"
    examples: list[str]
    languages: set[str] = field(default_factory=set)

    @property
    def count(self) -> int:
        return len(self.ids)

    @property
    def poorly_rated(self) -> int:
        return sum(1 for key in self.ids if key.startswith(POORLY_RATED))


@dataclass(frozen=True)
class _Question:
    key: str
    text: str
    language: str


def _open_questions(limit: int, url: str | None) -> list[_Question]:
    """Unanswered questions and questions whose answer was rated not helpful, not yet handled."""
    with sessions(url)() as session:
        unanswered = session.execute(
            select(UnansweredQuestion.id, UnansweredQuestion.text, UnansweredQuestion.language)
            .where(UnansweredQuestion.handled_by_doc_id.is_(None))
            .order_by(UnansweredQuestion.created_at.desc()).limit(limit)).all()
        rated = session.execute(
            select(AnswerFeedback.id, AnswerFeedback.question, AnswerFeedback.language)
            .where(AnswerFeedback.helpful.is_(False), AnswerFeedback.question != "",
                   AnswerFeedback.handled_by_doc_id.is_(None))
            .order_by(AnswerFeedback.created_at.desc()).limit(limit)).all()
    return [_Question(f"{UNANSWERED}:{i}", t, lang) for i, t, lang in unanswered] + \
        [_Question(f"{POORLY_RATED}:{i}", t, lang) for i, t, lang in rated]


def unanswered_groups(limit: int = 2000, url: str | None = None) -> list[QuestionGroup]:
    """Open unanswered and poorly rated questions, greedily grouped by sentence-embedding
    similarity, the biggest group first."""
    rows = _open_questions(limit, url)
    if not rows:
        return []
    vectors = load_embedder(DEFAULT_MODEL).encode([row.text for row in rows])
    groups: list[QuestionGroup] = []
    centres: list[np.ndarray] = []
    for row, vector in zip(rows, vectors, strict=True):
        scores = [float(centre @ vector) for centre in centres]
        best = int(np.argmax(scores)) if scores else -1
        if best >= 0 and scores[best] >= SIMILAR:
            group = groups[best]
            group.ids.append(row.key)
            if len(group.examples) < 3 and row.text not in group.examples:
                group.examples.append(row.text)
        else:
            group = QuestionGroup([row.key], [row.text])
            groups.append(group)
            centres.append(vector)
        group.languages.add(row.language)
    return sorted(groups, key=lambda group: -group.count)


def _by_kind(keys: list[str]) -> dict[str, list[int]]:
    by_kind: dict[str, list[int]] = {UNANSWERED: [], POORLY_RATED: []}
    for key in keys:
        kind, _, number = key.partition(":")
        if kind in by_kind and number.isdigit():
            by_kind[kind].append(int(number))
    return by_kind


def question_texts(keys: list[str], url: str | None = None) -> list[str]:
    """The (masked) texts of open questions, for making them a document's questions."""
    by_kind = _by_kind(keys)
    with sessions(url)() as session:
        texts = list(session.scalars(select(UnansweredQuestion.text).where(
            UnansweredQuestion.id.in_(by_kind[UNANSWERED]))))
        texts += session.scalars(select(AnswerFeedback.question).where(
            AnswerFeedback.id.in_(by_kind[POORLY_RATED])))
    return list(dict.fromkeys(text.strip() for text in texts if text and text.strip()))


def mark_handled(keys: list[str], doc_id: str, url: str | None = None) -> int:
    """Link a group's questions to the document that now answers them."""
    by_kind = _by_kind(keys)
    changed = 0
    with sessions(url).begin() as session:
        for kind, table in ((UNANSWERED, UnansweredQuestion), (POORLY_RATED, AnswerFeedback)):
            if by_kind[kind]:
                result = session.execute(update(table).where(table.id.in_(by_kind[kind]))
                                         .values(handled_by_doc_id=doc_id))
                changed += result.rowcount or 0
    return changed


@dataclass
class Analytics:
    days: int
    per_day: dict[str, Counter] = field(default_factory=dict)  # day -> (channel, language)
    top_intents: list[tuple[str, int]] = field(default_factory=list)
    questions_answered: int = 0
    questions_unanswered: int = 0
    feedback: int = 0
    helpful: int = 0
    tickets_by_department: list[tuple[str, int]] = field(default_factory=list)

    @property
    def answered_rate(self) -> float:
        total = self.questions_answered + self.questions_unanswered
        return self.questions_answered / total if total else 0.0

    @property
    def feedback_rate(self) -> float:
        return self.feedback / self.questions_answered if self.questions_answered else 0.0


def analytics(days: int = 30, tracker_url: str | None = None,
              url: str | None = None) -> Analytics:
    since = dt.datetime.now(dt.timezone.utc) - dt.timedelta(days=days)
    report = Analytics(days)
    tracker_url = tracker_url or f"sqlite:///{Settings().tracker_db}"
    per_day: dict[str, Counter] = defaultdict(Counter)
    intents: Counter = Counter()
    engine = create_engine(tracker_url)
    try:
        with engine.connect() as connection:
            rows = connection.execute(text(
                "select type_name, timestamp, intent_name, action_name, data from events "
                "where timestamp >= :since and (type_name = 'user' or action_name = "
                "'action_answer_question')"), {"since": since.timestamp()}).all()
    except Exception:  # no conversations yet: Rasa has not created its table
        rows = []
    finally:
        engine.dispose()
    answers = 0
    for type_name, timestamp, intent, action, data in rows:
        if type_name != "user":
            answers += action == "action_answer_question"
            continue
        payload = json.loads(data or "{}")
        said = payload.get("text") or ""
        if said.startswith("/"):
            continue  # buttons and channel events are not questions
        day = dt.datetime.fromtimestamp(timestamp, dt.timezone.utc).date().isoformat()
        channel = payload.get("input_channel") or "unknown"
        per_day[day][(channel, detect_language(said).language or "zh")] += 1
        intents[intent or "unknown"] += 1
    with sessions(url)() as session:
        unanswered = session.scalar(select(func.count()).select_from(UnansweredQuestion)
                                    .where(UnansweredQuestion.created_at >= since)) or 0
        feedback = session.execute(
            select(func.count(), func.sum(case((AnswerFeedback.helpful, 1), else_=0)))
            .where(AnswerFeedback.created_at >= since)).one()
        tickets = session.execute(select(Ticket.department_id, func.count())
                                  .where(Ticket.created_at >= since)
                                  .group_by(Ticket.department_id)
                                  .order_by(func.count().desc())).all()
    report.per_day = dict(sorted(per_day.items(), reverse=True))
    report.top_intents = intents.most_common(10)
    report.questions_unanswered = unanswered
    report.questions_answered = max(answers - unanswered, 0)
    report.feedback, report.helpful = int(feedback[0] or 0), int(feedback[1] or 0)
    report.tickets_by_department = [(department, count) for department, count in tickets]
    return report
