"""Tables. Text typed by citizens is stored only after `common.privacy.mask_personal_data`."""

from __future__ import annotations

import datetime as dt

from sqlalchemy import Boolean, Date, DateTime, Float, ForeignKey, Integer, String, Text, func
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column, relationship


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
    # Set when staff link a poorly rated answer to the document that now answers it.
    handled_by_doc_id: Mapped[str | None] = mapped_column(String(120), nullable=True)
    language: Mapped[str] = mapped_column(String(8))
    channel: Mapped[str] = mapped_column(String(32), default="unknown")
    created_at: Mapped[dt.datetime] = mapped_column(
        DateTime(timezone=True), server_default=func.now(), index=True
    )


def _now() -> dt.datetime:
    return dt.datetime.now(dt.timezone.utc)


class Department(Base):
    """A department citizens' requests are routed to; names and contacts in both languages."""

    __tablename__ = "departments"

    id: Mapped[str] = mapped_column(String(64), primary_key=True)
    name_zh: Mapped[str] = mapped_column(String(120))
    name_en: Mapped[str] = mapped_column(String(160))
    # Short names citizens use ("城管", "tax office"), separated by "|".
    aliases: Mapped[str] = mapped_column(Text, default="")
    responsibilities_zh: Mapped[str] = mapped_column(Text, default="")
    responsibilities_en: Mapped[str] = mapped_column(Text, default="")
    phone: Mapped[str] = mapped_column(String(40), default="")
    hotline: Mapped[str] = mapped_column(String(20), default="12345")
    address_zh: Mapped[str] = mapped_column(String(200), default="")
    address_en: Mapped[str] = mapped_column(String(200), default="")
    hours_zh: Mapped[str] = mapped_column(String(120), default="")
    hours_en: Mapped[str] = mapped_column(String(160), default="")
    portal: Mapped[str] = mapped_column(String(200), default="")
    response_days: Mapped[int] = mapped_column(Integer, default=5)


class Application(Base):
    """An application for a public service. The verification secrets are keyed, salted hashes
    (`storage.secrets`): the database alone cannot tell anyone the digits."""

    __tablename__ = "applications"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    number: Mapped[str] = mapped_column(String(20), unique=True, index=True)
    service_type: Mapped[str] = mapped_column(String(64), index=True)
    service_name_zh: Mapped[str] = mapped_column(String(120))
    service_name_en: Mapped[str] = mapped_column(String(160))
    applicant_name: Mapped[str] = mapped_column(String(120))
    phone_last4_hash: Mapped[str] = mapped_column(String(160))
    id_last4_hash: Mapped[str] = mapped_column(String(160))
    department_id: Mapped[str] = mapped_column(ForeignKey("departments.id"), index=True)
    status: Mapped[str] = mapped_column(String(40), index=True)
    next_step_zh: Mapped[str] = mapped_column(Text, default="")
    next_step_en: Mapped[str] = mapped_column(Text, default="")
    expected_completion: Mapped[dt.date | None] = mapped_column(Date, nullable=True)
    submitted_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True), default=_now)
    updated_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True), default=_now)

    department: Mapped[Department] = relationship(lazy="joined")
    history: Mapped[list[ApplicationEvent]] = relationship(
        back_populates="application", order_by="ApplicationEvent.at",
        cascade="all, delete-orphan",
    )


class ApplicationEvent(Base):
    """One step in an application's status history, worded for the citizen in both languages."""

    __tablename__ = "application_events"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    application_id: Mapped[int] = mapped_column(
        ForeignKey("applications.id", ondelete="CASCADE"), index=True
    )
    status: Mapped[str] = mapped_column(String(40))
    title_zh: Mapped[str] = mapped_column(String(120))
    title_en: Mapped[str] = mapped_column(String(160))
    note_zh: Mapped[str] = mapped_column(Text, default="")
    note_en: Mapped[str] = mapped_column(Text, default="")
    at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True), default=_now)

    application: Mapped[Application] = relationship(back_populates="history")


