"""The case-work actions in-process, against a real database (SQLite, and PostgreSQL where it
runs): routing when unsure, handing over after repeated failures, the status check's
validation."""

from __future__ import annotations

import asyncio

import pytest
from rasa_sdk import Tracker
from rasa_sdk.executor import CollectingDispatcher
from sqlalchemy import func, select

from actions import knowledge
from actions import status_check as status
from actions.handoff import ActionHandoff
from actions.status_check import ActionReportStatus, ValidateStatusCheckForm
from actions.tickets import (
    ActionAskRequestDepartment,
    ActionCreateTicket,
    ValidateTicketForm,
    is_specific,
    match_department,
    relevant_responsibilities,
    ticket_limit,
    with_more_told,
)
from actions.urgency import is_urgent
from staff.audit import entries
from storage.database import sessions
from storage.departments import get_department
from storage.handoffs import list_handoffs
from storage.lookups import LOCKED, VERIFIED, look_up
from storage.migrate import upgrade
from storage.models import Ticket
from storage.proofs import issue_proof, proven_reference
from storage.seed import demo_applicants, seed_applications, seed_departments
from tests.helpers import response_texts


@pytest.fixture(autouse=True)
def database(database_url, monkeypatch):
    url = database_url
    monkeypatch.setenv("GOV_DATABASE_URL", url)
    upgrade(url)
    seed_departments(url)
    seed_applications(5, url)
    return url


@pytest.fixture(autouse=True)
def fresh_ticket_allowance():
    """Every test's conversation starts with its full ticket allowance: the limiter lives as
    long as the action-server process, here the test process, and the tests share sender ids."""
    ticket_limit.cache_clear()
    yield
    ticket_limit.cache_clear()


def tracker(text: str, intent: str = "make_request", language: str = "en",
            **slots: object) -> Tracker:
    return Tracker("citizen-1", {"language": language, **slots},
                   {"text": text, "intent": {"name": intent}},
                   [{"event": "user", "text": text, "timestamp": 1.0}], False, None,
                   {"name": "ticket_form"}, "action_listen")


def run(coroutine):
    return asyncio.run(coroutine)


def test_unsure_routing_offers_the_likely_departments_as_buttons(monkeypatch):
    monkeypatch.setenv("GOV_ROUTING_MIN_CONFIDENCE", "1.01")  # never sure
    dispatcher = CollectingDispatcher()
    text = "the drain outside the market stinks and the stall owners dump waste in it"
    slots = run(ValidateTicketForm().validate_request_text(text, dispatcher, tracker(text), {}))
    assert slots["request_text"] == text and "request_department" not in slots
    candidates = slots["routing_candidates"]
    assert len(candidates) == 3 and slots["proposed_department"] == candidates[0]
    ask = CollectingDispatcher()
    run(ActionAskRequestDepartment().run(ask, tracker(
        "", request_text=text, routing_candidates=candidates,
        routing_confidence=slots["routing_confidence"]), {}))
    [message] = ask.messages
    assert message["response"] == "utter_choose_department"
    assert message["summary"].startswith("The drain outside the market stinks")
    # each likely department with what it is responsible for, then "another department"
    assert message["options"].count("\n") == 2 and message["options"].startswith("1. ")
    buttons = message["buttons"]
    assert [b["payload"] for b in buttons] == [
        f'/choose_department{{"department": "{c}"}}' for c in candidates] + ["/choose_department"]
    assert all(b["title"].endswith(("Bureau", "Commission", "Administration", "Centre",
                                    "Service")) for b in buttons[:3])


def test_confident_routing_proposes_and_waits_for_the_citizen():
    text = "my employer hasn't paid social insurance for me since March"
    slots = run(ValidateTicketForm().validate_request_text(text, CollectingDispatcher(),
                                                           tracker(text), {}))
    assert "request_department" not in slots  # nothing is filed before the citizen confirms
    assert slots["proposed_department"] == "human_resources_social_security"
    ask = CollectingDispatcher()
    run(ActionAskRequestDepartment().run(ask, tracker("", request_text=text, **{
        k: slots[k] for k in ("routing_candidates", "routing_confidence")}), {}))
    [message] = ask.messages
    assert message["response"] == "utter_confirm_department"
    assert message["department"] == "Human Resources and Social Security Bureau"
    assert "social insurance" in message["responsibility"]
    assert message["buttons"][0] == {
        "title": "Yes, the Human Resources and Social Security Bureau",
        "payload": '/choose_department{"department": "human_resources_social_security"}'}
    assert message["buttons"][-1]["payload"] == "/choose_department"


