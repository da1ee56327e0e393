"""The web chat page in a real browser (Debian's Chromium driven by Playwright).

A citizen types a question in each language and sees the cited answer with a clickable source
link, rates it with a feedback button, reloads and still sees the conversation; switches on high
contrast and large text. Another citizen does everything with the keyboard alone. Both pages say
"starting…" until the assistant can answer. Screenshots go to var/test-output/ for review.
"""

from __future__ import annotations

import asyncio
import json
import urllib.error
import urllib.request

from fakes.server import BackgroundServer
from helpers.accessibility import axe_source, violations
from helpers.browser import (
    OUTPUT,
    REPLY_TIMEOUT,
    ask,
    chromium,
    requires_chromium,
    until_ready,
    wait_for_reply,
)
from services.balancer import create_balancer
from webchat.app import create_app

MARKUP = '<img src="x" onerror="window.pwned = 1">'

pytestmark = requires_chromium


async def full_page_screenshot(page, name: str) -> None:
    """The whole conversation in one image: the window is made as tall as the page, so the
    sticky header and message box sit at its top and bottom as they would on screen."""
    viewport = page.viewport_size
    height = await page.evaluate("document.documentElement.scrollHeight")
    await page.set_viewport_size({"width": viewport["width"], "height": height})
    await page.screenshot(path=str(OUTPUT / name))
    await page.set_viewport_size(viewport)


async def source_link(page, marker: str) -> dict:
    """The first link inside the last bot message containing `marker`."""
    link = page.locator("li.bot", has_text=marker).last.locator("a[href]").first
    return {"href": await link.get_attribute("href"), "text": await link.inner_text(),
            "target": await link.get_attribute("target"), "rel": await link.get_attribute("rel")}


async def chat_in_browser(url: str) -> dict:
    seen: dict = {}
    async with chromium() as browser:
        page = await browser.new_page(locale="zh-CN", viewport={"width": 420, "height": 900})
        errors: list[str] = []
        page.on("pageerror", lambda error: errors.append(str(error)))
        await page.goto(url)
        seen["handoff_label"] = await page.locator("#handoff").inner_text()

        await ask(page, "公积金可以提取吗", "来源：《")
        seen["zh_answer"] = await page.locator("li.bot").all_inner_texts()
        seen["zh_link"] = await source_link(page, "来源：《")
        await page.get_by_role("button", name="有帮助", exact=True).last.click()
        await page.get_by_text("感谢您的反馈", exact=False).wait_for(timeout=REPLY_TIMEOUT)
        seen["user_messages"] = await page.locator("li.user .text").all_inner_texts()
        seen["feedback_buttons_left"] = await page.get_by_role(
            "button", name="有帮助", exact=True).count()

        await ask(page, "How do I register a marriage in Riverside?", "Source:")
        seen["en_link"] = await source_link(page, "Source:")
        await page.wait_for_timeout(500)  # let a possible trailing note arrive before counting
        await full_page_screenshot(page, "webchat-conversation.png")
        count = await page.locator("#messages li").count()
        session = "localStorage.getItem('gov-chat-session')"
        seen["sessions"] = [await page.evaluate(session)]

        await page.reload()
        await page.locator("#messages li").nth(count - 1).wait_for()
        await page.wait_for_timeout(500)
        seen["before_reload"] = count
        seen["after_reload"] = await page.locator("#messages li").count()
        seen["links_after_reload"] = await page.locator("li.bot a[href]").count()
        seen["buttons_after_reload"] = await page.get_by_role(
            "button", name="Helpful", exact=True).count()
        seen["live_region"] = await page.get_attribute("#conversation", "aria-live")
        # The reloaded page proves its session with the key it kept: the same conversation.
        await ask(page, "你好")
        seen["sessions"].append(await page.evaluate(session))

        await page.get_by_role("button", name="高对比度").click()
        await page.get_by_role("button", name="大字号").click()
        await full_page_screenshot(page, "webchat-high-contrast-large-text.png")
        await page.reload()
        seen["display_after_reload"] = await page.evaluate(
            "[document.documentElement.className,"
            " document.getElementById('contrast-toggle').getAttribute('aria-pressed'),"
            " document.getElementById('text-size-toggle').getAttribute('aria-pressed'),"
            " getComputedStyle(document.body).backgroundColor,"
            " getComputedStyle(document.body).fontSize]")
        seen["errors"] = errors
    return seen


