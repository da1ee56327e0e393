"""Applications, status look-ups, tickets and the handoff queue on SQLite and PostgreSQL."""

from __future__ import annotations

import datetime as dt
import re
from concurrent.futures import ThreadPoolExecutor

import pytest
from sqlalchemy import create_engine, select, text, update
from sqlalchemy.orm import Session

from storage import lookups
from storage.clock import utc_now
from storage.handoffs import enqueue, list_handoffs, set_status
from storage.lookups import FAILED, LOCKED, VERIFIED, is_locked, look_up, status_view
from storage.migrate import upgrade
from storage.models import Application, LookupAttempt
from storage.seed import demo_applicants, seed_applications, seed_departments
from storage.tickets import categorize, create_ticket, update_ticket


@pytest.fixture
def db(database_url):
    upgrade(database_url)
    seed_departments(database_url)
    seed_applications(12, database_url)
    return database_url


@pytest.fixture
def applicant(db):
    return demo_applicants(12)[0]


def test_seed_is_idempotent_and_realistic(db):
    assert seed_applications(12, db) == 0
    assert seed_departments(db) >= 14
    with Session(create_engine(db)) as session:
        applications = session.scalars(select(Application)).all()
        assert len(applications) == 12
        for application in applications:
            assert application.history and application.history[-1].status == application.status
            assert application.department_id and application.service_name_zh
            assert application.next_step_zh and application.next_step_en
            assert re.fullmatch(r"GOV-\d{4}-\d{6}", application.number)
            # keyed, salted hashes: never the digits, never the same twice
            assert application.phone_last4_hash != application.id_last4_hash
            assert not re.search(r"\$\d{4}$", application.phone_last4_hash)


def test_demo_applicants_are_stable():
    assert demo_applicants(3) == demo_applicants(40)[:3]


def test_demo_applications_in_progress_are_not_already_overdue(tmp_path):
    """Every demo application still being handled is within its time limit: one "received"
    months ago and due long since would look overdue to everyone trying the demo."""
    url = f"sqlite:///{tmp_path / 'demo.db'}"
    upgrade(url)
    seed_departments(url)
    seed_applications(200, url)
    today = utc_now().date()
    with Session(create_engine(url)) as session:
        applications = session.scalars(select(Application)).all()
    in_progress = [a for a in applications if a.expected_completion is not None]
    assert len(in_progress) > 50 and len(in_progress) < len(applications)
    assert all(a.expected_completion >= today for a in in_progress)


def test_a_verified_citizen_sees_the_status_in_their_language(db, applicant):
    for secret in (applicant.phone[-4:], applicant.id_card[-4:]):
        assert look_up(applicant.number, secret, "c1", "rest", url=db).outcome == VERIFIED
    zh = status_view(applicant.number, "zh", url=db)
    en = status_view(applicant.number, "en", url=db)
    assert zh.reference == en.reference == applicant.number
    assert zh.subject == applicant.service["name"]["zh"]
    assert en.subject == applicant.service["name"]["en"]
    assert zh.history and zh.department.name != en.department.name
    assert zh.department.phone and en.department.address


def test_unknown_number_and_wrong_secret_look_the_same(db, applicant):
    wrong = "0000" if applicant.phone[-4:] != "0000" else "1111"
    unknown = look_up("GOV-1999-000001", applicant.phone[-4:], "c2", "rest", url=db)
    mismatch = look_up(applicant.number, wrong, "c3", "rest", url=db)
    assert unknown == mismatch == lookups.LookupResult(FAILED, failures_left=2)


def test_three_failures_lock_the_conversation(db, applicant):
    right, wrong = applicant.phone[-4:], "XXXX"
    others = demo_applicants(12)[1]
    results = [look_up(applicant.number, wrong, "attacker", "rest", url=db)
               for _ in range(3)]
    assert [result.outcome for result in results] == [FAILED, FAILED, LOCKED]
    assert results[-1].retry_after == 15 * 60
    # the right digits do not help now in this conversation, nor does another number
    assert look_up(applicant.number, right, "attacker", "rest", url=db).outcome == LOCKED
    assert look_up(others.number, others.phone[-4:], "attacker", "rest", url=db).outcome == LOCKED
    assert is_locked("attacker", url=db)
    # an unrelated citizen is unaffected
    assert look_up(others.number, others.phone[-4:], "citizen", "rest", url=db).outcome == VERIFIED
    with Session(create_engine(db)) as session:
        outcomes = session.scalars(select(LookupAttempt.outcome)).all()
        assert outcomes.count(FAILED) == 3 and outcomes.count(LOCKED) == 2
        # 15 minutes later the lock is gone
        session.execute(update(LookupAttempt).values(
            at=dt.datetime.now(dt.timezone.utc) - dt.timedelta(minutes=16)))
        session.commit()
    assert look_up(applicant.number, right, "attacker", "rest", url=db).outcome == VERIFIED


class Clock:
    """Simulated time for the look-up rules: the back-off is asserted, never waited for."""

    def __init__(self) -> None:
        self.now = dt.datetime.now(dt.timezone.utc)

    def __call__(self) -> dt.datetime:
        return self.now

    def advance(self, seconds: float) -> None:
        self.now += dt.timedelta(seconds=seconds)


@pytest.fixture
def clock(monkeypatch):
    clock = Clock()
    monkeypatch.setattr(lookups, "utc_now", clock)
    return clock