@pytest.mark.parametrize(("letter", "language", "document"), [
    ("我们公司已经三个月没发工资了，老板一直拖着不给，我们去找也没用。请问拖欠工资政策是怎么规定的？",
     "zh", "拖欠工资投诉举报办理指南"),
    ("我們公司已經三個月沒發工資了，老闆一直拖著不給。請問拖欠工資政策是怎麼規定的？",
     "zh", "拖欠工资投诉举报办理指南"),
])
def test_a_request_that_asks_about_the_rules_gets_the_passage_too(monkeypatch, sample_searcher,
                                                                   letter, language, document):
    """Taken as the request (read back, department proposed); the passage that surely answers
    its question follows, once: not again when the department is asked a second time."""
    monkeypatch.setattr(knowledge, "searcher", lambda: sample_searcher)
    slots = run(ValidateTicketForm().validate_request_text(
        letter, CollectingDispatcher(), tracker(letter, language=language), {}))
    state = {k: slots[k] for k in ("request_text", "routing_candidates", "routing_confidence")}
    ask = CollectingDispatcher()
    run(ActionAskRequestDepartment().run(ask, tracker(letter, language=language, **state), {}))
    assert ask.messages[0]["response"] in ("utter_confirm_department",
                                           "utter_choose_department")
    [passage] = [m for m in ask.messages if m["response"] == "utter_request_related_passage"]
    assert passage["title"] == document and passage["question"].startswith(("请问", "請問"))
    again = CollectingDispatcher()
    run(ActionAskRequestDepartment().run(again, tracker("hmm", language=language, **state), {}))
    assert "utter_request_related_passage" not in [m["response"] for m in again.messages]


@pytest.mark.parametrize("letter", [
    "小区门口的路灯坏了两个星期了，晚上很黑，为什么没人管？",  # a question, but not about rules
    "物业乱收费，请问这样合法吗？希望尽快处理。",  # about rules, but nothing surely answers it
])
def test_no_passage_unless_one_surely_answers_a_question_about_the_rules(
        monkeypatch, sample_searcher, letter):
    monkeypatch.setattr(knowledge, "searcher", lambda: sample_searcher)
    slots = run(ValidateTicketForm().validate_request_text(
        letter, CollectingDispatcher(), tracker(letter, language="zh"), {}))
    state = {k: slots[k] for k in ("request_text", "routing_candidates", "routing_confidence")}
    ask = CollectingDispatcher()
    run(ActionAskRequestDepartment().run(ask, tracker(letter, language="zh", **state), {}))
    assert "utter_request_related_passage" not in [m["response"] for m in ask.messages]


@pytest.mark.parametrize(("letter", "language"), [
    ("The manhole cover on Riverside Road near the school is missing, kids walk past every day",
     "en"),
    ("我朋友被网上刷单诈骗了两万块，能帮她报警吗", "zh"),
    ("樓道裡一直有很大的煤氣味，物業不管", "zh"),
    ("There's smoke coming out of the electrical box in our building hallway!", "en"),
    ("我爸在小区里摔倒了，头流血了，物业说不归他们管", "zh"),
    ("我在路边被人骗了两千块，说是扫码领补贴", "zh"),
])
def test_danger_now_is_told_to_call_the_emergency_numbers_first(letter, language):
    """A dispatcher says "call 110 now" before reading back a ticket that takes days; once,
    not again when the department is asked a second time."""
    slots = run(ValidateTicketForm().validate_request_text(
        letter, CollectingDispatcher(), tracker(letter, language=language), {}))
    state = {k: slots[k] for k in ("request_text", "routing_candidates", "routing_confidence")}
    ask = CollectingDispatcher()
    run(ActionAskRequestDepartment().run(ask, tracker(letter, language=language, **state), {}))
    responses = [m["response"] for m in ask.messages]
    assert responses[0] == "utter_request_urgent"
    assert responses[1] in ("utter_confirm_department", "utter_choose_department")
    again = CollectingDispatcher()
    run(ActionAskRequestDepartment().run(again, tracker("hmm", language=language, **state), {}))
    assert "utter_request_urgent" not in [m["response"] for m in again.messages]


