"""A member of staff, in a real browser (Debian's Chromium), signs in, writes a new policy,
publishes it, and the running assistant answers citizens from it within seconds."""

from __future__ import annotations

import asyncio
import time
import uuid

from helpers.browser import OUTPUT, chromium, requires_chromium
from helpers.chat import RestConversation
from staff.accounts import create_user

pytestmark = requires_chromium
PASSWORD = "publisher passphrase 2026"
POLICY = """# 滨江市龙舟赛观赛证申领办法

## 申领方式
龙舟赛观赛证免费发放，每人限领两张，请在“滨江通”App的“龙舟赛”栏目预约后凭身份证到江滨公园东门领取。

## 时间
观赛证于比赛前七天开始预约，预约满额即止。
"""


def test_publish_a_policy_in_the_browser_and_the_assistant_answers_it(stack):
    username = f"pub{uuid.uuid4().hex[:6]}"
    create_user(username, PASSWORD, "publisher", "Publisher Zhang",
                url=f"sqlite:///{stack.settings.state_dir / 'gov.db'}")
    doc_id = f"ct-dragon-boat-{uuid.uuid4().hex[:6]}-zh"

    async def staff_session() -> None:
        async with chromium() as browser:
            page = await browser.new_page(locale="zh-CN")
            await page.goto(f"{stack.settings.staff_url}/login")
            await page.get_by_label("用户名").fill(username)
            await page.get_by_label("密码").fill(PASSWORD)
            await page.get_by_role("button", name="登录").click()
            await page.get_by_role("link", name="政策文件").click()
            await page.get_by_role("link", name="上传新文件或新版本").click()
            await page.locator("#content").fill(POLICY)
            await page.locator("#id").fill(doc_id)
            await page.locator("#department").select_option("commerce_tourism")
            await page.locator("#language").select_option("zh")
            await page.locator("#effective_date").fill("2026-05-01")
            await page.get_by_role("button", name="保存为草稿").click()
            await page.get_by_text("每人限领两张").first.wait_for()
            await page.locator("#q").fill("龙舟赛观赛证怎么领")
            await page.get_by_role("button", name="试问").click()
            await page.locator("ol.trial li").first.wait_for()
            assert "来自本草稿" in await page.locator("ol.trial li").first.inner_text()
            await page.get_by_role("button", name="发布").click()
            await page.get_by_text("版本历史").wait_for()
            OUTPUT.mkdir(parents=True, exist_ok=True)
            await page.screenshot(path=str(OUTPUT / "staff-published.png"), full_page=True)

    asyncio.run(staff_session())

    deadline, texts = time.monotonic() + 30, []
    while time.monotonic() < deadline:  # the action server reloads the index by itself
        texts = RestConversation(stack.settings.rasa_url).texts("龙舟赛观赛证怎么领取？")
        if any("每人限领两张" in text for text in texts):
            break
        time.sleep(1)
    assert any("每人限领两张" in text and "滨江市龙舟赛观赛证申领办法" in text for text in texts), \
        texts
