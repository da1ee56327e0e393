"""The voice page (/voice) in a real browser: Debian's Chromium, driven by Playwright, with a fake
microphone that plays a question spoken by the speech service's own voices.

An English-speaking citizen holds the big button for as long as the question lasts and hears the
answer; a Mandarin-speaking one, using the keyboard (Enter to start, Enter to stop), is asked to
confirm before the assistant checks an application, taps 是 and is asked for the application
number. A third has no microphone (permission denied):
the page says so in both languages, and switching language, the "talk to a person" button and
the way back to the text chat all still work. Screenshots go to var/test-output/.
"""

from __future__ import annotations

import asyncio
import io
import json
import os
import urllib.request
import wave
from contextlib import asynccontextmanager
from pathlib import Path
from typing import AsyncIterator

from aiohttp.test_utils import TestClient, TestServer

from helpers.accessibility import axe_source, violations
from helpers.browser import OUTPUT, chromium, requires_chromium, until_ready
from speech.auth import token_headers
from webchat.app import create_app

REPLY_TIMEOUT = 60000
STOP_MARGIN_MS = 1500  # silence recorded after the question, before the citizen stops
LEAD_SILENCE, TAIL_SILENCE = 0.6, 1.0  # seconds around the question in the fake microphone's file
FAKE_DEVICES = ["--use-fake-device-for-media-stream"]
# Test instruments, added before the page's own script (the page itself has no test hooks):
# every audio element that starts playing, and the fields of every voice turn the page posts
# (not its polls for staff replies).
INSTRUMENTS = """
window.__plays = [];
document.addEventListener("play", (event) => {
  // (not the moment of silence the page plays on the first tap, for phones' autoplay rules)
  const source = event.target.currentSrc;
  if (source.startsWith("data:")) { window.__plays.push(source.slice(0, 80)); }
}, true);
window.__turns = [];
const realFetch = window.fetch.bind(window);
window.fetch = (url, options) => {
  if (options && options.body instanceof FormData && !String(url).endsWith("/updates")) {
    window.__turns.push(Object.fromEntries([...options.body.entries()].map(([name, value]) => [
      name,
      typeof value === "string" ? value : {file: value.name, type: value.type, size: value.size},
    ])));
  }
  return realFetch(url, options);
};
"""
TURN_OVER = ("(before) => window.__turns.length > before"
             " && document.getElementById('talk').getAttribute('aria-disabled') === 'false'")

pytestmark = requires_chromium


def spoken_question(speech_url: str, text: str, language: str, path: Path) -> float:
    """A 16-bit PCM WAV of `text` in the project's own voice, with silence before (the recorder
    starts a moment after the microphone opens) and after (the citizen lets go once done).
    Returns its length in seconds."""
    body = json.dumps({"text": text, "language": language, "format": "wav", "rate": 1.0}).encode()
    request = urllib.request.Request(f"{speech_url}/v1/synthesize", data=body, headers={
        "Content-Type": "application/json",
        **token_headers(os.environ.get("GOV_SPEECH_TOKEN", ""))})
    with urllib.request.urlopen(request, timeout=60) as reply:
        data = reply.read()
    with wave.open(io.BytesIO(data)) as source:
        assert source.getsampwidth() == 2 and source.getnchannels() == 1
        rate, frames = source.getframerate(), source.readframes(source.getnframes())
    with wave.open(str(path), "wb") as out:
        out.setnchannels(1)
        out.setsampwidth(2)
        out.setframerate(rate)
        out.writeframes(bytes(2 * int(rate * LEAD_SILENCE)) + frames
                        + bytes(2 * int(rate * TAIL_SILENCE)))
    return LEAD_SILENCE + len(frames) / 2 / rate + TAIL_SILENCE


def microphone_playing(wav: Path) -> list[str]:
    """Chromium flags: the microphone is allowed without asking and plays `wav` once."""
    return [*FAKE_DEVICES, "--use-fake-ui-for-media-stream",
            f"--use-file-for-fake-audio-capture={wav}%noloop"]