@pytest.mark.parametrize("text", [
    "小区门口的路灯坏了两个星期了，晚上很黑",
    "The factory chimney puts out black smoke every evening",
    "I was fired from my job without notice and they owe me two months of pay",
    "供暖温度一直不达标，热力公司不管",
])
def test_everyday_requests_get_no_emergency_advice(text):
    assert not is_urgent(text)


def department_step(text: str, intent: str, **slots: object) -> Tracker:
    return tracker(text, intent=intent, requested_slot="request_department", **slots)


@pytest.mark.parametrize(("text", "intent", "expected"), [
    ("yes", "affirm", {"request_department": "urban_management"}),
    ("对", "affirm", {"request_department": "urban_management"}),
    ("不是城管，应该是住建局", "choose_department", {"request_department": "housing_urban_rural"}),
    ("/choose_department", "choose_department", {"request_department": "/choose_department"}),
    # by its number in the list, whatever intent the words look like
    ("2", "out_of_scope", {"request_department": "transport"}),
    ("第二个", "nlu_fallback", {"request_department": "transport"}),
    ("選第一個吧", "nlu_fallback", {"request_department": "urban_management"}),
    ("the second one", "goodbye", {"request_department": "transport"}),
    # two were offered and "another department" after them; beyond that it is said so, not
    # searched in the knowledge base as a question
    ("3", "out_of_scope", {"request_department": "/choose_department"}),
    ("5678", "nlu_fallback", {"request_department": "/not_an_option"}),
    ("第五个", "nlu_fallback", {"request_department": "/not_an_option"}),
    # more of the matter, not option 3: the request grows and is routed again (below)
    ("等了3个星期", "make_request", {"request_department": "/told_more"}),
    ("hmm", "nlu_fallback", {}),
    # "no" to what was offered is not "cancel": the whole catalogue; "算了" cancels (the rule)
    ("不是", "deny", {"request_department": "/choose_department"}),
    ("no, another department", "deny", {"request_department": "/choose_department"}),
    ("算了", "deny", {}),
    ("never mind", "deny", {}),
    # the "another department" button's title typed instead of tapped
    ("其他部门", "ask_question", {"request_department": "/choose_department"}),
    ("Another department", "nlu_fallback", {"request_department": "/choose_department"}),
    # calling it off while naming where they go instead: not a pick of that department
    ("取消吧，我还是自己去劳动局", "deny", {}),
    ("cancel that, I'll call the transport bureau myself", "deny", {}),
])
def test_the_citizen_confirms_or_picks_the_department(text, intent, expected):
    state = department_step(text, intent, routing_candidates=["urban_management", "transport"],
                            routing_confidence=0.99)
    form = ValidateTicketForm()
    assert run(form.extract_request_department(CollectingDispatcher(), state, {})) == expected


@pytest.mark.parametrize("text", ["yes", "对"])
def test_yes_to_a_list_of_likely_departments_picks_none(text):
    """Unsure routing lists the likely departments; "yes" names none of them, so the list is
    asked again rather than the first one being filed."""
    state = department_step(text, "affirm", routing_candidates=["urban_management", "transport"],
                            routing_confidence=0.05)
    form, dispatcher = ValidateTicketForm(), CollectingDispatcher()
    slots = run(form.extract_request_department(dispatcher, state, {}))
    assert run(form.validate_request_department(
        slots["request_department"], dispatcher, state, {})) == {"request_department": None}
    assert dispatcher.messages == []  # no "unknown department": the list itself is asked again


@pytest.mark.parametrize(("text", "language", "words"), [
    ("5678", "zh", "1 到 2"), ("option 7", "en", "from 1 to 2")])
def test_a_number_the_list_does_not_have_is_said_so(text, language, words):
    state = department_step(text, "nlu_fallback", language=language,
                            routing_candidates=["urban_management", "transport"],
                            routing_confidence=0.05)
    form, dispatcher = ValidateTicketForm(), CollectingDispatcher()
    slots = run(form.extract_request_department(dispatcher, state, {}))
    assert run(form.validate_request_department(
        slots["request_department"], dispatcher, state, {})) == {"request_department": None}
    [message] = dispatcher.messages
    assert message["response"] == "utter_not_an_option" and message["count"] == 2
    [text_of] = response_texts("utter_not_an_option", language)
    assert words in text_of.replace("{count}", "2")


