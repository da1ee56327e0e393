"""The spoken-dialogue rules of the voice channel (channels/voice_turns.py)."""

from __future__ import annotations

import pytest

from channels.voice_turns import classify_answer, confirmation, shorten, spoken_options


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
