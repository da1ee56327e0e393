"""Messages written the way citizens really write to a city — letters with a salutation, several
sentences, places, dates and masked phone numbers — through the running Rasa server and action
server: a complaint or request goes to the request flow (never a policy passage, never a status
look-up), is read back in one line with the proposed department and its responsibility, and is
filed only after the citizen confirms or corrects the department. Both languages; WeChat text
replies carry the options as text."""

from __future__ import annotations

import json
import re
import uuid

import pytest

from fakes.wechat import WeChatServer, text_xml
from helpers import response_texts
from helpers.chat import RestConversation, assert_reply
from staff.audit import entries

LETTER_ZH = ("尊敬的领导：您好！我是滨江市建设路十八号院的居民，我们院子对面的一家"
             "汽车修理厂每天在路边喷漆，刺鼻的油漆味飘进家里，孩子老人都咳嗽，已经持续"
             "两个多月了，向社区反映过多次都没有结果。我的电话是138****6620，恳请有关部门"
             "尽快调查处理，谢谢！")
LETTER_EN = ("Dear Sir or Madam, I am a resident of Guangming Estate on Heping Road. Since the "
             "beginning of October a karaoke bar on the ground floor plays loud music until 3am "
             "every night. We have asked the owner many times and nothing changed. My children "
             "cannot sleep before exams. I hope the authorities will deal with it. Thank you.")
# Mentions 进度 and 至今 but names no application or ticket: a complaint, not a look-up.
NO_REFERENCE_ZH = ("各位领导好：我们小区的老旧小区改造工程去年三月就开工了，到现在一年多了，"
                   "工程进度非常慢，路面挖开以后一直没有恢复，下雨天到处是泥水，老人出门摔倒了"
                   "好几次，至今没有人管，希望住建部门督促施工单位尽快完工。")
MIXED_ZH = ("我要投诉小区物业乱收费，停车费从每月一百元涨到三百元，也没开业主大会，"
            "这个政策是怎么规定的？")
KB_ANSWER = ("来源：", "Source:")
STATUS_QUESTIONS = ("utter_ask_reference_number", "utter_ask_verification_code")


def assert_request_flow(texts: list[str], language: str) -> str:
    """The first reply reads the request back and proposes (or asks for) a department."""
    assert not any(marker in text for text in texts for marker in KB_ANSWER), texts
    status = [t for name in STATUS_QUESTIONS for t in response_texts(name, language)]
    assert not any(text in status for text in texts), texts
    opening = ("我理解您反映的是：", "Here is what I understood: ")[language == "en"]
    [proposal] = [text for text in texts if text.startswith(opening)]
    return proposal


@pytest.mark.parametrize(("letter", "language"), [(LETTER_ZH, "zh"), (LETTER_EN, "en")])
def test_a_long_letter_with_a_salutation_gets_the_request_flow(stack, letter, language):
    chat = RestConversation(stack.settings.rasa_url)
    proposal = assert_request_flow(chat.texts(letter), language)
    assert "138****6620" not in proposal and "尊敬的领导" not in proposal
    assert "Dear Sir" not in proposal


def test_a_long_complaint_without_a_reference_never_starts_a_status_look_up(stack):
    chat = RestConversation(stack.settings.rasa_url)
    assert_request_flow(chat.texts(NO_REFERENCE_ZH), "zh")


def test_a_request_with_a_question_in_it_is_taken_as_the_request(stack):
    chat = RestConversation(stack.settings.rasa_url)
    assert_request_flow(chat.texts(MIXED_ZH), "zh")


def proposed_department(message: dict) -> str:
    """The department id behind the first button: the proposal (or the most likely one)."""
    payload = message["buttons"][0]["payload"]
    return json.loads(payload[len("/choose_department"):])["department"]


def corrections(stack, reference: str) -> list:
    database = f"sqlite:///{stack.settings.state_dir / 'gov.db'}"
    return [e for e in entries(action="ticket.department_corrected", url=database)
            if e.target == reference]


def test_english_street_light_complaint_is_a_request_the_citizen_can_redirect(stack):
    """Not a status check: the request is read back with a proposed department and what it is
    responsible for; naming another department files it there, and the correction is audited."""
    chat = RestConversation(stack.settings.rasa_url)
    [message] = chat.say("The street light at our community gate has been broken for two weeks")
    proposal = assert_request_flow([message["text"]], "en")
    assert "the street light at our community gate" in proposal.lower()
    assert re.search(r"(Shall I pass it to the .+ \(responsible for .+\)\?"
                     r"|The most likely are:\n1\. .+: .+)", proposal), proposal
    suggested = proposed_department(message)
    assert_reply(chat.texts("send it to the Urban Management Bureau"),
                 "utter_ask_contact_digits", "en")
    [created] = chat.texts("8642")
    assert "passed to the Urban Management Bureau" in created
    reference = re.search(r"T-\d{8}-\d{6}", created).group(0)
    audited = corrections(stack, reference)
    assert len(audited) == (suggested != "urban_management")


def test_the_citizen_confirms_the_proposal_with_yes(stack):
    chat = RestConversation(stack.settings.rasa_url)
    [message] = chat.say("my employer has not paid my wages for three months and refuses to "
                         "answer my calls")
    assert_request_flow([message["text"]], "en")
    assert message["buttons"][0]["title"] == \
        "Yes, the Human Resources and Social Security Bureau"
    assert_reply(chat.texts("yes"), "utter_ask_contact_digits", "en")
    [created] = chat.texts("2468")
    assert "passed to the Human Resources and Social Security Bureau" in created
    assert corrections(stack, re.search(r"T-\d{8}-\d{6}", created).group(0)) == []


def test_the_citizen_corrects_the_department_from_the_catalogue(stack):
    """Street lights inside a housing estate can be the estate's: the citizen asks for the
    whole list, picks the housing bureau, and the correction is audited."""
    chat = RestConversation(stack.settings.rasa_url)
    [message] = chat.say("小区门口的路灯坏了两个星期了")
    assert_request_flow([message["text"]], "zh")
    assert message["buttons"][-1] == {"title": "其他部门", "payload": "/choose_department"}
    suggested = proposed_department(message)
    [listing] = chat.say(message["buttons"][-1]["payload"])
    assert listing["text"].startswith("您反映的是：小区门口的路灯坏了两个星期了")
    housing = next(b for b in listing["buttons"] if b["title"] == "市住房和城乡建设局")
    assert_reply(chat.texts(housing["payload"]), "utter_ask_contact_digits", "zh")
    [created] = chat.texts("1357")
    assert "已转交市住房和城乡建设局" in created
    [entry] = corrections(stack, re.search(r"T-\d{8}-\d{6}", created).group(0))
    assert entry.actor == "citizen"
    assert f"suggested={suggested} chosen=housing_urban_rural" in entry.detail


def test_a_department_can_be_named_by_typing_on_a_text_only_channel(stack):
    """WeChat text replies list the options as text; typing one (or any department name)
    works like tapping it."""
    server, user = WeChatServer(stack.wechat_url, safe_mode=True), f"o{uuid.uuid4().hex[:27]}"
    reply = server.send(text_xml(user, "建设路上的垃圾桶满了好几天都没人清运，臭气熏天"))
    content = reply.content or stack.wechat_api.wait_for(user)["text"]["content"]
    assert content.startswith("我理解您反映的是：") and "您可以回复：" in content
    assert "· 其他部门" in content
    reply = server.send(text_xml(user, "交给市城市管理局"))
    content = reply.content or stack.wechat_api.wait_for(user)["text"]["content"]
    assert content in response_texts("utter_ask_contact_digits", "zh")