@pytest.mark.parametrize(("request_text", "said", "language", "expected"), [
    ("路灯坏了", "路灯坏了", "zh", "路灯坏了"),  # said again: nothing new
    ("路灯坏了一个月", "一个月", "zh", "路灯坏了一个月"),
    ("路灯坏了", "路灯坏了，在中山路口", "zh", "路灯坏了，在中山路口"),
    ("小区门口路灯坏了", "已经两个星期了", "zh", "小区门口路灯坏了。已经两个星期了"),
    ("The street light is out", "It has been two weeks", "en",
     "The street light is out. It has been two weeks"),
])
def test_what_is_told_after_the_request_joins_it(request_text, said, language, expected):
    assert with_more_told(request_text, said, language) == expected


def test_the_matter_told_again_where_a_department_is_asked_is_not_a_failure():
    """Sent again (its answer lost): the departments are asked again, with nothing said in
    between; told with more detail: the request grows and is routed again."""
    held = "我家楼下的餐馆每天晚上油烟很大，窗户都不敢开，希望有关部门管一管"
    form, dispatcher = ValidateTicketForm(), CollectingDispatcher()
    slots = {"request_text": held, "routing_candidates": ["ecology_environment"],
             "routing_confidence": 0.4}
    again = department_step(held, "make_request", **slots)
    value = run(form.extract_request_department(dispatcher, again, {}))["request_department"]
    assert run(form.validate_request_department(value, dispatcher, again, {})) == \
        {"request_department": None}
    assert dispatcher.messages == []
    more = department_step("油烟是从晚上六点一直排到凌晨两点，投诉过好几次了", "make_request",
                           language="zh", **slots)
    value = run(form.extract_request_department(dispatcher, more, {}))["request_department"]
    told = run(form.validate_request_department(value, dispatcher, more, {}))
    assert told["request_department"] is None
    assert told["request_text"] == held + "。油烟是从晚上六点一直排到凌晨两点，投诉过好几次了"
    assert told["routing_candidates"] and told["proposed_department"]


def test_another_department_lists_the_whole_catalogue():
    form, state = ValidateTicketForm(), department_step("/choose_department", "choose_department")
    assert run(form.validate_request_department("/choose_department", CollectingDispatcher(),
                                                state, {})) == {
        "request_department": None, "routing_candidates": []}
    ask = CollectingDispatcher()
    run(ActionAskRequestDepartment().run(ask, tracker(
        "", language="zh", request_text="路灯坏了一个月", routing_candidates=[]), {}))
    [message] = ask.messages
    assert message["response"] == "utter_choose_any_department"
    assert len(message["buttons"]) >= 10
    assert "市城市管理局" in [b["title"] for b in message["buttons"]]


def test_vague_requests_are_asked_to_say_more():
    dispatcher = CollectingDispatcher()
    slots = run(ValidateTicketForm().validate_request_text("我要投诉", dispatcher,
                                                           tracker("我要投诉"), {}))
    assert slots == {"request_text": None}
    assert dispatcher.messages[0]["response"] == "utter_request_too_vague"


@pytest.mark.parametrize(("text", "specific"), [
    ("我要投诉", False), ("I want to make a complaint", False), ("举报一下", False),
    ("路灯坏了", True), ("noise from a construction site at night", True),
    # saying that there is a problem, and where, is not saying what it is
    ("There's a problem in my neighbourhood, someone should do something", False),
    ("我们这里有个问题，希望你们尽快处理", False), ("I want to report something", False),
    # short, but a named problem
    ("停水了", True), ("有异味", True), ("lift broken", True), ("楼上太吵了", True),
])
def test_is_specific(text, specific):
    assert is_specific(text) is specific


@pytest.mark.parametrize(("text", "department"), [
    ("交给城管吧", "urban_management"), ("市生态环境局", "ecology_environment"),
    ("send it to the Urban Management Bureau", "urban_management"),
    ("the tax service", "taxation"), ("随便", None),
    ("找邮政管理局", "transport"), ("the postal administration", "transport"),
])
def test_typed_department_names(text, department):
    assert match_department(text) == department


