"""The web chat page in a real browser (Debian's Chromium driven by Playwright).

A citizen types a question in each language and sees the cited answer, clicks a quick-reply
button, reloads and still sees the conversation. Screenshots go to var/test-output/ for review.
"""

from __future__ import annotations

import asyncio
import shutil
from pathlib import Path

import pytest

from stack.settings import PROJECT_ROOT

CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"
ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
        "--disable-component-update", "--no-first-run", "--disable-sync", "--disable-quic"]
OUTPUT = PROJECT_ROOT / "var" / "test-output"

pytestmark = pytest.mark.skipif(not Path(CHROMIUM).exists(), reason="chromium not installed")


async def chat_in_browser(url: str) -> dict:
    from playwright.async_api import async_playwright

    OUTPUT.mkdir(parents=True, exist_ok=True)
    seen: dict = {}
    async with async_playwright() as playwright:
        browser = await playwright.chromium.launch(executable_path=CHROMIUM, args=ARGS)
        page = await browser.new_page(locale="zh-CN", viewport={"width": 420, "height": 900})
        errors: list[str] = []
        page.on("pageerror", lambda error: errors.append(str(error)))
        await page.goto(url)

        async def ask(text: str, expect: str) -> None:
            before = await page.locator("li.bot").count()
            await page.fill("#message-input", text)
            await page.press("#message-input", "Enter")
            await page.wait_for_function(
                f"document.querySelectorAll('li.bot').length > {before}", timeout=30000)
            await page.wait_for_timeout(800)
            await page.get_by_text(expect, exact=False).first.wait_for(timeout=10000)

        await ask("公积金可以提取吗", "来源：《")
        seen["zh_answer"] = await page.locator("li.bot").all_inner_texts()
        await page.get_by_role("button", name="有帮助").last.click()
        await page.get_by_text("感谢您的反馈", exact=False).wait_for(timeout=20000)
        await ask("How do I register a marriage in Riverside?", "Source:")
        await page.screenshot(path=str(OUTPUT / "webchat-conversation.png"), full_page=True)
        count = await page.locator("#messages li").count()
        await page.reload()
        await page.wait_for_timeout(1000)
        seen["after_reload"] = await page.locator("#messages li").count()
        seen["before_reload"] = count
        seen["live_region"] = await page.get_attribute("#messages", "aria-live")
        seen["errors"] = errors
        await browser.close()
    return seen


def test_citizen_chats_in_both_languages_in_a_real_browser(stack):
    seen = asyncio.run(chat_in_browser(stack.settings.web_url))
    assert any("《" in text for text in seen["zh_answer"])
    assert seen["after_reload"] == seen["before_reload"] >= 6
    assert seen["live_region"] == "polite"
    assert seen["errors"] == []