def test_citizen_chats_in_both_languages_in_a_real_browser(stack):
    seen = asyncio.run(chat_in_browser(stack.settings.web_url))
    assert seen["handoff_label"] == "转人工"
    assert any("《" in text for text in seen["zh_answer"])
    for link in (seen["zh_link"], seen["en_link"]):
        assert link["href"].startswith("https://") and link["text"] == link["href"]
        assert link["target"] == "_blank" and link["rel"] == "noopener noreferrer"
    # The feedback shows as the citizen's own words, and can't be given twice.
    assert seen["user_messages"][-1] == "有帮助"
    assert not any(text.startswith("/") for text in seen["user_messages"])
    assert seen["feedback_buttons_left"] == 0
    assert seen["after_reload"] == seen["before_reload"] >= 6
    first, after_reload = seen["sessions"]
    assert first.startswith("socketio:") and after_reload == first
    assert seen["links_after_reload"] >= 2
    assert seen["buttons_after_reload"] == 1  # the last answer's feedback buttons come back
    assert seen["live_region"] == "polite"
    classes, contrast, large, background, font_size = seen["display_after_reload"]
    assert "high-contrast" in classes and "large-text" in classes
    assert contrast == large == "true"
    assert background == "rgb(0, 0, 0)" and font_size == "20px"
    assert seen["errors"] == []


async def accessibility_and_policy(url: str, axe: str) -> dict:
    """axe-core on the chat page as citizens see it: empty, then with an answer (its source
    link and feedback buttons), in English with high contrast and large text. Any console
    error (a Content-Security-Policy violation is one) is collected."""
    seen: dict = {"violations": []}
    async with chromium() as browser:
        page = await browser.new_page(locale="zh-CN", viewport={"width": 420, "height": 900})
        problems: list[str] = []
        page.on("pageerror", lambda error: problems.append(str(error)))
        page.on("console", lambda message: problems.append(message.text)
                if message.type == "error" else None)
        response = await page.goto(url)
        seen["policy"] = (await response.all_headers()).get("content-security-policy", "")
        await page.locator("#status").wait_for()
        seen["violations"] += await violations(page, axe)
        await ask(page, "公积金可以提取吗", "来源：《")
        seen["violations"] += await violations(page, axe)
        await page.get_by_role("button", name="English").click()
        await page.get_by_role("button", name="High contrast").click()
        await page.get_by_role("button", name="Large text").click()
        await ask(page, "How do I register a marriage in Riverside?", "Source:")
        seen["violations"] += await violations(page, axe)
        seen["links"] = await page.locator("li.bot a[href]").count()
        seen["problems"] = problems
    return seen


def test_chat_page_is_accessible_under_a_strict_script_policy(stack):
    """No axe-core violation (the message log keeps its list semantics), and the page works
    with scripts, styles and connections limited by its Content-Security-Policy."""
    seen = asyncio.run(accessibility_and_policy(stack.settings.web_url, axe_source()))
    assert seen["violations"] == []
    assert "script-src 'self';" in seen["policy"] and "unsafe-inline" not in seen["policy"]
    assert seen["links"] >= 2  # both answers' source links, under the policy
    assert seen["problems"] == []


async def focused(page) -> dict:
    return await page.evaluate(
        "(() => { const el = document.activeElement; const style = getComputedStyle(el);"
        " return {id: el.id || el.className, tag: el.tagName.toLowerCase(),"
        " outline: style.outlineStyle + ' ' + style.outlineWidth}; })()")


