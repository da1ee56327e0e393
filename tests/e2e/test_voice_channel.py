"""The voice channel end to end: real recordings (spoken by the project's own voices) through
the real speech service, Rasa and the action server; replies come back as text and MP3."""

from __future__ import annotations

import base64
import io
import re
import urllib.error
import urllib.request
import wave
from concurrent.futures import ThreadPoolExecutor

import pytest

from helpers.voice import VoiceConversation, post_form, synthesize
from speech.auth import HEADER
from storage.seed import demo_applicants


@pytest.fixture
def zh(stack) -> VoiceConversation:
    return VoiceConversation(stack.settings.rasa_url, stack.settings.speech_url, "zh")


@pytest.fixture
def en(stack) -> VoiceConversation:
    return VoiceConversation(stack.settings.rasa_url, stack.settings.speech_url, "en")


def assert_spoken(reply: dict) -> None:
    assert reply["audio"].startswith("data:audio/mpeg;base64,")
    mp3 = base64.b64decode(reply["audio"].split(",", 1)[1])
    assert len(mp3) > 1000 and (mp3[:3] == b"ID3" or mp3[0] == 0xFF)


def test_an_english_question_is_answered_aloud_with_its_source(en):
    # A question the sample knowledge base answers in English without doubt: this tests the
    # voice turn, not where the answer-or-decline line falls for a vaguer one.
    reply = en.say("How do I apply for the disability subsidy?")
    assert "disability" in reply["heard"].lower()
    assert reply["language"] == "en" and reply["error"] is None
    assert "subsid" in reply["text"].lower()
    assert len(reply["spoken"]) < len(reply["text"])  # the screen has it all; the voice is short
    assert_spoken(reply)


def say_number(conversation: VoiceConversation, words: str, number: str) -> dict:
    """Say a number; the assistant reads back what it heard. A citizen who hears it wrong
    says "不是" and says it again, more slowly, in groups: so does this test (twice at most)."""
    for attempt, rate in ((1, 1.0), (2, 0.7)):
        spoken = words if attempt == 1 else "，".join([number[:4], number[4:7], number[7:]])
        reply = conversation.say(spoken, rate)
        assert reply["pending"]["about"] == "number" and "对吗" in reply["text"]
        if number in "".join(char for char in reply["heard"] if char.isdigit()):
            return conversation.say("是的")
        assert conversation.say("不是")["text"].startswith("好的，请再说一遍号码")
    raise AssertionError(f"{number} not heard: {reply['heard']}")


def test_status_check_is_confirmed_then_verified_by_voice(zh):
    person = demo_applicants(5)[2]
    reply = zh.say("我想查询我的申请进度")
    assert reply["pending"] == {"kind": "confirm", "text": reply["heard"]}
    assert "您是想查询申请进度吗" in reply["text"]
    reply = zh.say("是的")
    assert "申请号" in reply["text"] and reply["pending"] is None
    digits = person.number.split("-", 1)[1].replace("-", "")
    reply = say_number(zh, f"申请号是 {person.number}", digits)
    assert "后四位" in reply["text"] or "尾号" in reply["text"], (reply["heard"], reply["text"])
    reply = say_number(zh, f"手机尾号 {person.phone[-4:]}", person.phone[-4:])
    assert person.number in reply["text"] and "当前状态" in reply["text"]


def test_no_means_say_it_again_and_nothing_is_done(zh):
    zh.say("我想查询我的申请进度")
    reply = zh.say("不是")
    assert reply["text"] == "好的，请再说一遍您要办的事。" and reply["pending"] is None


def test_repeat_says_the_last_reply_again(en):
    first = en.say("Hello")
    again = en.say("Could you repeat that?")
    assert again["text"] == first["spoken"]
    assert_spoken(again)


