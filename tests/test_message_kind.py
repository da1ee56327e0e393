"""What kind of message a citizen wrote (bot/message_kind.py) and how a request is read back
(actions/request_summary.py), on letters written the way citizens write them."""

from __future__ import annotations

import pytest

from actions.request_summary import restate
from bot.message_kind import classify, question_part

LETTER_ZH = ("尊敬的领导：您好！我是滨江市和平路八号院的住户，楼下的烧烤店每天营业到"
             "凌晨两点，油烟和噪音让全楼的人都睡不好，已经持续三个多月了，多次打电话都"
             "没人管。联系电话139****2207，恳请有关部门尽快处理，谢谢！")
LETTER_EN = ("Dear Sir or Madam, I am writing about the pedestrian bridge on Renmin Road near the "
             "Central Hospital. Its lights have been out for three weeks and two steps are "
             "broken. Old people use it every day and it is dangerous at night. I hope the city "
             "will repair it soon. Thank you.")
LETTER_TRADITIONAL = ("各位領導好：我們村旁邊的工廠每天晚上偷偷排放廢水，河水發黑發臭，"
                      "已經反映過很多次了，至今沒有人處理，懇請環保部門盡快調查。")


@pytest.mark.parametrize("text", [
    LETTER_ZH, LETTER_EN, LETTER_TRADITIONAL,
    "我要投诉物业乱收费，停车费一下涨了三倍，政策是怎么规定的？",  # request + question
    "The street light at our community gate has been broken for two weeks",
])
def test_letters_and_grievances_are_requests(text):
    kind = classify(text)
    assert kind.is_request and not kind.is_status_lookup


@pytest.mark.parametrize("text", [
    "办营业执照需要什么材料？",
    "how do I renew my passport",
    "我是外地户口，在滨江工作三年了，孩子明年上小学，请问随迁子女入学需要准备哪些材料？在哪里报名？",
    "查一下GOV-2024-001234的进度",
])
def test_questions_and_look_ups_are_not_requests(text):
    assert not classify(text).is_request


@pytest.mark.parametrize("text", [
    # the citizen's own story, with words that also go with grievances, then a service question
    "我家老人今年八十一岁，一直没有领过高龄津贴，也不知道有这个政策。请问要怎么申请？要带什么材料？",
    "我在这边上班已经两年多了，社保一直没断过，孩子明年上学。想问一下居住证怎么办理，在哪里办？",
    "我們家老人今年八十三歲，一直沒有辦過老年卡。請問老年優待證怎麼辦理？需要帶什麼證件？",
    "I have worked here for three years and my wife joined me last month. Nobody told us about "
    "the residence permit. How do we apply, and which documents do we need?",
])
def test_a_story_before_a_service_question_is_a_question(text):
    kind = classify(text)
    assert kind.is_long and kind.context_cues and kind.service_question
    assert not kind.is_request


@pytest.mark.parametrize("text", [
    # the same narrative words with a grievance or a plea: still requests
    "小区门口的路灯坏了快一个月了，晚上老人出门很不方便，一直没有人来修，请问归谁管？",
    "我们单位已经三个月没发工资了，多次找老板都说没钱，请问该找哪个部门？希望政府帮帮我们。",
    "家里老人失能好几年了，护理费用很高。希望政府加快建立失能老人护理补贴制度，很多家庭负担很重，请问有没有这方面的计划？",
    "The street light at our gate has been out for weeks and nobody has come to fix it. How do "
    "I get someone to repair it?",
])
def test_a_grievance_or_plea_with_a_question_is_still_a_request(text):
    assert classify(text).is_request


def test_how_to_apply_is_not_what_should_i_do():
    """"怎么办理" asks how a service works; "怎么办" alone is a plea for help."""
    question = "我想把户口迁回老家，已经问过两次了，请问应该怎么办理，要什么材料？"
    assert classify(question).is_request is False
    assert classify("单位拖欠工资半年了，老板跑了，家里孩子还要上学，我们该怎么办？").is_request