async def tab_to(page, element_id: str, key: str = "Tab", limit: int = 30) -> list[dict]:
    """Press Tab (or Shift+Tab) until the element has focus; returns every stop on the way."""
    stops = []
    for _ in range(limit):
        await page.keyboard.press(key)
        stops.append(await focused(page))
        if stops[-1]["id"] == element_id:
            return stops
    raise AssertionError(f"{element_id} never got focus: {stops}")


async def pressed(page, element_id: str) -> str:
    return await page.get_attribute(f"#{element_id}", "aria-pressed")


async def keyboard_only(url: str) -> dict:
    seen: dict = {}
    async with chromium() as browser:
        page = await browser.new_page(locale="en-US", viewport={"width": 1024, "height": 800})
        errors: list[str] = []
        page.on("pageerror", lambda error: errors.append(str(error)))
        await page.goto(url)
        await until_ready(page)
        seen["interface"] = await page.evaluate(
            "[document.documentElement.lang, document.getElementById('handoff').textContent,"
            " document.getElementById('privacy-notice').innerText]")

        seen["tab_order"] = await tab_to(page, "message-input")
        await page.keyboard.type("hello")
        await page.keyboard.press("Enter")
        await wait_for_reply(page, 0)
        await page.keyboard.type("How do I register a marriage in Riverside?")
        await page.keyboard.press("Enter")
        await wait_for_reply(page, 1, "Source:")

        # Back from the message box to the answer's buttons, choose one with Enter.
        await tab_to(page, "quick-reply", "Shift+Tab")
        await page.keyboard.press("Shift+Tab")
        seen["quick_reply"] = await page.evaluate("document.activeElement.textContent")
        await page.keyboard.press("Enter")
        await wait_for_reply(page, 0, "Thanks for your feedback")
        seen["after_quick_reply"] = {
            "focus": (await focused(page))["id"],
            "said": (await page.locator("li.user .text").all_inner_texts())[-1]}

        await tab_to(page, "text-size-toggle", "Shift+Tab")
        await page.keyboard.press("Enter")
        seen["large_text"] = await pressed(page, "text-size-toggle")
        await tab_to(page, "contrast-toggle", "Shift+Tab")
        await page.keyboard.press("Space")
        seen["contrast_on"] = await pressed(page, "contrast-toggle")
        await page.keyboard.press("Space")
        seen["contrast_off"] = await pressed(page, "contrast-toggle")
        await page.keyboard.press("Space")

        await tab_to(page, "privacy-hide")
        await page.keyboard.press("Enter")
        seen["privacy_hidden"] = await page.locator("#privacy-notice").is_hidden()
        seen["focus_after_hiding"] = (await focused(page))["id"]

        await tab_to(page, "language-toggle", "Shift+Tab")
        before = await page.locator("li.bot").count()
        await page.keyboard.press("Enter")
        await wait_for_reply(page, before, "中文")
        seen["switched"] = await page.evaluate(
            "[document.documentElement.lang, document.getElementById('handoff').textContent,"
            " document.getElementById('message-input').placeholder,"
            " document.getElementById('conversation').getAttribute('aria-label'),"
            " document.querySelector('li.user .who').textContent,"
            " document.querySelector('li.bot .who').textContent]")

        await tab_to(page, "handoff")
        before = await page.locator("li.bot").count()
        await page.keyboard.press("Enter")
        await wait_for_reply(page, before, "人工客服")
        seen["handoff_said"] = (await page.locator("li.user .text").all_inner_texts())[-1]

        # Focus went to the message box; markup typed there is shown as text, never run.
        await page.keyboard.type(MARKUP)
        await page.keyboard.press("Enter")
        await page.locator("li.user", has_text="onerror").wait_for()
        seen["markup"] = await page.evaluate(
            "[[...document.querySelectorAll('li.user .text')].pop().textContent,"
            " document.querySelectorAll('#messages img').length, window.pwned === undefined]")

        await page.reload()
        seen["remembered"] = await page.evaluate(
            "[document.documentElement.className, document.documentElement.lang,"
            " document.getElementById('privacy-notice').hidden]")
        seen["errors"] = errors
    return seen