class Ticket(Base):
    """A complaint, report or request passed to a department. Text is stored masked."""

    __tablename__ = "tickets"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    reference: Mapped[str] = mapped_column(String(24), unique=True, index=True)
    department_id: Mapped[str] = mapped_column(ForeignKey("departments.id"), index=True)
    category: Mapped[str] = mapped_column(String(20))
    text: Mapped[str] = mapped_column(Text)
    channel: Mapped[str] = mapped_column(String(32), default="unknown")
    language: Mapped[str] = mapped_column(String(8))
    routing_confidence: Mapped[float] = mapped_column(Float, default=0.0)
    routed_by: Mapped[str] = mapped_column(String(16), default="classifier")
    phone_last4_hash: Mapped[str] = mapped_column(String(160))
    status: Mapped[str] = mapped_column(String(20), default="open", index=True)
    response_due: Mapped[dt.date | None] = mapped_column(Date, nullable=True)
    created_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True), default=_now,
                                                    index=True)
    # The conversation turn that filed it (a hash): an action call retried after the ticket
    # was written finds this ticket instead of filing a second one.
    request_key: Mapped[str | None] = mapped_column(String(64), unique=True, nullable=True)
    updated_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True), default=_now)

    department: Mapped[Department] = relationship(lazy="joined")
    history: Mapped[list[TicketEvent]] = relationship(
        back_populates="ticket", order_by="TicketEvent.at", cascade="all, delete-orphan"
    )


class TicketEvent(Base):
    """A status change or a department's note on a ticket, shown to the verified citizen."""

    __tablename__ = "ticket_events"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    ticket_id: Mapped[int] = mapped_column(ForeignKey("tickets.id", ondelete="CASCADE"),
                                           index=True)
    status: Mapped[str] = mapped_column(String(20))
    note_zh: Mapped[str] = mapped_column(Text, default="")
    note_en: Mapped[str] = mapped_column(Text, default="")
    at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True), default=_now)

    ticket: Mapped[Ticket] = relationship(back_populates="history")


class LookupAttempt(Base):
    """Audit of every status look-up; failures within the window drive the lockout."""

    __tablename__ = "lookup_attempts"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    conversation_id: Mapped[str] = mapped_column(String(160), index=True)
    channel: Mapped[str] = mapped_column(String(32), default="unknown")
    reference: Mapped[str] = mapped_column(String(24), index=True)
    outcome: Mapped[str] = mapped_column(String(16))  # verified | failed | locked
    at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True), default=_now, index=True)


class Handoff(Base):
    """A conversation waiting for (or taken by) a member of staff, with its masked transcript."""

    __tablename__ = "handoffs"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    conversation_id: Mapped[str] = mapped_column(String(160), index=True)
    channel: Mapped[str] = mapped_column(String(32), default="unknown")
    language: Mapped[str] = mapped_column(String(8))
    reason: Mapped[str] = mapped_column(String(32))  # requested | repeated_failure | locked_out
    transcript: Mapped[str] = mapped_column(Text)  # JSON list of {"sender", "text", "at"}
    status: Mapped[str] = mapped_column(String(16), default="waiting", index=True)
    within_office_hours: Mapped[bool] = mapped_column(Boolean, default=True)
    taken_by: Mapped[str | None] = mapped_column(String(120), nullable=True)
    created_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True), default=_now,
                                                    index=True)
    updated_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True), default=_now)


class StaffUser(Base):
    """A member of staff. Passwords are argon2 hashes; roles: editor, publisher, admin."""

    __tablename__ = "staff_users"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    username: Mapped[str] = mapped_column(String(64), unique=True, index=True)
    display_name: Mapped[str] = mapped_column(String(120), default="")
    password_hash: Mapped[str] = mapped_column(String(255))
    role: Mapped[str] = mapped_column(String(16))
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    failed_logins: Mapped[int] = mapped_column(Integer, default=0)
    locked_until: Mapped[dt.datetime | None] = mapped_column(DateTime(timezone=True),
                                                             nullable=True)
    created_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True), default=_now)


class StaffSession(Base):
    """A signed-in browser. Only a hash of the cookie's token is stored."""

    __tablename__ = "staff_sessions"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    token_hash: Mapped[str] = mapped_column(String(64), unique=True, index=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("staff_users.id", ondelete="CASCADE"),
                                         index=True)
    csrf_token: Mapped[str] = mapped_column(String(64))
    created_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True), default=_now)
    last_seen: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True), default=_now)

    user: Mapped[StaffUser] = relationship(lazy="joined")


class AuditEntry(Base):
    """Who did what, when: every staff action and every sign-in attempt."""

    __tablename__ = "audit_log"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True), default=_now, index=True)
    actor: Mapped[str] = mapped_column(String(64), index=True)
    action: Mapped[str] = mapped_column(String(48), index=True)
    target: Mapped[str] = mapped_column(String(200), default="")
    detail: Mapped[str] = mapped_column(Text, default="")
