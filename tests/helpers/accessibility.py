"""axe-core, the accessibility checker, run inside a page in the real browser.

axe-core is a development dependency of the web chat page (webchat/package.json, installed by
`make setup`'s `npm ci`); GOV_TEST_AXE_SCRIPT may point at another copy of axe.min.js.
Without it the accessibility tests are skipped with a message saying how to get it.
"""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from common.settings import PROJECT_ROOT

AXE_SCRIPT = Path(os.environ.get("GOV_TEST_AXE_SCRIPT")
                  or PROJECT_ROOT / "webchat" / "node_modules" / "axe-core" / "axe.min.js")
# WCAG 2.1 A and AA plus axe's best practices: what a government site is held to.
AXE_RUN = """axe.run(document, {
  runOnly: {type: "tag", values: ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa", "best-practice"]},
  resultTypes: ["violations"],
}).then((results) => results.violations.map((rule) => ({
  id: rule.id, impact: rule.impact, help: rule.help,
  nodes: rule.nodes.map((node) => node.target.join(" ")),
})))"""


def axe_source() -> str:
    if not AXE_SCRIPT.is_file():
        pytest.skip(f"axe-core not installed ({AXE_SCRIPT}): run `make setup` (npm ci in "
                    "webchat/ installs it) or set GOV_TEST_AXE_SCRIPT to an axe.min.js")
    return AXE_SCRIPT.read_text(encoding="utf-8")


async def violations(page, source: str) -> list[dict]:
    """axe's violations on the page as it is now. The script is evaluated through the browser's
    debugging protocol, which the page's Content-Security-Policy does not apply to."""
    if not await page.evaluate("typeof window.axe !== 'undefined'"):
        await page.evaluate(source)
    return await page.evaluate(AXE_RUN)
