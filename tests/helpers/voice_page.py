"""The voice page (/voice) in a real browser: a phone-sized page with a fake microphone that
plays a question spoken by the speech service's own voices, and instruments that record what the
page plays and posts. Shared by the voice page's browser tests."""

from __future__ import annotations

import io
import json
import os
import urllib.request
import wave
from contextlib import asynccontextmanager
from pathlib import Path
from typing import AsyncIterator

from helpers.browser import OUTPUT, chromium, until_ready
from speech.auth import token_headers

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


# Every confirm-before-act prompt ends so (channels/voice_turns.py "say_yes_no").
SAY_YES_NO = "请说“是”或“不是”"


def confirms_status_check(prompt: str) -> bool:
    """Whether the voice asks before acting on "我想查询申请进度": with the intent's own question,
    or, when the recogniser was unsure of its words (Whisper base sometimes adds a "吗?" to
    this synthetic voice after the browser's Opus encoding), by reading back what it heard.
    Either way nothing is done until the citizen says yes."""
    return "您是想查询申请进度吗" in prompt or prompt.startswith("我听到的是：“我想查询")


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