def test_a_long_complaint_without_a_reference_is_no_status_look_up():
    text = ("我去年十月提交的补贴申请至今没有任何进展，打了很多次电话都说在审核，"
            "已经快一年了，这样拖下去让我们小企业怎么办？请领导督促尽快落实。")
    assert not classify(text).is_status_lookup and classify(text).is_request
    assert classify("我的申请 GOV-2024-001234 到哪一步了").is_status_lookup
    assert classify("I'd like to check the status of my application").is_status_lookup


def test_a_letter_is_read_back_in_one_short_line_of_its_own_words():
    line = restate(LETTER_ZH).line("zh")
    assert "\n" not in line and len(line) <= 60
    assert "烧烤店" in line and "139" not in line and "尊敬" not in line
    assert "和平路八号院" in line and "三个多月了" in line
    english = restate(LETTER_EN).line("en")
    # "Its lights…" alone would not say what "it" is: the sentence before names it
    assert english.startswith("The pedestrian bridge on Renmin Road near the Central Hospital – "
                              "its lights have been out for three weeks")
    assert "Dear" not in english and "writing" not in english


def test_i_am_writing_to_complain_about_keeps_what_it_is_about():
    letter = ("Dear Sir/Madam, I am writing to complain about the construction site next to "
              "Riverside Garden, Block 5. Since last month they have been working until 2am "
              "every night with heavy trucks and drilling. Please send someone to stop this.")
    assert restate(letter).line("en") == \
        "The construction site next to Riverside Garden, Block 5 (since: last month)"
    assert restate("Hello, I'm writing to report that the street light outside Sunrise Estate "
                   "has been broken for two weeks.").what.startswith(
        "The street light outside Sunrise Estate has been broken")


def test_a_subject_line_is_the_what():
    text = "幸福路口井盖丢失\n幸福路和建设路交叉口的井盖上周五就不见了，晚上很危险，请尽快处理。"
    restatement = restate(text)
    assert restatement.what == "幸福路口井盖丢失" and restatement.when == "上周"


def test_an_english_letter_is_read_back_without_its_wrapping():
    letter = ("Subject: Construction noise at night near Garden Road\n"
              "Dear Sir/Madam, I live in Block 5 of the Garden Road estate. For the past three "
              "weeks a construction site across the road has been working until 2 am. We called "
              "the hotline twice (my number 138****5521) but nothing changed. Please stop this.")
    line = restate(letter).line("en")
    assert line.startswith("Construction noise at night near Garden Road")
    assert "the past three weeks" in line and "Subject" not in line and "5 of the" not in line


def test_the_problem_after_who_i_am_is_the_what_and_a_bare_plea_is_not():
    text = ("Hello, I'm a delivery rider and my platform has deducted 800 yuan from my pay this "
            "month for late deliveries even though the app crashed. I want someone to "
            "investigate.")
    what = restate(text).what
    assert what.startswith("My platform has deducted 800 yuan") and "investigate" not in what


@pytest.mark.parametrize(("text", "part"), [
    ("我们公司已经三个月没发工资了，老板一直拖着不给，我们找了很多次都没用，请问拖欠工资政策是怎么规定的？",
     "请问拖欠工资政策是怎么规定的？"),
    # "这样" needs the clause it points back at
    ("物业乱收费，请问这样合法吗？希望尽快处理。", "物业乱收费，请问这样合法吗？"),
    ("My landlord is refusing to return my 3000 yuan deposit after I moved out two months "
     "ago. What does the policy say about deposits?", "What does the policy say about deposits?"),
    # asks, but not about rules or a service
    ("小区门口的路灯坏了两个星期了，为什么没人管？", None),
    ("楼上装修太吵了，还让不让人睡觉了？", None),
    ("路灯坏了两个星期了", None),
])
def test_the_question_part_of_a_request(text, part):
    assert question_part(text) == part