@asynccontextmanager
async def voice_page(url: str, locale: str, args: list[str]) -> AsyncIterator:
    """A phone-sized page of `url` in a fresh browser; page.problems collects script errors and
    console errors (a Content-Security-Policy violation is one)."""
    async with chromium(*args) as browser:
        context = await browser.new_context(locale=locale, has_touch=True,
                                            viewport={"width": 412, "height": 915})
        await context.add_init_script(INSTRUMENTS)
        page = await context.new_page()
        page.problems = []
        page.on("pageerror", lambda error: page.problems.append(str(error)))
        page.on("console", lambda message: page.problems.append(message.text)
                if message.type == "error" else None)
        await page.goto(url)
        await until_ready(page)
        yield page


async def turns(page) -> list[dict]:
    return await page.evaluate("window.__turns")


async def next_answer(page, before: int, expect: str = "") -> str:
    """The answer to the turn after the first `before` ones (containing `expect`)."""
    await page.wait_for_function(TURN_OVER, arg=before, timeout=REPLY_TIMEOUT)
    if expect:
        try:
            await page.locator("#answer-text", has_text=expect).wait_for(timeout=5000)
        except Exception as error:  # say what was heard and answered instead
            heard = await page.locator("#heard").inner_text()
            answer = await page.locator("#answer-text").inner_text()
            raise AssertionError(f"expected {expect!r}; heard {heard!r}, answered {answer!r}") \
                from error
    return await page.locator("#answer-text").inner_text()


async def hold_to_talk(page, seconds: float) -> dict:
    """Press the big button, keep it down for `seconds` (the question's length), let go.
    Returns what the page showed meanwhile."""
    box = await page.locator("#talk").bounding_box()
    await page.mouse.move(box["x"] + box["width"] / 2, box["y"] + box["height"] / 2)
    await page.mouse.down()
    await page.wait_for_timeout(int(seconds * 500))
    held = {"status": await page.locator("#status").inner_text(),
            "label": await page.locator("#talk-label").inner_text(),
            "pressed": await page.get_attribute("#talk", "aria-pressed")}
    await page.wait_for_timeout(int(seconds * 500))
    await page.mouse.up()
    return held


async def screenshot(page, name: str) -> None:
    """The whole page in one image."""
    await page.screenshot(path=str(OUTPUT / name), full_page=True)


async def font_px(page, selector: str) -> float:
    return float((await page.locator(selector).evaluate("e => getComputedStyle(e).fontSize"))[:-2])


async def english_question(web_url: str, speech_url: str, wav: Path) -> dict:
    seconds = spoken_question(speech_url, "How do I apply for the disability subsidy?", "en", wav)
    seen: dict = {}
    async with voice_page(web_url + "/voice", "en-US", microphone_playing(wav)) as page:
        seen["chrome"] = [await page.get_attribute("html", "lang"),
                          await page.locator("#talk-label").inner_text(),
                          await page.locator("#handoff").inner_text(),
                          await page.locator("#status").inner_text()]
        seen["held"] = await hold_to_talk(page, seconds)
        seen["answer"] = await next_answer(page, 0)
        seen["heard"] = await page.locator("#heard").inner_text()
        seen["turn"] = (await turns(page))[0]
        seen["audio"] = await page.get_attribute("#player", "src") or ""
        await page.wait_for_function("() => window.__plays.length >= 1", timeout=10000)
        seen["answer_region"] = [await page.get_attribute("#answer", "aria-live"),
                                 await page.get_attribute("#answer-text", "lang")]
        seen["sizes"] = [await font_px(page, "#heard"), await font_px(page, "#answer-text")]
        seen["options"] = await page.locator("#options button").all_inner_texts()
        await screenshot(page, "voice-en-answer.png")
        await page.locator("#replay").click()
        await page.wait_for_function("() => window.__plays.length >= 2", timeout=10000)
        seen["plays"] = await page.evaluate("window.__plays")
        seen["replay_disabled"] = await page.locator("#replay").is_disabled()
        seen["problems"] = page.problems
    return seen


