"""Status checks, requests to departments and handoff, end to end through the running Rasa
server, action server and database, in both languages."""

from __future__ import annotations

import asyncio
import re
import uuid

import pytest

from actions.tickets import is_specific
from fakes.wechat import WeChatServer, text_xml
from helpers import response_texts
from helpers.chat import RestConversation, assert_reply
from helpers.socket_chat import Citizen
from helpers.staff import staff_api
from routing.classifier import default_router
from staff.audit import entries
from storage.departments import get_department
from storage.seed import demo_applicants


@pytest.fixture(scope="module")
def applicants():
    """The stack seeds the default number of demo applications; the generator is
    deterministic, so the test knows their numbers and digits."""
    return demo_applicants(5)


def wrong_digits(right: str) -> str:
    return "0000" if right != "0000" else "1111"


def fullwidth(text: str) -> str:
    return "".join(chr(ord(c) + 0xFEE0) if "!" <= c <= "~" else c for c in text)


def test_status_check_in_chinese_with_full_width_number(stack, applicants):
    person = applicants[0]
    chat = RestConversation(stack.settings.rasa_url)
    assert_reply(chat.texts("我想查一下申请进度"), "utter_ask_reference_number", "zh")
    assert_reply(chat.texts(fullwidth(person.number)), "utter_ask_verification_code", "zh")
    [reply] = chat.texts(f"手机尾号{person.phone[-4:]}")
    assert reply.startswith(f"申请 {person.number}（{person.service['name']['zh']}）")
    assert "当前状态：" in reply and "负责部门：" in reply and "下一步：" in reply
    # How much longer: the report's date and department again, not a policy search; and
    # again for the next such question.
    for question in ("大概还要多久", "为什么还没办好"):
        [again] = chat.texts(question)
        assert again.startswith(f"关于 {person.number}：") and "转人工" in again


def test_status_check_in_english_with_the_number_up_front_and_id_digits(stack, applicants):
    person = applicants[1]
    chat = RestConversation(stack.settings.rasa_url)
    texts = chat.texts(f"what's the status of {person.number.lower().replace('-', ' ')}?")
    assert_reply(texts, "utter_ask_verification_code", "en")
    [reply] = chat.texts(f"the last four of my ID are {person.id_card[-4:]}")
    assert reply.startswith(f"Application {person.number} ({person.service['name']['en']})")
    assert "Responsible department:" in reply and "Contact:" in reply


def test_unknown_number_and_wrong_digits_get_the_same_reply(stack, applicants):
    person = applicants[2]
    replies = []
    for number, digits in (("GOV-2019-000001", person.phone[-4:]),
                           (person.number, wrong_digits(person.phone[-4:]))):
        chat = RestConversation(stack.settings.rasa_url)
        chat.texts(f"check {number}")
        replies.append(chat.texts(digits))
    assert replies[0] == replies[1]
    assert_reply(replies[0], "utter_verification_failed", "en", attempts_left="2")


def test_mistyped_digits_are_simply_typed_again(stack, applicants):
    """"哦不对，是5521": the reference is kept after a failed check, so the corrected digits
    show the status (they were refused as a malformed reference before)."""
    person = applicants[1]
    chat = RestConversation(stack.settings.rasa_url)
    chat.texts(f"check {person.number}")
    failed = chat.texts(wrong_digits(person.phone[-4:]))
    assert_reply(failed, "utter_verification_failed", "en", attempts_left="2")
    assert_reply(failed, "utter_ask_verification_code", "en")
    [reply] = chat.texts(f"sorry, it's {person.phone[-4:]}")
    assert reply.startswith(f"Application {person.number}")


def test_three_failures_lock_the_conversation_out(stack, applicants):
    person = applicants[3]
    chat = RestConversation(stack.settings.rasa_url)
    chat.texts("查询申请进度")
    for _attempt in range(3):
        chat.texts(person.number)
        texts = chat.texts(wrong_digits(person.phone[-4:]))
    assert_reply(texts, "utter_lookup_locked", "zh", minutes="15")
    # even the right digits are refused now, and nothing about the application is shown
    chat.texts("查询申请进度")
    texts = chat.texts(person.number)
    assert_reply(texts, "utter_lookup_locked", "zh", minutes="15")
    assert not any(person.service["name"]["zh"] in text for text in texts)