def test_long_answers_offer_more_and_continue_on_yes(en):
    reply = en.say("What documents do I need for a business licence?")
    assert reply["pending"] and reply["pending"]["kind"] == "more"
    assert reply["spoken"].endswith("Would you like to hear more?") or "You can say" in \
        reply["spoken"]
    rest = reply["pending"]["text"]
    more = en.say("Yes please")
    assert more["text"] == rest


def test_tapping_a_button_skips_recognition(en):
    status, reply = en.send(text="/human_handoff")
    assert status == 200 and reply["heard"] == "/human_handoff"
    assert reply["text"] and reply["error"] is None


def test_a_person_takes_over_and_their_reply_reaches_the_voice_page(stack, zh):
    from helpers.staff import staff_api

    status, reply = zh.send(text="/human_handoff")  # the page's 找人工 button
    assert status == 200 and reply["waiting_for_person"] is True
    after = reply["time"]
    spoken_while_waiting = zh.say("我想问一下养老金的事")
    assert spoken_while_waiting["text"] == "您的话已经转给工作人员，请稍候。"
    assert zh.updates(after)["messages"] == []  # nothing from staff yet

    [entry] = [e for e in staff_api(stack, "GET", "/api/handoffs")[1]["handoffs"]
               if e["conversation_id"] == zh.sender]
    assert entry["channel"] == "voice"
    assert staff_api(stack, "POST", f"/api/handoffs/{entry['id']}/take",
                     {"staff": "li.na"})[0] == 200
    assert staff_api(stack, "POST", f"/api/handoffs/{entry['id']}/reply",
                     {"staff": "li.na", "text": "您好，我是李娜，养老金每月15日发放。"})[0] == 200
    news = zh.updates(after)
    assert news["messages"] == ["您好，我是李娜，养老金每月15日发放。"]
    assert news["waiting_for_person"] is True
    assert_spoken(news)
    assert zh.updates(news["time"])["messages"] == []  # each message is fetched once

    assert staff_api(stack, "POST", f"/api/handoffs/{entry['id']}/close")[0] == 200
    assert zh.updates(news["time"])["waiting_for_person"] is False


def test_updates_refuse_bad_queries(stack, en):
    base = f"{stack.settings.rasa_url}/webhooks/voice/updates"
    with pytest.raises(urllib.error.HTTPError) as refused:  # the old GET with a query
        urllib.request.urlopen(base + "?sender=x&after=0", timeout=30)
    assert refused.value.code == 405
    assert en.send(text="/greet")[0] == 200
    for fields in ({}, {"after": "1"}, {**en.credentials, "after": "soon"},
                   {**en.credentials, "after": "-5"}, {**en.credentials, "after": "nan"}):
        status, reply = post_form(base, {**fields, "language": "en"})
        assert status == 400 and reply["error"] == "bad_request" and "malformed" in reply["text"]


@pytest.mark.parametrize(("audio", "errors"), [
    (b"", {"empty"}),
    (b"definitely not a recording" * 40, {"not_audio"}),
    (b"RIFF\x10\x00\x00\x00WAVEfmt \x10\x00\x00\x00", {"not_audio", "empty"}),
])
def test_unusable_recordings_get_a_spoken_explanation(en, zh, audio, errors):
    for conversation, script in ((zh, "\u4e00-\u9fff"), (en, "A-Za-z")):
        code, reply = conversation.send(audio)
        assert code == 422 and reply["error"] in errors
        assert re.match(f"[{script}]", reply["text"]) and reply["audio"]


def test_silence_and_overlong_recordings(stack, zh):
    def wav(seconds: float, rate: int = 8000) -> bytes:
        buffer = io.BytesIO()
        with wave.open(buffer, "wb") as out:
            out.setnchannels(1)
            out.setsampwidth(2)
            out.setframerate(rate)
            out.writeframes(b"\x00\x00" * int(seconds * rate))
        return buffer.getvalue()

    code, reply = zh.send(wav(3))
    assert (code, reply["error"]) == (422, "silence") and "没有听到" in reply["text"]
    code, reply = zh.send(wav(600))  # ten minutes: decoded up to the limit, then refused
    assert (code, reply["error"]) == (413, "too_long") and "太长" in reply["text"]
    code, reply = zh.send(b"\x00" * (13 * 1024 * 1024))  # over the upload limit
    assert code == 413 and reply["error"] == "too_long"