def test_english_question_asked_by_holding_the_button_is_answered_aloud(stack, tmp_path):
    seen = asyncio.run(english_question(stack.settings.web_url, stack.settings.speech_url,
                                        tmp_path / "question-en.wav"))
    assert seen["chrome"] == ["en", "Hold to talk", "Talk to a person",
                              "Hold the big button and speak"]
    assert seen["held"] == {"status": "Listening…", "label": "Let go to finish", "pressed": "true"}
    assert seen["heard"].startswith("You said:") and "disability" in seen["heard"].lower()
    assert "subsid" in seen["answer"].lower()
    turn = seen["turn"]
    # a first turn: the channel issues the conversation id and its key in its reply
    assert turn["language"] == "en" and "sender" not in turn and "sender_key" not in turn
    assert turn["audio"]["type"].startswith("audio/webm") and turn["audio"]["size"] > 1000
    assert "pending" not in turn and "previous" not in turn  # a first turn
    assert seen["audio"].startswith("data:audio/")
    assert seen["answer_region"] == ["polite", "en"]
    assert min(seen["sizes"]) >= 28
    assert seen["options"] == ["Helpful", "Not helpful"]  # the answer's feedback buttons
    # Played on arrival, and again with "Play again".
    assert len(seen["plays"]) >= 2 and all(p.startswith("data:audio/") for p in seen["plays"])
    assert seen["plays"][-1] == seen["audio"][:80] and not seen["replay_disabled"]
    assert seen["problems"] == []


async def mandarin_status_check(web_url: str, speech_url: str, wav: Path) -> dict:
    seconds = spoken_question(speech_url, "我想查询申请进度", "zh", wav)
    seen: dict = {}
    async with voice_page(web_url + "/voice", "zh-CN", microphone_playing(wav)) as page:
        seen["chrome"] = [await page.get_attribute("html", "lang"),
                          await page.locator("#talk-label").inner_text(),
                          await page.locator("#handoff").inner_text()]
        # From the keyboard, tap to start and tap to stop: Enter once, speak, Enter again.
        await page.locator("#talk").focus()
        await page.keyboard.press("Enter")
        await page.wait_for_timeout(int(seconds * 500))
        seen["tapped"] = [await page.locator("#talk-label").inner_text(),
                          await page.locator("#status").inner_text()]
        # and a margin before the second tap: on a busy machine the fake microphone's file
        # starts late, and a tap on time would cut the question's last words
        await page.wait_for_timeout(int(seconds * 500) + STOP_MARGIN_MS)
        await page.keyboard.press("Enter")
        seen["prompt"] = await next_answer(page, 0, "您是想查询申请进度吗")
        seen["heard"] = await page.locator("#heard").inner_text()
        seen["choices"] = await page.locator("#confirm button").all_inner_texts()
        await screenshot(page, "voice-zh-confirm.png")
        await page.get_by_role("button", name="是", exact=True).click()
        seen["asked"] = await next_answer(page, 1, "申请号")
        seen["after_yes"] = [await page.locator("#heard").inner_text(),
                             await page.locator("#confirm").is_visible()]
        seen["turns"] = await turns(page)
        await screenshot(page, "voice-zh-after-yes.png")
        seen["problems"] = page.problems
    return seen


def test_mandarin_status_check_is_confirmed_with_a_tap_on_yes(stack, tmp_path):
    seen = asyncio.run(mandarin_status_check(stack.settings.web_url, stack.settings.speech_url,
                                             tmp_path / "question-zh.wav"))
    assert seen["chrome"] == ["zh-CN", "按住说话", "找人工"]
    assert seen["tapped"] == ["再点一下结束", "正在听…"]
    # Whisper base may mishear a character after the browser's Opus encoding (进度 → 进读);
    # what matters is that the request is understood and confirmed
    assert seen["heard"].startswith("您说：我想查询")
    assert "您是想查询申请进度吗" in seen["prompt"]
    assert seen["choices"] == ["是", "不是"]
    assert "申请号" in seen["asked"]
    assert seen["after_yes"] == ["您说：是", False]
    spoken_turn, tapped = seen["turns"]
    assert spoken_turn["language"] == "zh" and "audio" in spoken_turn
    # The tap answers the question the page was holding, and says what it answers.
    assert tapped["text"] == "是" and "audio" not in tapped
    assert json.loads(tapped["pending"])["kind"] == "confirm"
    assert "您是想查询申请进度吗" in tapped["previous"]
    # the tap goes on with the conversation the first reply issued, proving it with its key
    assert "sender" not in spoken_turn
    assert tapped["sender"].startswith("voice:") and tapped["sender_key"]
    assert seen["problems"] == []