def test_malformed_input_is_asked_again(stack):
    chat = RestConversation(stack.settings.rasa_url)
    chat.texts("check my application")
    texts = chat.texts("it is 12345")
    assert_reply(texts, "utter_invalid_reference", "en")
    assert_reply(texts, "utter_ask_reference_number", "en")
    chat.texts("GOV-2024-001234")
    texts = chat.texts("123")
    assert_reply(texts, "utter_invalid_verification_code", "en")
    assert_reply(texts, "utter_ask_verification_code", "en")


def test_no_number_at_hand_leads_to_help(stack):
    chat = RestConversation(stack.settings.rasa_url)
    chat.texts("我想查办件进度")
    assert_reply(chat.texts("我不知道申请号"), "utter_reference_help", "zh")


def test_complaint_becomes_a_ticket_that_can_be_followed_up(stack):
    chat = RestConversation(stack.settings.rasa_url)
    [proposal] = chat.texts("小区门口路灯坏了一个月，晚上黑漆漆的")
    assert proposal.startswith("我理解您反映的是：小区门口路灯坏了一个月")
    assert "建议转交市城市管理局办理（负责路灯" in proposal
    assert_reply(chat.texts("对"), "utter_ask_contact_digits", "zh")
    [created] = chat.texts("2468")
    assert "市城市管理局" in created
    reference = re.search(r"T-\d{8}-\d{6}", created).group(0)
    followup = RestConversation(stack.settings.rasa_url)
    assert_reply(followup.texts(f"what happened to my ticket {reference}"),
                 "utter_ask_verification_code", "en")
    [status] = followup.texts("2468")
    assert status.startswith(f"Ticket {reference}") and "Urban Management Bureau" in status


def test_a_request_told_again_where_the_department_is_asked_is_asked_again(stack):
    """Sent again (the citizen did not see the answer), or with more detail: the department is
    asked again, for the whole matter, never "I did not understand"."""
    chat = RestConversation(stack.settings.rasa_url)
    text = "我家楼下的餐馆每天晚上油烟很大，窗户都不敢开，希望有关部门管一管"
    [first] = chat.say(text)
    assert first["text"].startswith("我理解您反映的是：我家楼下的餐馆") and first["buttons"]
    [again] = chat.say(text)
    assert again == first
    [more] = chat.say("油烟从晚上六点一直排到凌晨两点，已经半年了")
    assert more["text"].startswith("我理解您反映的是：") and more["buttons"]
    assert "半年" in more["text"]


@pytest.mark.parametrize(("no", "language"), [("不是这个部门", "zh"), ("no", "en")])
def test_no_to_the_proposed_department_offers_the_others_and_cancel_still_cancels(
        stack, no, language):
    """A dispatcher told "not that office" asks which one; only "算了" / "cancel" drops it."""
    text = {"zh": "小区门口路灯坏了一个月，晚上黑漆漆的",
            "en": "The street light outside my building has been broken for two weeks"}[language]
    chat = RestConversation(stack.settings.rasa_url)
    [proposal] = chat.say(text)
    assert len(proposal["buttons"]) <= 3
    [catalogue] = chat.say(no)
    assert len(catalogue["buttons"]) >= 10  # every department
    assert_reply(chat.texts({"zh": "算了", "en": "cancel"}[language]), "utter_form_cancelled",
                 language)
    # calling it off while naming where the citizen goes instead cancels, too
    again = RestConversation(stack.settings.rasa_url)
    again.say(text)
    off = {"zh": "取消吧，我还是自己去城管局问问",
           "en": "cancel that, I'll call the urban management bureau myself"}[language]
    assert_reply(again.texts(off), "utter_form_cancelled", language)


@pytest.fixture(scope="module")
def ambiguous_request():
    """A request the router is unsure about: the action server trains the same router on the
    same data, so it will be unsure too."""
    router = default_router()
    candidates = ["a company near us is doing something dodgy with its customers' money",
                  "I have a problem with a company and want someone to look into it",
                  "someone is cheating old people near the market",
                  "the water near the farm looks strange",
                  "这里太乱了，希望有人来管一管"]
    for text in candidates:
        ranking = router.rank(text, 3)
        if is_specific(text) and router.should_ask(ranking):
            return text, [candidate.department for candidate in ranking]
    pytest.fail("no ambiguous request among the candidates; add a vaguer one")