def test_everything_works_with_the_keyboard_alone(stack):
    seen = asyncio.run(keyboard_only(stack.settings.web_url))
    lang, handoff, privacy = seen["interface"]
    assert (lang, handoff) == ("en", "Talk to a person")
    assert "passwords" in privacy and "masked" in privacy
    # A logical order: skip link, header, display options, the voice page, privacy notice, then
    # the message box.
    assert [stop["id"] for stop in seen["tab_order"]] == [
        "skip-link", "language-toggle", "handoff", "contrast-toggle", "text-size-toggle",
        "voice-link", "privacy-hide", "message-input"]
    assert all(stop["outline"] == "solid 3px" for stop in seen["tab_order"])
    assert all(stop["tag"] in ("a", "button", "input") for stop in seen["tab_order"])
    assert seen["quick_reply"] == "Helpful"
    assert seen["after_quick_reply"] == {"focus": "message-input", "said": "Helpful"}
    assert (seen["large_text"], seen["contrast_on"], seen["contrast_off"]) == ("true", "true",
                                                                                "false")
    assert seen["privacy_hidden"] and seen["focus_after_hiding"] == "privacy-show"
    assert seen["switched"] == ["zh-CN", "转人工", "请输入您的问题，例如：办营业执照要什么材料？",
                                "对话记录", "您", "助手"]
    assert seen["handoff_said"] == "转人工"
    assert seen["markup"] == [MARKUP, 0, True]
    classes, lang, privacy_hidden = seen["remembered"]
    assert "high-contrast" in classes and "large-text" in classes
    assert lang == "zh-CN" and privacy_hidden is True
    assert seen["errors"] == []


def readiness(web_url: str) -> tuple[int, dict]:
    try:
        with urllib.request.urlopen(f"{web_url}/readyz", timeout=10) as response:
            return response.status, json.loads(response.read())
    except urllib.error.HTTPError as refused:
        return refused.code, json.loads(refused.read())


async def page_state(page) -> list:
    return [await page.locator("#status").inner_text(),
            await page.locator("#message-input, #talk").first.is_disabled()]


async def starting_then_ready(stack) -> dict:
    """The pages served while Rasa cannot be reached (their Rasa address is a balancer in front
    of the real one, not started yet), then after it is."""
    seen: dict = {}
    rasa_gate = BackgroundServer(create_balancer([stack.settings.rasa_url]))
    pages = BackgroundServer(create_app(rasa_gate.url, action_url=stack.settings.action_url,
                                        speech_url=stack.settings.speech_url))
    with pages:
        async with chromium() as browser:
            chat = await browser.new_page(locale="zh-CN")
            voice = await browser.new_page(locale="en-US")
            await chat.goto(pages.url)
            await voice.goto(pages.url + "/voice")
            await chat.wait_for_timeout(3000)  # a few polls of /readyz: still not ready
            seen["starting"] = [await page_state(chat), await page_state(voice),
                                readiness(pages.url)]
            await chat.screenshot(path=str(OUTPUT / "webchat-starting.png"))
            with rasa_gate:
                await until_ready(chat)
                await until_ready(voice)
                seen["ready"] = [await page_state(chat), await page_state(voice),
                                 readiness(pages.url)]
    return seen


def test_both_pages_say_starting_until_the_assistant_can_answer(stack):
    seen = asyncio.run(starting_then_ready(stack))
    chat, voice, (status, body) = seen["starting"]
    assert chat == ["正在启动，请稍候…", True]
    assert voice == ["Starting up, one moment…", True]
    assert status == 503 and body["ready"] is body["chat"] is body["voice"] is False
    assert body["services"] == {"rasa": False, "actions": True, "speech": True}
    chat, voice, (status, body) = seen["ready"]
    assert chat[1] is False and chat[0] != "正在启动，请稍候…"
    assert voice == ["Hold the big button and speak", False]
    assert status == 200 and body["ready"] is body["chat"] is body["voice"] is True