async def staff_reply_to(stack, conversation_id: str, text: str) -> None:
    """A member of staff takes the handoff and answers, through the staff API."""
    from helpers.staff import staff_api

    handoffs = (await asyncio.to_thread(staff_api, stack, "GET", "/api/handoffs"))[1]
    [entry] = [e for e in handoffs["handoffs"] if e["conversation_id"] == conversation_id]
    path = f"/api/handoffs/{entry['id']}"
    assert (await asyncio.to_thread(staff_api, stack, "POST", f"{path}/take",
                                    {"staff": "li.na"}))[0] == 200
    assert (await asyncio.to_thread(staff_api, stack, "POST", f"{path}/reply",
                                    {"staff": "li.na", "text": text}))[0] == 200


async def without_microphone(stack) -> dict:
    web_url = stack.settings.web_url
    seen: dict = {}
    # No --use-fake-ui-for-media-stream: the browser asks, and headless Chromium says no.
    async with voice_page(web_url + "/", "zh-CN", FAKE_DEVICES) as page:
        await page.get_by_role("link", name="语音服务（适合老年人）").click()
        await page.wait_for_url("**/voice")
        await until_ready(page)
        await page.locator("#talk").press("Enter")
        await page.locator("#mic-problem").wait_for(timeout=10000)
        seen["message"] = await page.locator("#mic-problem p").evaluate_all(
            "ps => ps.map(p => [p.lang, p.textContent])")
        seen["status"] = await page.locator("#status").inner_text()
        seen["talk"] = [await page.locator("#talk-label").inner_text(),
                        await page.get_attribute("#talk", "aria-pressed")]
        await screenshot(page, "voice-no-microphone.png")

        await page.get_by_role("button", name="English").click()
        seen["switch_answer"] = await next_answer(page, 0)
        seen["switched"] = [await page.get_attribute("html", "lang"),
                            await page.locator("#talk-label").inner_text(),
                            await page.locator("#handoff").inner_text(),
                            await page.locator("#chat-link").inner_text(),
                            await page.get_attribute("#language-en", "aria-pressed")]
        await page.reload()
        seen["after_reload"] = [await page.get_attribute("html", "lang"),
                                await page.locator("#handoff").inner_text()]
        await page.get_by_role("button", name="Talk to a person").click()
        seen["handoff_answer"] = await next_answer(page, 0)
        seen["handoff_heard"] = await page.locator("#heard").inner_text()
        seen["turns"] = await turns(page)
        await page.locator("#status", has_text="Waiting for a member of staff").wait_for(
            timeout=20000)  # once the answer has been spoken
        sender = await page.evaluate("localStorage.getItem('gov-voice-sender')")
        await staff_reply_to(stack, sender, "Hello, this is Li Na from the service centre.")
        # the page asks for staff replies every few seconds while it waits
        await page.locator("#answer-text", has_text="this is Li Na").wait_for(timeout=20000)
        seen["staff_audio"] = await page.evaluate("document.getElementById('player').src")
        await page.get_by_role("link", name="Text chat").click()
        await page.wait_for_url("**/?lang=en")
        seen["back"] = await page.locator("#handoff").inner_text()
        seen["problems"] = page.problems
    return seen


def test_without_a_microphone_the_page_says_so_and_its_buttons_still_work(stack):
    seen = asyncio.run(without_microphone(stack))
    (zh_lang, zh_text), (en_lang, en_text) = seen["message"]
    assert zh_lang == "zh-CN" and "无法使用麦克风" in zh_text
    assert en_lang == "en" and "microphone can't be used" in en_text
    assert "麦克风不可用" in seen["status"]
    assert seen["talk"] == ["按住说话", "false"]  # not stuck "listening"
    assert seen["switched"] == ["en", "Hold to talk", "Talk to a person", "Text chat", "true"]
    assert "English" in seen["switch_answer"]
    assert seen["after_reload"] == ["en", "Talk to a person"]  # the choice is remembered
    assert seen["handoff_answer"].strip()
    assert seen["handoff_heard"] == "You said: Talk to a person"
    assert [turn["text"] for turn in seen["turns"]] == ["/human_handoff"]
    assert seen["staff_audio"].startswith("data:audio/mpeg")
    assert seen["back"] == "Talk to a person"  # the text chat, in the same language
    assert seen["problems"] == []


