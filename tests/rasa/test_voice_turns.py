"""The spoken-dialogue rules of the voice channel (channels/voice_turns.py)."""

from __future__ import annotations

import pytest

from channels.voice_turns import (
    classify_answer,
    confirmation,
    corrected_number,
    number_groups,
    number_heard,
    number_readback,
    shorten,
    spoken_options,
)


@pytest.mark.parametrize(("text", "answer"), [
    ("是", "yes"), ("是的。", "yes"), ("对的，查进度", "yes"), ("Yes please", "yes"),
    ("OK.", "yes"), ("不是", "no"), ("不是的", "no"), ("No thanks.", "no"),
    ("再说一遍", "repeat"), ("您能再说一遍吗？", "repeat"), ("Could you repeat that?", "repeat"),
    ("我想查询申请进度", None), ("No, I want to ask about my pension instead of that", None),
    ("是不是要带身份证", None),
    # recognisers' homophones of one-word answers
    ("是等。", "yes"), ("对等", "yes"), ("不是灯。", "no"), ("部队", "no"), ("十", "yes"),
    ("医保", None), ("好几天了吗", None),
])
def test_short_answers(text, answer):
    assert classify_answer(text) == answer


def test_long_answers_are_cut_with_an_offer_to_hear_more():
    spoken = shorten("第一句。第二句！第三句？第四句。", "zh")
    assert spoken.say == "第一句。第二句！要继续听吗？"
    assert spoken.rest == "第三句？第四句。"
    short = shorten("Only one sentence here.", "en")
    assert (short.say, short.rest) == ("Only one sentence here.", "")


def test_buttons_become_things_to_say():
    buttons = [{"title": "民政局"}, {"title": "人社局"}, {"title": "转人工"}]
    assert spoken_options(buttons, "zh") == "您可以说：民政局、人社局，或者转人工。"
    assert spoken_options([{"title": "Yes"}, {"title": "No"}], "en") == "You can say: Yes, or No."
    assert spoken_options([], "en") == ""


def test_confirmation_quotes_what_was_heard():
    prompt = confirmation("我想查询申请进度。", "check_application_status", "zh")
    assert prompt.startswith("我听到的是：“我想查询申请进度”。您是想查询申请进度吗？")
    assert "yes or no" in confirmation("I want a person", "human_handoff", "en")


@pytest.mark.parametrize("heard", [
    "gov twenty twenty-five three three five zero zero three",
    "G O V 二零二五 三三五零零三",
    "My number is gee oh vee, two oh two five, double three five, oh oh three.",
    "申请号是 G.O.V. 2025-335-003",
    "二零二五，三三五，零零三",
])
def test_reference_numbers_said_aloud_in_either_language(heard):
    from speech.spoken_text import from_speech

    assert number_heard(from_speech(heard), "reference_number") == "GOV-2025-335003"
    assert number_heard(from_speech("尾号五六七八"), "verification_code") == "5678"
    assert number_heard("申请号是2024", "reference_number") is None  # not a whole reference


def test_words_that_are_not_numbers_stay_words():
    from speech.spoken_text import from_speech

    assert from_speech("I have two children and one dog") == "I have two children and one dog"
    assert from_speech("Go very fast") == "Go very fast"
    assert from_speech("The last four digits are five six seven eight.") == \
        "The last four digits are 5678."


def test_numbers_are_read_back_in_short_groups_digit_by_digit():
    assert number_groups("GOV-2025-335003") == ["GOV", "2025", "335", "003"]
    assert number_groups("T-20250611-000394") == ["T", "2025", "0611", "000", "394"]
    shown = number_readback("GOV-2025-335003", "zh")
    assert shown.startswith("我听到的号码是：GOV，2025，335，003。对吗？")
    assert "最后一段是" in shown  # how to correct one group
    spoken = number_readback("GOV-2025-335003", "en", spoken=True)
    assert "G O V, two zero two five, three three five, zero zero three" in spoken
    assert "group" not in number_readback("5678", "en")  # one group: nothing to pick


@pytest.mark.parametrize(("said", "number"), [
    ("第三组是336", "GOV-2025-336003"), ("第 4 组 是 004", "GOV-2025-335004"),
    ("The third group is 3 3 6.", "GOV-2025-336003"), ("group two is 2024", "GOV-2024-335003"),
    ("第三组是33", None),  # too few digits for the group: ask again rather than guess
    ("第一组是123", None),  # the letters are not a digit group
    ("是的", None), ("第九组是123", None),
])
def test_one_group_can_be_corrected(said, number):
    assert corrected_number("GOV-2025-335003", said) == number


def test_a_group_named_with_the_wrong_number_of_digits_is_asked_for_again():
    from channels.voice_turns import group_again, group_named

    assert group_named("GOV-2025-335003", "第三组是9999") == (3, 3)
    assert group_named("GOV-2025-335003", "第一组是123") is None  # GOV has no digits
    assert group_named("GOV-2025-335003", "是的") is None
    assert group_again(3, 3, "zh") == "第三段是三位数字，请一位一位再说一遍，例如“第三段是三三五”。"
    assert group_again(2, 4, "en").startswith("Part 2 has 4 digits")