def test_unsure_routing_lets_the_citizen_choose_with_a_button(stack, ambiguous_request):
    text, departments = ambiguous_request
    chat = RestConversation(stack.settings.rasa_url)
    [question] = chat.say(text)
    assert "I'm not sure which department handles this" in question["text"]
    payloads = [button["payload"] for button in question["buttons"]]
    assert payloads == [f'/choose_department{{"department": "{d}"}}' for d in departments] \
        + ["/choose_department"]
    assert_reply(chat.texts(payloads[1]), "utter_ask_contact_digits", "en")
    [created] = chat.texts("9753")
    database = f"sqlite:///{stack.settings.state_dir / 'gov.db'}"
    name = get_department(departments[1], "en", url=database).name
    assert f"passed to the {name}" in created
    reference = re.search(r"T-\d{8}-\d{6}", created).group(0)
    [entry] = [e for e in entries(action="ticket.department_corrected", url=database)
               if e.target == reference]
    assert f"suggested={departments[0]} chosen={departments[1]}" in entry.detail


def test_unsure_routing_takes_a_number_and_not_a_bare_yes(stack, ambiguous_request):
    """Citizens answer a numbered list by its number, in words the NLU reads as something
    else ("3" looks out of scope, "the third one" like a goodbye); "yes" names no department."""
    text, departments = ambiguous_request
    chat = RestConversation(stack.settings.rasa_url)
    chat.say(text)
    [again] = chat.say("yes")
    assert "I'm not sure which department handles this" in again["text"]
    assert "reply with its number or name" in again["text"]
    assert_reply(chat.texts("the third one"), "utter_ask_contact_digits", "en")
    [created] = chat.texts("2468")
    database = f"sqlite:///{stack.settings.state_dir / 'gov.db'}"
    assert f"passed to the {get_department(departments[2], 'en', url=database).name}" in created


def test_the_status_check_can_be_restarted(stack, applicants):
    person = applicants[4]
    chat = RestConversation(stack.settings.rasa_url)
    chat.texts("check my application")
    assert_reply(chat.texts("GOV-2024-999999"), "utter_ask_verification_code", "en")
    assert_reply(chat.texts("actually I want to check a different application"),
                 "utter_ask_reference_number", "en")
    chat.texts(person.number)
    [reply] = chat.texts(person.phone[-4:])
    assert reply.startswith(f"Application {person.number}")


def test_vague_request_is_asked_to_describe_it_in_english(stack):
    chat = RestConversation(stack.settings.rasa_url)
    assert_reply(chat.texts("I want to make a complaint"), "utter_ask_request_text", "en")
    [proposal] = chat.texts("my employer hasn't paid my wages for three months")
    assert "Shall I pass it to the Human Resources and Social Security Bureau" in proposal
    assert_reply(chat.texts("yes"), "utter_ask_contact_digits", "en")
    [created] = chat.texts("my number ends in 1357")
    assert "Human Resources and Social Security Bureau" in created


def test_handoff_pauses_the_bot_until_staff_hand_it_back(stack):
    chat = RestConversation(stack.settings.rasa_url, sender=f"handoff-{uuid.uuid4().hex[:8]}")
    chat.texts("你好")
    texts = chat.texts("我要转人工，我的手机是13812345678")
    queued = response_texts("utter_handoff_queued", "zh") + \
        response_texts("utter_handoff_after_hours", "zh")
    patterns = [re.escape(t).replace(r"\{position\}", r"\d+").replace(
        r"\{next_opening\}", ".+").replace(r"\{office_hours\}", ".+") for t in queued]
    assert any(re.fullmatch(p, text) for p in patterns for text in texts), texts
    assert chat.texts("还有人吗？我留个言：营业执照的事") == []  # the bot is paused

    status, body = staff_api(stack, "GET", "/api/handoffs")
    assert status == 200
    [entry] = [e for e in body["handoffs"] if e["conversation_id"] == chat.sender]
    assert entry["reason"] == "requested" and entry["language"] == "zh"
    assert all("13812345678" not in line["text"] for line in entry["transcript"])
    assert staff_api(stack, "POST", f"/api/handoffs/{entry['id']}/take",
                     {"staff": "li.na"})[0] == 200
    assert staff_api(stack, "POST", f"/api/handoffs/{entry['id']}/take",
                     {"staff": "wang.wei"})[0] == 409
    assert staff_api(stack, "POST", f"/api/handoffs/{entry['id']}/close")[0] == 200
    assert_reply(chat.texts("你好"), "utter_greet", "zh")


