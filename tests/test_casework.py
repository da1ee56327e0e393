"""Applications, status look-ups, tickets and the handoff queue on SQLite and PostgreSQL."""

from __future__ import annotations

import datetime as dt
import re

import pytest
from sqlalchemy import create_engine, select, text, update
from sqlalchemy.orm import Session

from storage import lookups
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


def test_three_failures_lock_the_conversation_and_the_reference(db, applicant):
    right, wrong = applicant.phone[-4:], "XXXX"
    others = demo_applicants(12)[1]
    results = [look_up(applicant.number, wrong, "attacker", "rest", url=db).outcome
               for _ in range(3)]
    assert results == [FAILED, FAILED, LOCKED]
    # the right digits do not help now, in this conversation or any other for this number
    assert look_up(applicant.number, right, "attacker", "rest", url=db).outcome == LOCKED
    assert look_up(applicant.number, right, "someone-else", "rest", url=db).outcome == LOCKED
    # nor does another number from the locked conversation
    assert look_up(others.number, others.phone[-4:], "attacker", "rest", url=db).outcome == LOCKED
    assert is_locked("attacker", url=db)
    # an unrelated citizen is unaffected
    assert look_up(others.number, others.phone[-4:], "citizen", "rest", url=db).outcome == VERIFIED
    with Session(create_engine(db)) as session:
        outcomes = session.scalars(select(LookupAttempt.outcome)).all()
        assert outcomes.count(FAILED) == 3 and outcomes.count(LOCKED) == 3
        # 15 minutes later the lock is gone
        session.execute(update(LookupAttempt).values(
            at=dt.datetime.now(dt.timezone.utc) - dt.timedelta(minutes=16)))
        session.commit()
    assert look_up(applicant.number, right, "attacker", "rest", url=db).outcome == VERIFIED


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