def test_the_read_back_leaves_out_a_closing_clause_that_asks_what_to_do():
    # A dispatcher restates the problem; "what can I do" is not part of it, nor a plea to act
    # ("能不能帮我投诉他", "你们管不管"), which used to be read back as the request.
    cases = {
        "我在一家装修公司干了三个月，老板一分钱工资都没给，我该怎么办？能不能帮我投诉他":
            "我在一家装修公司干了三个月，老板一分钱工资都没给",
        "小区物业不打扫卫生，电梯坏了半个月没人修。请问找哪个部门？能不能帮我们反映一下":
            "小区物业不打扫卫生，电梯坏了半个月没人修",
        "楼下路灯坏了快一个星期了，晚上很黑，你们管不管？": "楼下路灯坏了快一个星期了，晚上很黑",
        "我朋友被网上刷单诈骗了两万块，现在怎么办，能帮她报警吗": "我朋友被网上刷单诈骗了两万块",
        "The bus shelter on Lake Road has been smashed for a month. Can you report it for me?":
            "The bus shelter on Lake Road has been smashed for a month",
        "村里的河被工厂污染了，水都变黑了，政策是怎么规定的？": "村里的河被工厂污染了，水都变黑了",
        "公司三个月没发工资了，老板拖着，我们该去哪里投诉": "公司三个月没发工资了，老板拖着",
        "公司三個月沒發工資了，老闆拖著，我們該去哪裡投訴？": "公司三個月沒發工資了，老闆拖著",
        "小区电梯坏了，物业不修，这样合理吗？": "小区电梯坏了，物业不修",
        "My landlord kept my deposit, what can I do?": "My landlord kept my deposit",
        "The bar downstairs plays loud music every night, is this legal?":
            "The bar downstairs plays loud music every night",
    }
    for text, what in cases.items():
        assert restate(text).what == what, text
    # Nothing but the question: it stays (the request flow asks what happened).
    assert restate("怎么办").what == "怎么办"
    # A clause that names the problem is kept even when it ends the sentence.
    assert restate("路灯坏了两周，晚上很黑").what == "路灯坏了两周，晚上很黑"


def test_an_abbreviation_does_not_end_the_sentence_read_back():
    line = restate("The pavement outside No. 23 Heping Road has a big hole in it, my mother "
                   "tripped there last week.").what
    assert line.startswith("The pavement outside No. 23 Heping Road has a big hole")


def test_the_router_reads_a_request_without_its_closing_question():
    # "政策是怎么规定的" names no department's business; the router sees what happened.
    from routing.text import clean
    assert clean("村里的河被工厂污染了，鱼都死了，政策是怎么规定的？谢谢") == \
        "村里的河被工厂污染了，鱼都死了？"
    assert clean("My deposit was kept. It was 3000 yuan, what can I do?") == \
        "My deposit was kept. It was 3000 yuan?"


@pytest.mark.parametrize("text", [
    "my employer hasn't paid social insurance for me for half a year, what should I do",
    "My employer has not paid my wages for two months, what should I do?",
    "公司一年多没给我们交社保，经理一直推说下个月补，我们这些员工该怎么办",
    "公司三個月沒發工資了，老闆天天躲著不見人，我們工人該怎麼辦",
])
def test_someone_who_does_not_pay_and_what_to_do_is_a_request(text):
    assert classify(text).is_request


@pytest.mark.parametrize("text", [
    "my landlord won't give my deposit back", "the agency never gave my passport back",
    "The shop refuses to give the money back",
])
def test_something_kept_from_the_citizen_is_a_grievance(text):
    assert classify(text).is_grievance


@pytest.mark.parametrize("text", [
    "my old company never gave me a termination certificate, what should I do to claim "
    "unemployment benefit",
    "what should I bring to apply for a passport",
])
def test_what_should_i_do_to_get_a_service_stays_a_question(text):
    kind = classify(text)
    assert kind.service_question and not kind.is_request


def test_the_read_back_is_closed_as_a_sentence_once():
    from actions.request_summary import as_sentence
    assert as_sentence("路灯坏了（时间：两周了）", "zh") == "路灯坏了（时间：两周了）。"
    assert as_sentence("The site works until 2am with heavy…", "en") == \
        "The site works until 2am with heavy…"
    assert as_sentence("Is this legal?", "en") == "Is this legal?"
    assert as_sentence("The bar is loud", "en") == "The bar is loud."
