"""The chat embedded on another site with one script tag, in a real browser.

A tiny page on another origin (its own port) holds some text and the tag; a citizen opens the
launcher, chats inside the iframe, closes it with Escape, reopens it from the keyboard; on a
small phone the panel fills the screen.
"""

from __future__ import annotations

import asyncio

from aiohttp import web

from helpers.browser import OUTPUT, ask, chromium, requires_chromium

pytestmark = requires_chromium

HOST_PAGE = """<!doctype html>
<html lang="en">
<head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">
<title>Riverside City Government</title></head>
<body>
<h1>Riverside City Government</h1>
<p>Welcome to the official portal of Riverside City: news, public notices and online services.</p>
<script src="{src}" async data-lang="en"></script>
</body>
</html>
"""


async def serve_host_page(chat_url: str) -> tuple[web.AppRunner, str]:
    html = HOST_PAGE.format(src=chat_url + "/embed.js")

    async def page(request: web.Request) -> web.Response:
        return web.Response(text=html, content_type="text/html")

    app = web.Application()
    app.router.add_get("/", page)
    runner = web.AppRunner(app)
    await runner.setup()
    await web.TCPSite(runner, "127.0.0.1", 0).start()
    host, port = runner.addresses[0][:2]
    return runner, f"http://{host}:{port}/"


async def expanded(launcher) -> str:
    return await launcher.get_attribute("aria-expanded")


async def launcher_has_focus(page) -> bool:
    return await page.evaluate(
        "document.getElementById('gov-chat-embed').shadowRoot.activeElement?.className"
        " === 'launcher'")


async def embedded_chat(chat_url: str) -> dict:
    seen: dict = {}
    runner, host_url = await serve_host_page(chat_url)
    seen["host_url"] = host_url
    try:
        async with chromium() as browser:
            page = await browser.new_page(locale="zh-CN", viewport={"width": 1280, "height": 800})
            errors: list[str] = []
            page.on("pageerror", lambda error: errors.append(str(error)))
            await page.goto(host_url)
            launcher = page.get_by_role("button", name="Ask us")
            await launcher.wait_for()
            seen["closed"] = (await expanded(launcher), await page.locator("iframe").count())
            box = await launcher.bounding_box()
            seen["launcher_size"] = (box["width"], box["height"])

            await launcher.click()
            seen["opened"] = await expanded(launcher)
            chat = page.frame_locator("iframe[title='Government Services Assistant']")
            await chat.locator("#message-input").wait_for()
            # chat.js sets the page up after the HTML is there (a loaded machine showed the
            # gap): embedded first, the interface language last — wait for both, then read
            await chat.locator("html.embedded").wait_for(state="attached")
            await chat.locator("#message-input[placeholder^='Ask a question']").wait_for(
                state="attached")
            panel = await page.get_by_role("dialog").bounding_box()
            seen["panel"] = (panel["width"], panel["height"])
            seen["frame_interface"] = (
                await chat.locator("html").get_attribute("class") or "",
                await chat.locator("#message-input").get_attribute("placeholder"),
                await chat.locator("#handoff").inner_text())
            await ask(chat, "hello")
            seen["reply"] = await chat.locator("li.bot").last.inner_text()
            await page.screenshot(path=str(OUTPUT / "webchat-embedded.png"))

            # Focus is in the iframe's message box: Escape there still closes the panel.
            seen["focus_in_frame"] = await chat.locator("#message-input").evaluate(
                "el => document.activeElement === el")
            await page.keyboard.press("Escape")
            await page.get_by_role("dialog").wait_for(state="hidden")
            seen["after_escape"] = (await expanded(launcher), await launcher_has_focus(page))

            # Reopen from the keyboard: the conversation is still there; close with the button.
            await page.keyboard.press("Enter")
            await chat.locator("li.bot").first.wait_for()
            seen["reopened"] = (await expanded(launcher),
                                await chat.locator("li.bot").count())
            await page.get_by_role("button", name="Close").click()
            await page.get_by_role("dialog").wait_for(state="hidden")
            seen["after_close"] = await expanded(launcher)

            phone = await browser.new_page(viewport={"width": 375, "height": 667},
                                           is_mobile=True, has_touch=True)
            await phone.goto(host_url)
            await phone.get_by_role("button", name="Ask us").tap()
            await phone.frame_locator("iframe").locator("#message-input").wait_for()
            panel = await phone.get_by_role("dialog").bounding_box()
            seen["phone_panel"] = (panel["x"], panel["y"], panel["width"], panel["height"])
            await phone.screenshot(path=str(OUTPUT / "webchat-embedded-phone.png"))
            seen["errors"] = errors
    finally:
        await runner.cleanup()
    return seen


def test_chat_embedded_on_another_site_with_one_script_tag(stack):
    seen = asyncio.run(embedded_chat(stack.settings.web_url))
    assert not seen["host_url"].startswith(stack.settings.web_url)  # really another origin
    assert seen["closed"] == ("false", 0)  # the iframe is only created when opened
    assert min(seen["launcher_size"]) >= 44
    assert seen["opened"] == "true"
    assert 300 <= seen["panel"][0] <= 420 and seen["panel"][1] <= 700  # a panel, not the page
    classes, placeholder, handoff = seen["frame_interface"]
    assert "embedded" in classes  # data-lang="en" chose the chat's interface language
    assert placeholder.startswith("Ask a question") and handoff == "Talk to a person"
    assert seen["reply"].startswith("Assistant")
    assert seen["focus_in_frame"] is True
    assert seen["after_escape"] == ("false", True)
    assert seen["reopened"][0] == "true" and seen["reopened"][1] >= 1
    assert seen["after_close"] == "false"
    assert seen["phone_panel"] == (0, 0, 375, 667)  # full screen on a small phone
    assert seen["errors"] == []
