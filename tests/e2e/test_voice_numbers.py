"""Reference numbers by voice, end to end through the real stack (speech service, Rasa, the
action server and its database), in both languages: said aloud by the project's own voices,
read back in short groups, one group corrected ("不对，最后一段是…", "no, the last part is …":
a correction, not a no), and looked up only after the citizen says yes. Typed on the page's
keypad, a number is sent as it is (typed is exact: no read-back)."""

from __future__ import annotations

import pytest

from channels.voice_turns import number_groups
from helpers.voice import VoiceConversation
from storage.seed import demo_applicants

# What each language's citizen says; {number} is written with Arabic digits, which the voice
# (speech.spoken_text.for_speaking) reads digit by digit, and GOV letter by letter.
SAID = {
    "zh": {"number": "申请号是{number}", "fix": "不对，最后一段是{digits}", "yes": "是的",
           "no": "不是", "code": "手机尾号是{digits}", "shown": "我听到的号码是",
           "asks_code": "后四位", "status": "当前状态", "check": "我想查询申请进度"},
    "en": {"number": "My application number is {number}", "fix": "No, the last part is {digits}.",
           "yes": "Yes.", "no": "No.", "code": "The last four digits are {digits}.",
           "shown": "I heard the number", "asks_code": "last 4 digits", "status": "Status:",
           "check": "I want to check the status of my application."},
}
ZH_DIGITS = "零一二三四五六七八九"


def spelled(digits: str, language: str) -> str:
    return "".join(ZH_DIGITS[int(d)] for d in digits) if language == "zh" else " ".join(digits)


def wrong_last_group(number: str) -> str:
    """`number` with its last three digits changed: what a citizen says by mistake."""
    last = "".join(str((int(d) + 5) % 10) for d in number[-3:])
    return number[:-3] + last


def start_status_check(talk: VoiceConversation, said: dict) -> dict:
    """The citizen asks (typed here: the numbers are what is spoken) and confirms."""
    status, confirm = talk.send(text=said["check"])
    assert status == 200 and confirm["pending"]["kind"] == "confirm", confirm
    status, asked = talk.send(text=said["yes"])
    assert status == 200, asked
    return asked


def read_back(talk: VoiceConversation, words: str, expected: str, no: str) -> dict:
    """Say `words` until the read-back holds `expected` (a citizen not heard right says no
    and says it again, more slowly: twice at most)."""
    reply: dict = {}
    for rate in (0.8, 0.6):
        reply = talk.say(words, rate=rate)
        assert reply["pending"]["about"] == "number", reply
        if reply["pending"]["text"] == expected:
            return reply
        assert talk.say(no)["pending"] is None
    raise AssertionError(f"{expected} not heard: {reply['heard']!r}")


@pytest.mark.parametrize("language", ["zh", "en"])
def test_a_spoken_number_is_read_back_corrected_by_group_and_looked_up_after_yes(
        stack, language):
    said = SAID[language]
    person = demo_applicants(5)[1]
    talk = VoiceConversation(stack.settings.rasa_url, stack.settings.speech_url, language)
    asked = start_status_check(talk, said)
    assert asked["keypad"] == "reference_number"
    mistaken = wrong_last_group(person.number)
    first = read_back(talk, said["number"].format(number=mistaken), mistaken, said["no"])
    # read back in short groups, slowly and digit by digit, with how to correct one group
    separator = "，" if language == "zh" else ", "
    assert first["text"].startswith(f"{said['shown']}：" if language == "zh"
                                    else f"{said['shown']}: ")
    assert separator.join(number_groups(mistaken)) in first["text"]
    assert said["asks_code"] not in first["text"]  # nothing looked up yet
    assert first["keypad"] == "reference_number"  # the form still asks: the keypad stays
    fixed: dict = {}
    for rate in (0.8, 0.6):  # the last group corrected, not the whole number said again
        fixed = talk.say(said["fix"].format(digits=spelled(person.number[-3:], language)),
                         rate=rate)
        if fixed["pending"] and fixed["pending"]["text"] == person.number:
            break
    assert fixed["pending"] == {"kind": "confirm", "about": "number", "text": person.number}, \
        fixed["heard"]
    assert said["asks_code"] not in fixed["text"]
    asked_code = talk.say(said["yes"])  # only now does the form get the number
    assert said["asks_code"] in asked_code["text"], asked_code
    assert asked_code["keypad"] == "verification_code"
    digits = person.phone[-4:]
    read_back(talk, said["code"].format(digits=spelled(digits, language)), digits, said["no"])
    shown = talk.say(said["yes"])
    assert person.number in shown["text"] and said["status"] in shown["text"], shown["text"]
    assert shown["keypad"] is None  # the form is over


@pytest.mark.parametrize("language", ["zh", "en"])
def test_a_number_typed_on_the_keypad_is_taken_as_typed(stack, language):
    said = SAID[language]
    person = demo_applicants(5)[3]
    talk = VoiceConversation(stack.settings.rasa_url, stack.settings.speech_url, language)
    start_status_check(talk, said)
    status, asked = talk.send(text=person.number)  # as the keypad sends it
    assert status == 200 and said["asks_code"] in asked["text"] and asked["pending"] is None
    status, shown = talk.send(text=person.phone[-4:])
    assert person.number in shown["text"] and said["status"] in shown["text"]
