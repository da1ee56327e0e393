"""Tables. Text typed by citizens is stored only after `bot.privacy.mask_personal_data`."""

from __future__ import annotations

import datetime as dt

from sqlalchemy import Boolean, DateTime, Float, Integer, String, Text, func
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column


class Base(DeclarativeBase):
    pass


class UnansweredQuestion(Base):
    """A question the knowledge base could not answer confidently: what staff should write next."""

    __tablename__ = "unanswered_questions"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    text: Mapped[str] = mapped_column(Text)
    language: Mapped[str] = mapped_column(String(8))
    channel: Mapped[str] = mapped_column(String(32), default="unknown")
    best_score: Mapped[float | None] = mapped_column(Float, nullable=True)
    best_doc_id: Mapped[str | None] = mapped_column(String(120), nullable=True)
    handled_by_doc_id: Mapped[str | None] = mapped_column(String(120), nullable=True)
    created_at: Mapped[dt.datetime] = mapped_column(
        DateTime(timezone=True), server_default=func.now(), index=True
    )


class AnswerFeedback(Base):
    """A citizen's helpful / not helpful on an answer, tied to the passage that was shown."""

    __tablename__ = "answer_feedback"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    chunk_id: Mapped[str] = mapped_column(String(160), index=True)
    doc_id: Mapped[str] = mapped_column(String(120), index=True)
    helpful: Mapped[bool] = mapped_column(Boolean)
    question: Mapped[str] = mapped_column(Text, default="")
    language: Mapped[str] = mapped_column(String(8))
    channel: Mapped[str] = mapped_column(String(32), default="unknown")
    created_at: Mapped[dt.datetime] = mapped_column(
        DateTime(timezone=True), server_default=func.now(), index=True
    )