@pytest.mark.parametrize(("method", "path", "body", "token", "status"), [
    ("GET", "/api/handoffs", None, "wrong-token", 401),
    ("GET", "/api/handoffs?status=everything", None, None, 400),
    ("POST", "/api/handoffs/abc/take", {"staff": "x"}, None, 400),
    ("POST", "/api/handoffs/999999/take", {"staff": "x"}, None, 404),
    ("POST", "/api/handoffs/1/take", {"staff": ""}, None, 400),
])
def test_staff_api_refuses_bad_requests_clearly(stack, method, path, body, token, status):
    code, reply = staff_api(stack, method, path, body, token)
    assert code == status and reply["message"] and reply["error"]


def handoff_of(stack, conversation_id: str) -> dict:
    _status, body = staff_api(stack, "GET", "/api/handoffs?status=all")
    return next(e for e in body["handoffs"] if e["conversation_id"] == conversation_id)


def test_staff_reply_reaches_a_web_chat_citizen_live(stack):
    async def scenario() -> list[str]:
        citizen = Citizen()
        await citizen.connect(stack.settings.rasa_url)
        try:
            await citizen.send("转人工")
            await asyncio.wait_for(citizen.inbox.get(), 30)  # queued / after-hours notice
            entry = await asyncio.to_thread(handoff_of, stack, citizen.session_id)
            await asyncio.to_thread(staff_api, stack, "POST", f"/api/handoffs/{entry['id']}/take",
                                    {"staff": "li.na"})
            status, _ = await asyncio.to_thread(
                staff_api, stack, "POST", f"/api/handoffs/{entry['id']}/reply",
                {"staff": "li.na", "text": "您好，我是工作人员小李，请问有什么可以帮您？"})
            assert status == 200
            return [await asyncio.wait_for(citizen.inbox.get(), 30)]
        finally:
            await citizen.close()

    assert asyncio.run(scenario()) == ["您好，我是工作人员小李，请问有什么可以帮您？"]


def test_staff_reply_reaches_a_wechat_citizen(stack):
    server, user = WeChatServer(stack.wechat_url, safe_mode=True), f"o{uuid.uuid4().hex[:27]}"
    assert server.send(text_xml(user, "我要转人工")).status == 200
    entry = handoff_of(stack, f"wechat:{user}")
    staff_api(stack, "POST", f"/api/handoffs/{entry['id']}/take", {"staff": "wang.wei"})
    text = "Hello, this is Wang from the service centre."
    status, _ = staff_api(stack, "POST", f"/api/handoffs/{entry['id']}/reply",
                          {"staff": "wang.wei", "text": text})
    assert status == 200
    message = stack.wechat_api.wait_for(user)
    assert message["text"]["content"] == text


def test_replying_needs_a_taken_handoff_and_text(stack):
    chat = RestConversation(stack.settings.rasa_url)
    chat.texts("talk to a person")
    entry = handoff_of(stack, chat.sender)
    assert staff_api(stack, "POST", f"/api/handoffs/{entry['id']}/reply",
                     {"staff": "x", "text": "hi"})[0] == 409  # not taken yet
    staff_api(stack, "POST", f"/api/handoffs/{entry['id']}/take", {"staff": "x"})
    assert staff_api(stack, "POST", f"/api/handoffs/{entry['id']}/reply",
                     {"staff": "x", "text": "  "})[0] == 400
    assert staff_api(stack, "POST", f"/api/handoffs/{entry['id']}/reply",
                     {"staff": "x", "text": "y" * 2001})[0] == 400