@pytest.mark.parametrize(("text", "language", "department", "shown"), [
    # Utilities (water, power, gas, heating) are supervised by the housing bureau; post and
    # express delivery by the postal administration, which sits with the transport bureau.
    ("我们小区停水两天了，也没有提前通知", "zh", "housing_urban_rural", "停水停电"),
    ("停電快十個小時了，供電所電話打不通", "zh", "housing_urban_rural", "停水停电"),
    ("家里暖气片一直不热", "zh", "housing_urban_rural", "暖气不热"),
    ("strong smell of gas in the stairwell", "en", "housing_urban_rural", "gas leaks"),
    ("third power cut this week", "en", "housing_urban_rural", "power cuts"),
    ("快递显示签收了，包裹却没收到", "zh", "transport", "快递包裹丢失"),
    ("the courier never brings parcels to the door", "en", "transport", "couriers"),
    # not the longest item, which shares the most letter pairs with any English sentence
    ("My landlord won't give my deposit back", "en", "housing_urban_rural",
     "rental disputes and deposits"),
])
def test_the_responsibility_shown_is_the_one_the_request_is_about(text, language, department,
                                                                   shown):
    assert shown in relevant_responsibilities(get_department(department, language), text)


def test_ticket_is_created_and_reported(database):
    dispatcher = CollectingDispatcher()
    events = run(ActionCreateTicket().run(dispatcher, tracker(
        "", request_text="路灯坏了一个月", request_department="urban_management",
        proposed_department="urban_management", contact_digits="4321",
        routing_confidence=0.9, language="zh"), {}))
    message = dispatcher.messages[0]
    assert message["response"] == "utter_ticket_created"
    assert message["reference"].startswith("T-") and message["department"] == "市城市管理局"
    assert {e["name"] for e in events} >= {"request_text", "contact_digits",
                                           "proposed_department"}
    assert all(e["value"] is None for e in events)
    assert entries(action="ticket.department_corrected", url=database) == []


def test_the_citizens_correction_is_kept_on_the_ticket_and_audited(database):
    dispatcher = CollectingDispatcher()
    run(ActionCreateTicket().run(dispatcher, tracker(
        "", request_text="小区电梯坏了三次，物业不修", request_department="housing_urban_rural",
        proposed_department="urban_management", contact_digits="4321",
        routing_confidence=0.62, language="zh"), {}))
    reference = dispatcher.messages[0]["reference"]
    with sessions(database)() as session:
        ticket = session.scalar(select(Ticket).where(Ticket.reference == reference))
        assert ticket.department_id == "housing_urban_rural" and ticket.routed_by == "citizen"
    [entry] = entries(action="ticket.department_corrected", url=database)
    assert entry.actor == "citizen" and entry.target == reference
    assert "suggested=urban_management" in entry.detail
    assert "chosen=housing_urban_rural" in entry.detail


@pytest.mark.parametrize("forged", [
    lambda person: person.number,  # what the old form stored: a bare reference
    lambda person: f"{person.number}|9999999999|AAAA",  # a proof with a made-up signature
    lambda person: issue_proof("another-conversation", person.number),  # someone else's
    lambda person: issue_proof("citizen-1", person.number, now=0),  # long expired
])
def test_forged_verification_slots_show_no_case_data(forged):
    """Slots claiming "verified" (as anyone writing to the conversation could set them) give
    nothing without a valid proof issued to this conversation."""
    person = demo_applicants(5)[0]
    dispatcher = CollectingDispatcher()
    events = run(ActionReportStatus().run(dispatcher, tracker(
        "", lookup_outcome=VERIFIED, verified_reference=forged(person)), {}))
    assert [m["response"] for m in dispatcher.messages] == ["utter_lookup_not_verified"]
    assert person.number not in str(dispatcher.messages)
    assert all(e["value"] is None for e in events)
    shown = CollectingDispatcher()  # the genuine proof does show the status
    run(ActionReportStatus().run(shown, tracker("", lookup_outcome=VERIFIED,
                                                verified_reference=issue_proof(
                                                    "citizen-1", person.number)), {}))
    assert shown.messages[0]["response"] == "utter_status_application"
    assert shown.messages[0]["reference"] == person.number


def ticket_count() -> int:
    with sessions()() as session:
        return session.scalar(select(func.count()).select_from(Ticket))