def test_malformed_requests_are_refused_in_the_page_language(stack, en):
    code, reply = en.post({"language": "en"}, {})  # neither audio nor text
    assert code == 400 and reply["error"] == "bad_request" and "malformed" in reply["text"]
    code, reply = en.post({"language": "zh"}, {})
    assert code == 400 and "请求格式不正确" in reply["text"]
    code, reply = en.post({"language": "en", "pending": "{not json"},
                          {"audio": synthesize(stack.settings.speech_url, "hello", "en")})
    assert code == 400


def test_floods_from_one_sender_are_slowed_down(stack):
    flood = VoiceConversation(stack.settings.rasa_url, stack.settings.speech_url, "en")
    assert flood.send(b"")[0] == 422  # the first reply issues the conversation
    # burst 10, then 20 a minute; all at once, as a slow reply would pace them otherwise
    with ThreadPoolExecutor(24) as pool:
        codes = list(pool.map(lambda _: flood.send(b"")[0], range(24)))
    assert codes.count(429) >= 5
    other = VoiceConversation(stack.settings.rasa_url, stack.settings.speech_url, "en")
    assert other.send(b"")[0] == 422  # others are unaffected


STACK = object()  # the running stack's speech token


@pytest.mark.parametrize(("path", "body", "token", "status", "error"), [
    ("/v1/transcribe?language=fr", b"x", STACK, 400, "bad_language"),
    ("/v1/transcribe?expect=poem", b"x", STACK, 400, "bad_request"),
    ("/v1/synthesize", b"{not json", STACK, 400, "bad_request"),
    ("/v1/synthesize", b'["a list"]', STACK, 400, "bad_request"),
    ("/v1/synthesize", b'{"text": "hi", "language": "fr"}', STACK, 400, "bad_request"),
    ("/v1/synthesize", b'{"text": "hi", "language": "en", "rate": 9}', STACK, 400, "bad_request"),
    ("/v1/synthesize", b'{"text": "hi", "language": "en", "format": "flac"}', STACK, 400,
     "bad_request"),
    ("/v1/synthesize", ('{"text": "%s", "language": "en"}' % ("a" * 1001)).encode(), STACK, 413,
     "too_large"),
    ("/v1/synthesize", b'{"text": "* * *", "language": "zh"}', STACK, 422, "nothing_to_say"),
    # only the assistant's channels may call it: no token, or a wrong one, is refused first
    ("/v1/synthesize", b'{"text": "hi", "language": "en"}', None, 401, "missing_token"),
    ("/v1/transcribe?language=en", b"x", None, 401, "missing_token"),
    ("/v1/transcribe?language=en", b"x", "not-the-token", 403, "wrong_token"),
    ("/v1/synthesize", b'{"text": "hi", "language": "en"}', "not-the-token", 403, "wrong_token"),
])
def test_speech_service_refuses_bad_requests_clearly(stack, path, body, token, status, error):
    import json
    import urllib.error
    import urllib.request

    request = urllib.request.Request(stack.settings.speech_url + path, data=body,
                                     headers={"Content-Type": "application/json"})
    token = stack.settings.speech_token() if token is STACK else token
    if token is not None:
        request.add_header(HEADER, token)
    with pytest.raises(urllib.error.HTTPError) as refused:
        urllib.request.urlopen(request, timeout=30)
    assert refused.value.code == status
    assert json.loads(refused.value.read())["error"] == error


def test_english_on_the_chinese_page_is_answered_in_english(stack, zh):
    """Never translated, never forced into the page's language: the reply is in the language
    spoken, and the page is told to switch."""
    status, reply = zh.send(synthesize(stack.settings.speech_url,
                                       "How do I apply for the disability subsidy?", "en"))
    assert status == 200, reply
    assert "disability" in reply["heard"].lower()
    assert reply["language"] == "en" and reply["switch_language"] == "en"
    assert "subsid" in reply["text"].lower() and not re.search("[\u4e00-\u9fff]", reply["spoken"])


