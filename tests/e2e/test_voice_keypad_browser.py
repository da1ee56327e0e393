"""The voice page's number keypad in a real browser (Debian's Chromium, driven by Playwright;
tests/helpers/voice_page.py has the page helpers): it appears when the assistant asks for an
application number, its big keys type the number, which is sent as the text of the turn, then
it offers digits only for the last four digits, and goes once the status is shown. A Mandarin
speaker uses touch; an English speaker the keyboard alone. axe-core checks the page with the
keypad shown."""

from __future__ import annotations

import asyncio
from pathlib import Path

from helpers.accessibility import axe_source, violations
from helpers.browser import requires_chromium
from helpers.voice_page import (
    SAY_YES_NO,
    STOP_MARGIN_MS,
    confirms_status_check,
    hold_to_talk,
    microphone_playing,
    next_answer,
    screenshot,
    spoken_question,
    turns,
    voice_page,
)
from storage.seed import demo_applicants

KEYPAD = "#keypad"
pytestmark = requires_chromium


async def keypad_state(page) -> dict:
    """What a citizen sees of the keypad, and what a screen reader is told."""
    keys = page.locator(f"{KEYPAD} button:visible")
    return {
        "visible": await page.locator(KEYPAD).is_visible(),
        "title": await page.locator("#keypad-title").inner_text(),
        "keys": [(await key.get_attribute("aria-label")) or (await key.inner_text()).strip()
                 for key in await keys.all()],
        "display": await page.locator("#keypad-display").inner_text(),
        "smallest_key": min([(await key.bounding_box())["height"] for key in await keys.all()]),
    }


async def by_touch(web_url: str, speech_url: str, wav: Path, axe: str) -> dict:
    person = demo_applicants(5)[2]
    seconds = spoken_question(speech_url, "我想查询申请进度", "zh", wav)
    seen: dict = {"person": person}
    async with voice_page(web_url + "/voice", "zh-CN", microphone_playing(wav)) as page:
        seen["before"] = await page.locator(KEYPAD).is_visible()
        await hold_to_talk(page, seconds + STOP_MARGIN_MS / 1000)
        seen["prompt"] = await next_answer(page, 0, SAY_YES_NO)
        seen["while_confirming"] = await page.locator(KEYPAD).is_visible()
        await page.get_by_role("button", name="是", exact=True).tap()
        await next_answer(page, 1, "申请号")
        seen["asked"] = await keypad_state(page)
        seen["violations"] = await violations(page, axe)
        await page.get_by_role("button", name="申请号开头 GOV").tap()
        digits = person.number[4:].replace("-", "")
        for digit in digits[:-1] + "7":  # a wrong last digit ...
            await page.locator(f'{KEYPAD} [data-key="{digit}"]').tap()
        await page.get_by_role("button", name="删除最后一位").tap()  # ... taken back
        await page.locator(f'{KEYPAD} [data-key="{digits[-1]}"]').tap()
        await page.locator(f'{KEYPAD} [data-key="{digits[-1]}"]').tap()  # one too many: ignored
        seen["typed"] = await page.locator("#keypad-display").inner_text()
        await screenshot(page, "voice-zh-keypad.png")
        await page.get_by_role("button", name="发送号码").tap()
        seen["asked_code"] = await next_answer(page, 2, "后四位")
        seen["code_keypad"] = await keypad_state(page)
        for digit in person.phone[-4:]:
            await page.locator(f'{KEYPAD} [data-key="{digit}"]').tap()
        await page.get_by_role("button", name="发送号码").tap()
        seen["status"] = await next_answer(page, 3, "当前状态")
        seen["after"] = await page.locator(KEYPAD).is_visible()
        seen["turns"] = await turns(page)
        seen["problems"] = page.problems
    return seen


def test_a_number_typed_by_touch_is_sent_and_looked_up(stack, tmp_path):
    seen = asyncio.run(by_touch(stack.settings.web_url, stack.settings.speech_url,
                                tmp_path / "question-zh.wav", axe_source()))
    person = seen["person"]
    assert confirms_status_check(seen["prompt"])
    assert seen["before"] is False and seen["while_confirming"] is False
    asked = seen["asked"]
    assert asked["visible"] and asked["title"] == "也可以在这里输入号码"
    assert asked["keys"] == ["申请号开头 GOV", "工单号开头 T", *"123456789", "删除最后一位", "0",
                             "发送号码"]
    assert asked["display"] == "（还没有输入）"
    assert asked["smallest_key"] >= 64  # big enough for unsteady hands
    assert seen["violations"] == []
    assert seen["typed"] == person.number
    code = seen["code_keypad"]
    assert code["title"] == "也可以在这里输入后四位数字"
    assert code["keys"] == [*"123456789", "删除最后一位", "0", "发送号码"]  # no letters now
    assert person.number in seen["status"] and seen["after"] is False
    typed, digits = seen["turns"][2:]
    # sent as the text of a turn, as typed, without the question that was pending
    assert typed["text"] == person.number and "pending" not in typed
    assert digits["text"] == person.phone[-4:]
    assert seen["problems"] == []


async def by_keyboard(web_url: str, speech_url: str, wav: Path) -> dict:
    person = demo_applicants(5)[4]
    seconds = spoken_question(speech_url, "I want to check the status of my application.",
                              "en", wav)
    seen: dict = {"person": person}
    async with voice_page(web_url + "/voice", "en-US", microphone_playing(wav)) as page:
        await page.locator("#talk").focus()
        await page.keyboard.press("Enter")
        await page.wait_for_timeout(int(seconds * 1000) + STOP_MARGIN_MS)
        await page.keyboard.press("Enter")
        await next_answer(page, 0, "Do you want to check an application?")
        await page.locator("#yes").focus()
        await page.keyboard.press("Enter")
        await next_answer(page, 1, "application number")
        seen["asked"] = await keypad_state(page)
        await page.get_by_role("button", name="Application number prefix GOV").focus()
        await page.keyboard.press("Enter")
        digits = person.number[4:].replace("-", "")
        await page.keyboard.type(digits[:-2] + "99")  # two wrong digits ...
        await page.keyboard.press("Backspace")
        await page.keyboard.press("Backspace")  # ... taken back
        await page.keyboard.type(digits[-2:])
        seen["typed"] = await page.locator("#keypad-display").inner_text()
        await page.get_by_role("button", name="Send the number").focus()
        await page.keyboard.press("Enter")
        await next_answer(page, 2, "last 4 digits")
        seen["code_title"] = await page.locator("#keypad-title").inner_text()
        await page.keyboard.type(person.phone[-4:])
        await page.get_by_role("button", name="Send the number").focus()
        await page.keyboard.press(" ")
        seen["status"] = await next_answer(page, 3, "Status:")
        seen["turns"] = await turns(page)
        seen["problems"] = page.problems
    return seen


def test_a_number_typed_from_the_keyboard_in_english(stack, tmp_path):
    seen = asyncio.run(by_keyboard(stack.settings.web_url, stack.settings.speech_url,
                                   tmp_path / "question-en.wav"))
    person = seen["person"]
    asked = seen["asked"]
    assert asked["visible"] and asked["title"] == "Or type the number here"
    assert asked["keys"][:2] == ["Application number prefix GOV", "Ticket reference prefix T"]
    assert asked["keys"][-3:] == ["Delete the last character", "0", "Send the number"]
    assert seen["typed"] == person.number
    assert seen["code_title"] == "Or type the last four digits here"
    assert person.number in seen["status"]
    assert [turn["text"] for turn in seen["turns"][2:]] == [person.number, person.phone[-4:]]
    assert seen["problems"] == []