@pytest.fixture
def ticket_allowance(monkeypatch):
    """Set the per-conversation ticket allowance (burst, then 1 an hour) for one test."""
    def allow(burst: int) -> None:
        monkeypatch.setenv("GOV_TICKETS_BURST", str(burst))
        monkeypatch.setenv("GOV_TICKETS_PER_HOUR", "1")
        ticket_limit.cache_clear()

    yield allow
    ticket_limit.cache_clear()


def file_ticket(sender: str, message_id: str | None = None) -> dict:
    """The first message of `action_create_ticket` for a street-light request."""
    dispatcher = CollectingDispatcher()
    state = tracker("", request_text="路灯坏了一个月", language="zh",
                    request_department="urban_management", contact_digits="4321")
    state.sender_id = sender
    if message_id:
        state.latest_message["message_id"] = message_id
    run(ActionCreateTicket().run(dispatcher, state, {}))
    return dispatcher.messages[0]


def test_one_conversation_cannot_flood_departments_with_tickets(ticket_allowance):
    ticket_allowance(2)
    assert [file_ticket("flooder")["response"] for _ in range(4)] == [
        "utter_ticket_created", "utter_ticket_created",
        "utter_ticket_rate_limited", "utter_ticket_rate_limited"]
    assert ticket_count() == 2  # the refused ones created nothing
    assert file_ticket("someone-else")["response"] == "utter_ticket_created"


def test_a_retried_call_gets_its_ticket_even_when_the_allowance_is_spent(ticket_allowance):
    """A balancer's retry of the turn that filed the last allowed ticket is that ticket, not
    a refusal: the retry is looked up before the rate limit counts anything."""
    ticket_allowance(1)
    first, retried = file_ticket("retried", "m-1"), file_ticket("retried", "m-1")
    next_turn = file_ticket("retried", "m-2")
    assert first["response"] == retried["response"] == "utter_ticket_created"
    assert retried["reference"] == first["reference"]
    assert next_turn["response"] == "utter_ticket_rate_limited"
    assert ticket_count() == 1


def test_status_validation_checks_digits_against_the_database():
    person = demo_applicants(5)[0]
    form = ValidateStatusCheckForm()
    state = tracker("", intent="check_application_status", reference_number=person.number)
    slots = run(form.validate_verification_code(person.phone[-4:], CollectingDispatcher(),
                                                state, {}))
    proof = slots.pop("verified_reference")
    assert slots == {"verification_code": "****", "lookup_outcome": VERIFIED}
    assert proven_reference(proof, state.sender_id) == person.number
    assert proven_reference(proof, "someone-else") is None
    dispatcher = CollectingDispatcher()
    slots = run(form.validate_verification_code("0000" if person.phone[-4:] != "0000" else "1111",
                                                dispatcher, state, {}))
    assert slots == {"verification_code": None}  # the reference kept: the digits asked again
    assert dispatcher.messages[0]["response"] == "utter_verification_failed"


@pytest.mark.parametrize("again", ["same", "other"])
def test_a_reference_typed_where_the_digits_are_asked_is_taken_as_the_reference(again):
    """Said twice (the first answer lost on the way), or another one: no look-up is made, no
    attempt is counted, and the form asks for the digits of the reference it now holds."""
    first, second = demo_applicants(5)[:2]
    typed = first.number if again == "same" else second.number.replace("-", " ").lower()
    form = ValidateStatusCheckForm()
    state = tracker("", intent="check_application_status", reference_number=first.number)
    dispatcher = CollectingDispatcher()
    slots = run(form.validate_verification_code(typed, dispatcher, state, {}))
    expected = first.number if again == "same" else second.number
    assert slots == {"reference_number": expected, "verification_code": None}
    assert dispatcher.messages == []
    for _ in range(5):  # more than the attempts allowed: none was used
        run(form.validate_verification_code(typed, CollectingDispatcher(), state, {}))
    slots = run(form.validate_verification_code(first.phone[-4:], CollectingDispatcher(),
                                                state, {}))
    assert slots["lookup_outcome"] == VERIFIED