def test_strangers_cannot_lock_the_owner_out(db, applicant, clock):
    wrong = wrong_digits(applicant)
    for stranger in ("stranger-1", "stranger-2", "stranger-3"):
        assert look_up(applicant.number, wrong, stranger, "rest", url=db).outcome == FAILED
    # the reference is slowed, not locked: the owner, on a fresh channel, waits a short delay
    owner = look_up(applicant.number, applicant.phone[-4:], "owner", "wechat", url=db)
    assert owner == lookups.LookupResult(LOCKED, retry_after=30)
    assert lookups.wait_seconds("owner", applicant.number, url=db) == 30
    assert is_locked("owner", applicant.number, url=db) and not is_locked("owner", url=db)
    clock.advance(30)
    assert not is_locked("owner", applicant.number, url=db)
    assert look_up(applicant.number, applicant.phone[-4:], "owner", "wechat",
                   url=db).outcome == VERIFIED


def test_guessing_across_many_senders_is_impractical(db, applicant, clock):
    """A fresh conversation for every guess, each as soon as it is allowed, for a day."""
    wrong = wrong_digits(applicant)
    started, guesses, waits = clock.now, 0, []
    while clock.now - started < dt.timedelta(days=1):
        result = look_up(applicant.number, wrong, f"sender-{guesses}-{len(waits)}", "rest",
                         url=db)
        if result.outcome == LOCKED:
            waits.append(result.retry_after)
            clock.advance(result.retry_after)
        else:
            assert result.outcome == FAILED
            guesses += 1
    # after three free failures every further guess waits twice as long as the one before
    assert waits[:5] == [30, 60, 120, 240, 480]
    assert guesses <= 16
    # 10,000 combinations at this rate take years, not minutes
    assert 10_000 / guesses > 365 * 1.5


def test_a_burst_of_guesses_cannot_slip_past_the_back_off(db, applicant, clock):
    wrong = wrong_digits(applicant)
    for stranger in ("stranger-1", "stranger-2", "stranger-3"):
        look_up(applicant.number, wrong, stranger, "rest", url=db)
    clock.advance(30)  # one more guess is due: of eight at once, only one is checked
    with ThreadPoolExecutor(max_workers=8) as pool:
        results = list(pool.map(
            lambda n: look_up(applicant.number, wrong, f"burst-{n}", "rest", url=db),
            range(8)))
    assert [result.outcome for result in results].count(FAILED) == 1


def wrong_digits(applicant) -> str:
    return next(digits for digits in ("0000", "1111", "2222")
                if digits not in (applicant.phone[-4:], applicant.id_card[-4:]))


def test_tickets_are_masked_verified_and_followed(db):
    receipt = create_ticket("我要投诉：小区门口路灯坏了一个月，我电话13812345678",
                            "urban_management", "zh", "socketio", 0.91, "classifier", "4321",
                            url=db)
    assert re.fullmatch(r"T-\d{8}-\d{6}", receipt.reference)
    assert receipt.category == "complaint" and receipt.department.id == "urban_management"
    assert receipt.response_due.weekday() < 5
    with create_engine(db).connect() as connection:
        stored = connection.execute(text("select text, phone_last4_hash from tickets")).one()
    assert "13812345678" not in stored[0] and "4321" not in stored[1]
    assert look_up(receipt.reference, "1234", "c4", "rest", url=db).outcome == FAILED
    assert look_up(receipt.reference, "4321", "c4", "rest", url=db).outcome == VERIFIED
    update_ticket(receipt.reference, "in_progress", "已派人维修。", "A repair crew is on the way.",
                  url=db)
    view = status_view(receipt.reference, "en", url=db)
    assert view.kind == "ticket" and view.status == "in_progress"
    assert view.next_step == "A repair crew is on the way."
    assert [entry.title for entry in view.history] == ["Received, waiting for the department",
                                                       "Being handled by the department"]
    with pytest.raises(ValueError):
        create_ticket("x", "no_such_department", "en", "rest", 0.5, "classifier", "1", url=db)


@pytest.mark.parametrize(("text", "category"), [
    ("我要投訴這家店", "complaint"), ("I want to report illegal dumping", "report"),
    ("建议增加公交班次", "suggestion"), ("the street light is broken", "request"),
])
def test_ticket_categories(text, category):
    assert categorize(text) == category


def test_handoff_queue(db):
    transcript = [{"sender": "citizen", "text": "我的身份证110101199003071234", "at": "t"}]
    first = enqueue("conv-a", "rest", "zh", "requested", transcript, url=db)
    again = enqueue("conv-a", "rest", "zh", "requested", transcript, url=db)
    second = enqueue("conv-b", "socketio", "en", "repeated_failure", [], url=db)
    assert first.id == again.id and (first.position, second.position) == (1, 2)
    waiting = list_handoffs(url=db)
    assert [entry.conversation_id for entry in waiting] == ["conv-a", "conv-b"]
    assert "110101199003071234" not in waiting[0].transcript[0]["text"]
    taken = set_status(first.id, "taken", staff="li.na", url=db)
    assert taken.status == "taken" and taken.taken_by == "li.na"
    with pytest.raises(ValueError):
        set_status(first.id, "taken", url=db)
    with pytest.raises(KeyError):
        set_status(999, "closed", url=db)
    set_status(first.id, "closed", url=db)
    assert [entry.conversation_id for entry in list_handoffs(url=db)] == ["conv-b"]
