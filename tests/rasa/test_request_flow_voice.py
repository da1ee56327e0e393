"""The request flow's read-back on the voice page: heard whole, and a short "是" / "yes"
answers it (channels/voice_turns.py rules applied to the domain's responses)."""

from __future__ import annotations

import pytest

from actions.request_summary import restate
from channels.voice_turns import classify_answer, shorten, spoken_options
from helpers import response_texts

LETTERS = {
    "zh": "尊敬的领导：幸福路菜市场门口的路灯坏了两个星期了，晚上很黑，老人摔倒了，请尽快修理。",
    "en": "Dear Sir, the street light outside Xingfu Road market has been out for two weeks. "
          "An old man fell last night. Please repair it.",
}


@pytest.mark.parametrize("language", ["zh", "en"])
def test_the_proposal_is_spoken_whole_and_answered_with_yes(language):
    department = "市城市管理局" if language == "zh" else "Urban Management Bureau"
    responsibility = "路灯、井盖" if language == "zh" else "street lights, manhole covers"
    [template] = response_texts("utter_confirm_department", language)
    text = template.format(summary=restate(LETTERS[language]).line(language),
                           department=department, responsibility=responsibility)
    spoken = shorten(text, language)
    assert spoken.rest == "" and department in spoken.say  # no "hear more?" before the question
    yes = "对，转给市城市管理局" if language == "zh" else "Yes, the Urban Management Bureau"
    assert department in spoken_options([{"title": yes}], language)
    assert classify_answer("对" if language == "zh" else "yes") == "yes"