def test_a_slowed_reference_tells_the_owner_how_long_to_wait():
    """Strangers' failures slow the reference: the owner is told a short wait, not a lockout
    of the full window, and is asked nothing further this time."""
    person = demo_applicants(5)[2]
    for stranger in ("stranger-1", "stranger-2", "stranger-3"):
        look_up(person.number, "0000" if person.phone[-4:] != "0000" else "1111",
                stranger, "rest")
    form = ValidateStatusCheckForm()
    state = tracker(person.number, intent="check_application_status")
    slots = run(form.validate_reference_number(person.number, CollectingDispatcher(), state, {}))
    assert slots["lookup_outcome"] == LOCKED
    dispatcher = CollectingDispatcher()
    run(ActionReportStatus().run(dispatcher, tracker(
        "", lookup_outcome=LOCKED, reference_number=person.number), {}))
    assert [(m["response"], m["minutes"]) for m in dispatcher.messages] == \
        [("utter_lookup_locked", "1")]


UNREACHABLE = "postgresql+psycopg://postgres@127.0.0.1:1/test"  # nothing listens on port 1
STATUS_DOMAIN = {"forms": {"status_check_form": {
    "required_slots": ["reference_number", "verification_code"]}}}


def in_status_form(text: str, requested: str, **slots: object) -> Tracker:
    return Tracker("citizen-2", {"language": "zh", "requested_slot": requested, **slots},
                   {"text": text, "intent": {"name": "inform"}},
                   [{"event": "user", "text": text, "timestamp": 1.0}], False, None,
                   {"name": "status_check_form"}, "action_listen")


def test_database_down_mid_form_apologises_asks_again_and_counts_no_attempt(
        database, monkeypatch):
    """The application database unreachable while the conversation store works: the citizen
    hears the apology (not silence), nothing offered this turn is taken as checked, and no
    verification attempt is spent."""
    person = demo_applicants(5)[1]
    form = ValidateStatusCheckForm()
    monkeypatch.setenv("GOV_DATABASE_URL", UNREACHABLE)
    for text, requested, slots in (
            (person.number, "reference_number", {}),
            (person.phone[-4:], "verification_code", {"reference_number": person.number})):
        dispatcher = CollectingDispatcher()
        events = run(form.run(dispatcher, in_status_form(text, requested, **slots),
                              STATUS_DOMAIN))
        assert [m["response"] for m in dispatcher.messages] == ["utter_service_unavailable"]
        assert events == [{"event": "slot", "timestamp": None, "name": requested,
                           "value": None}]
    # The database is back: the same digits verify at once, no failure was recorded.
    monkeypatch.setenv("GOV_DATABASE_URL", database)
    dispatcher = CollectingDispatcher()
    events = run(form.run(dispatcher, in_status_form(
        person.phone[-4:], "verification_code", reference_number=person.number), STATUS_DOMAIN))
    assert {e["name"]: e["value"] for e in events}["lookup_outcome"] == VERIFIED
    assert dispatcher.messages == []


def test_database_down_after_verification_apologises_and_forgets(monkeypatch):
    monkeypatch.setenv("GOV_DATABASE_URL", UNREACHABLE)
    dispatcher = CollectingDispatcher()
    events = run(ActionReportStatus().run(dispatcher, tracker(
        "", lookup_outcome=VERIFIED,
        verified_reference=issue_proof("citizen-1", "GOV-2024-000001")), {}))
    assert [m["response"] for m in dispatcher.messages] == ["utter_service_unavailable"]
    assert all(e["value"] is None for e in events) and \
        {e["name"] for e in events} >= {"verified_reference", "lookup_outcome"}


def test_ticket_form_with_the_database_down_apologises(monkeypatch):
    monkeypatch.setenv("GOV_DATABASE_URL", UNREACHABLE)
    dispatcher = CollectingDispatcher()
    state = Tracker("citizen-3", {"language": "en", "requested_slot": "request_department"},
                    {"text": "urban_management", "intent": {"name": "choose_department"}},
                    [{"event": "user", "text": "/choose_department", "timestamp": 1.0},
                     {"event": "slot", "name": "request_department",
                      "value": "urban_management"}],
                    False, None, {"name": "ticket_form"}, "action_listen")
    domain = {"forms": {"ticket_form": {"required_slots": [
        "request_text", "request_department", "contact_digits"]}}}
    events = run(ValidateTicketForm().run(dispatcher, state, domain))
    assert [m["response"] for m in dispatcher.messages] == ["utter_service_unavailable"]
    assert [(e["name"], e["value"]) for e in events] == [("request_department", None)]