def test_mandarin_on_the_english_page_is_answered_in_mandarin(stack, en):
    en.send(text='/switch_language{"language_name": "en"}')  # the citizen tapped "English"
    status, reply = en.send(synthesize(stack.settings.speech_url, "我想查询我的申请进度", "zh"))
    assert status == 200, reply
    assert reply["language"] == "zh" and reply["switch_language"] == "zh"
    assert "您是想查询申请进度吗" in reply["text"]  # the usual confirmation, in Mandarin


@pytest.mark.parametrize(("conversation", "loop", "heard_once", "question"), [
    ("zh", "让你解释，让你解释，让你解释，让你解释。", "让你解释", "对吗"),
    ("en", "I want to, I want to, I want to, I want to.", "i want to", "Is that right?"),
])
def test_a_loop_is_read_back_and_nothing_is_done_until_the_citizen_says_yes(
        request, conversation, loop, heard_once, question):
    talk: VoiceConversation = request.getfixturevalue(conversation)
    reply = talk.say(loop)
    assert reply["pending"]["about"] == "heard" and question in reply["text"]
    assert heard_once in reply["heard"].lower().replace(",", "")
    assert reply["buttons"] == [] and reply["waiting_for_person"] is False
    no = talk.say("不是" if conversation == "zh" else "No.")
    again = {"zh": "好的，请再说一遍您要办的事。",
             "en": "All right, please say again what you need."}
    assert no["pending"] is None and no["text"] == again[conversation]


@pytest.mark.parametrize(("conversation", "said", "reply_words"), [
    ("zh", "谢谢观看。", "找人工"),
    ("en", "Thanks for watching!", "Talk to a person"),
])
def test_subtitle_phrases_are_never_acted_on(request, conversation, said, reply_words):
    """What Whisper invents from noise is refused as unclear, with a person offered."""
    talk: VoiceConversation = request.getfixturevalue(conversation)
    status, reply = talk.send(synthesize(talk.speech_url, said, conversation))
    assert (status, reply["error"]) == (422, "unclear"), reply
    assert reply_words in reply["text"] and reply["audio"]


@pytest.mark.parametrize(("conversation", "said", "fix", "shown"), [
    ("zh", "申请号是GOV-2024-001234", "第三组是五六七", "我听到的号码是：GOV，"),
    ("en", "It is GOV-2024-001234", "The third group is five six seven.",
     "I heard the number: GOV, "),
])
def test_a_number_is_read_back_in_groups_and_one_group_corrected(
        request, conversation, said, fix, shown):
    from channels.voice_turns import corrected_number, number_groups

    talk: VoiceConversation = request.getfixturevalue(conversation)
    status, asked = talk.send(text="/check_application_status")  # the page's button
    assert status == 200 and asked["pending"] is None
    for rate in (0.8, 0.6):  # a citizen not heard right the first time says it more slowly
        reply = talk.say(said, rate=rate)
        number = reply["pending"]["text"]
        assert reply["pending"]["about"] == "number"
        if number.startswith("GOV-2024-"):
            break
        assert talk.say("不是" if conversation == "zh" else "No.")["pending"] is None
    assert number.startswith("GOV-2024-"), reply["heard"]
    assert reply["text"].startswith(shown + ("，" if conversation == "zh" else ", ").join(
        number_groups(number)[1:]))
    assert "2024" not in reply["spoken"]  # digit by digit, not "two thousand and twenty-four"
    fixed = talk.say(fix, rate=0.8)
    assert fixed["pending"] == {"kind": "confirm", "about": "number",
                                "text": corrected_number(number, "第三组是567")}
    assert "567" in fixed["text"] and "GOV-2024-" in fixed["pending"]["text"]