async def voice_accessibility(web_url: str, axe: str) -> dict:
    """axe-core on the voice page: as it opens, after the microphone is refused (its message
    in both languages), and in English with an answer shown."""
    seen: dict = {"violations": []}
    async with voice_page(web_url + "/voice", "zh-CN", FAKE_DEVICES) as page:
        seen["violations"] += await violations(page, axe)
        await page.locator("#talk").press("Enter")
        await page.locator("#mic-problem").wait_for(timeout=10000)
        seen["violations"] += await violations(page, axe)
        await page.get_by_role("button", name="English").click()
        await next_answer(page, 0)
        seen["violations"] += await violations(page, axe)
        seen["problems"] = page.problems
    return seen


def test_voice_page_has_no_accessibility_violations(stack):
    seen = asyncio.run(voice_accessibility(stack.settings.web_url, axe_source()))
    assert seen["violations"] == []
    assert seen["problems"] == []


def fetch(url: str) -> tuple[int, dict, str]:
    with urllib.request.urlopen(url, timeout=10) as response:
        return response.status, dict(response.headers), response.read().decode()


def test_voice_page_is_served_with_its_config_and_a_strict_policy(stack):
    base = stack.settings.web_url
    status, headers, page = fetch(base + "/voice")
    assert status == 200 and "text/html" in headers["Content-Type"]
    policy = headers["Content-Security-Policy"]
    assert "script-src 'self';" in policy and "unsafe-inline" not in policy
    assert f"connect-src 'self' {stack.settings.rasa_url};" in policy
    assert 'aria-live="polite"' in page and 'lang="zh-CN"' in page and 'name="viewport"' in page
    assert "<script>" not in page  # no inline script: the config is a script of its own
    _, headers, config = fetch(base + "/voice-config.js")
    assert "javascript" in headers["Content-Type"]
    assert f'"{stack.settings.rasa_url}/webhooks/voice/webhook"' in config
    _, _, script = fetch(base + "/static/voice.js")
    assert ".innerHTML" not in script and "insertAdjacentHTML" not in script
    assert fetch(base + "/static/voice.css")[0] == 200
    _, _, chat = fetch(base + "/")
    assert 'href="/voice"' in chat and "语音服务（适合老年人）" in chat


async def served_config(**options) -> tuple[str, str]:
    async with TestClient(TestServer(create_app("http://10.0.0.5:5005", **options))) as client:
        config = await (await client.get("/voice-config.js")).text()
        policy = (await client.get("/voice")).headers["Content-Security-Policy"]
    return config, policy


def test_voice_url_can_point_at_the_balancer():
    config, policy = asyncio.run(served_config())
    assert '"http://10.0.0.5:5005/webhooks/voice/webhook"' in config
    config, policy = asyncio.run(served_config(
        voice_url="https://gov.example.cn/webhooks/voice/webhook"))
    assert '"https://gov.example.cn/webhooks/voice/webhook"' in config
    assert "connect-src 'self' https://gov.example.cn;" in policy


async def english_on_the_chinese_page(web_url: str, speech_url: str, wav: Path) -> dict:
    seconds = spoken_question(speech_url, "How do I apply for the disability subsidy?", "en", wav)
    seen: dict = {}
    async with voice_page(web_url + "/voice", "zh-CN", microphone_playing(wav)) as page:
        seen["before"] = await page.get_attribute("html", "lang")
        await hold_to_talk(page, seconds)
        seen["answer"] = await next_answer(page, 0)
        seen["after"] = [await page.get_attribute("html", "lang"),
                         await page.locator("#talk-label").inner_text(),
                         await page.locator("#handoff").inner_text()]
        seen["sent"] = (await turns(page))[0]["language"]
        seen["stored"] = await page.evaluate("localStorage.getItem('gov-voice-language')")
        seen["problems"] = page.problems
    return seen


def test_english_spoken_on_the_chinese_page_switches_the_page(stack, tmp_path):
    """Answered in the language spoken; the page follows, so the next turn is English too."""
    seen = asyncio.run(english_on_the_chinese_page(
        stack.settings.web_url, stack.settings.speech_url, tmp_path / "wrong-page.wav"))
    assert seen["before"] == "zh-CN" and seen["sent"] == "zh"
    assert "subsid" in seen["answer"].lower()
    assert seen["after"] == ["en", "Hold to talk", "Talk to a person"]
    assert seen["stored"] == "en" and seen["problems"] == []
