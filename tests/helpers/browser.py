"""Debian's Chromium driven by Playwright (no browser download), for the browser tests."""

from __future__ import annotations

import shutil
from contextlib import asynccontextmanager
from pathlib import Path
from typing import AsyncIterator

import pytest

from common.settings import PROJECT_ROOT

CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"
ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
        "--disable-component-update", "--no-first-run", "--disable-sync", "--disable-quic"]
OUTPUT = PROJECT_ROOT / "var" / "test-output"  # screenshots, for review
REPLY_TIMEOUT = 30000

requires_chromium = pytest.mark.skipif(not Path(CHROMIUM).exists(),
                                       reason="chromium not installed")


@asynccontextmanager
async def chromium(*extra_args: str) -> AsyncIterator:
    """A fresh headless browser (`extra_args`: more Chromium flags)."""
    from playwright.async_api import async_playwright

    OUTPUT.mkdir(parents=True, exist_ok=True)
    async with async_playwright() as playwright:
        browser = await playwright.chromium.launch(executable_path=CHROMIUM,
                                                   args=[*ARGS, *extra_args])
        try:
            yield browser
        finally:
            await browser.close()


async def wait_for_reply(chat, before: int, expect: str = "") -> None:
    """Wait for a new bot message (and one containing `expect`); `chat` is a page or a frame."""
    await chat.locator("li.bot").nth(before).wait_for(timeout=REPLY_TIMEOUT)
    if expect:
        await chat.locator("li.bot", has_text=expect).last.wait_for(timeout=REPLY_TIMEOUT)


async def ask(chat, text: str, expect: str = "") -> None:
    """Type `text` into the web chat and wait for the answer."""
    before = await chat.locator("li.bot").count()
    await chat.locator("#message-input").fill(text)
    await chat.locator("#message-input").press("Enter")
    await wait_for_reply(chat, before, expect)


async def until_ready(page) -> None:
    """Wait until the chat or voice page has heard from `/readyz` that the assistant can
    answer: until then it says "starting…" and its input is off."""
    await page.wait_for_function(
        "() => !document.querySelector('#message-input:disabled, #talk:disabled')",
        timeout=REPLY_TIMEOUT)