def test_repeated_unanswered_questions_hand_over(monkeypatch):
    monkeypatch.setattr(knowledge.searcher(), "search", lambda *_args, **_kwargs: [])
    monkeypatch.setattr(knowledge, "record_unanswered", lambda *_args, **_kwargs: None)
    action = knowledge.ActionAnswerQuestion()
    dispatcher = CollectingDispatcher()
    events = run(action.run(dispatcher, tracker("q", "ask_question", failed_turns=0), {}))
    assert dispatcher.messages[-1]["response"] == "utter_kb_no_answer"
    assert {"event": "slot", "name": "failed_turns", "value": 1} in [
        {k: e.get(k) for k in ("event", "name", "value")} for e in events]
    events = run(action.run(dispatcher, tracker("q", "ask_question", failed_turns=2), {}))
    assert dispatcher.messages[-1]["response"] == "utter_handoff_after_failures"
    assert events[-1] == {"event": "followup", "name": "action_handoff", "timestamp": None}


def test_handoff_queues_the_masked_transcript_and_pauses():
    dispatcher = CollectingDispatcher()
    events = run(ActionHandoff().run(dispatcher, tracker("我的电话13812345678，转人工",
                                                          "human_handoff", "zh"), {}))
    assert dispatcher.messages[0]["response"] in ("utter_handoff_queued",
                                                  "utter_handoff_after_hours")
    assert events[-1]["event"] == "pause"
    [entry] = list_handoffs()
    assert entry.conversation_id == "citizen-1" and entry.reason == "requested"
    assert "13812345678" not in entry.transcript[0]["text"]


def test_an_item_that_shares_nothing_is_not_shown_beside_one_that_does():
    # Gas cut off: the utilities item, not the first item of the line (物业管理纠纷).
    shown = relevant_responsibilities(get_department("housing_urban_rural", "zh"),
                                      "我家的天然气已经停了三天了，燃气公司一直说在检修")
    assert "燃气" in shown and "物业" not in shown


REPORT = {"event": "bot", "timestamp": 100.0, "text": "…",
          "metadata": {"utter_action": "utter_status_application",
                       "reference": "GOV-2025-000123", "status_title": "已受理",
                       "expected": "2026年11月18日", "department": "市市场监督管理局",
                       "contact": "8866 1210"}}


def after_report(text: str, asked_at: float = 130.0) -> Tracker:
    events = [{"event": "user", "text": "GOV-2025-000123", "timestamp": 90.0}, REPORT,
              {"event": "user", "text": text, "timestamp": asked_at}]
    return Tracker("citizen-1", {"language": "zh"}, {"text": text, "intent": {"name": "x"}},
                   events, False, None, {}, "action_listen")


@pytest.mark.parametrize(("text", "asks"), [
    ("大概还要多久", True), ("為什麼還沒辦好", True), ("how much longer?", True),
    ("what happens next", True), ("居住证怎么办理", False), ("谢谢", False),
    ("我想问一下公积金能不能用来交房租，我现在租房住，每个月房租两千多", False),  # not short
])
def test_a_short_question_about_how_a_case_goes_on(text, asks):
    assert status.asks_about_progress(text) is asks


def test_a_progress_question_right_after_a_status_report_gets_its_date_and_department():
    for action in (knowledge.ActionAnswerQuestion(), knowledge.ActionOutOfScope()):
        dispatcher = CollectingDispatcher()
        run(action.run(dispatcher, after_report("大概还要多久"), {}))
        [reply] = dispatcher.messages
        assert reply["response"] == "utter_status_followup"
        assert reply["expected"] == "2026年11月18日" and reply["contact"] == "8866 1210"
    # A decided application has no expected date: not "expected by —".
    undated = after_report("还要多久")
    undated.events[1] = {**REPORT, "metadata": {**REPORT["metadata"], "expected": "—"}}
    dispatcher = CollectingDispatcher()
    run(knowledge.ActionAnswerQuestion().run(dispatcher, undated, {}))
    assert [m["response"] for m in dispatcher.messages] == ["utter_status_followup_undated"]
    # Long after the report, or with no report before, it is an ordinary question.
    assert status.status_just_reported(after_report("还要多久", asked_at=10_000).events,
                                       600) is None
    assert status.status_just_reported(tracker("how much longer?").events, 600) is None
