"""The web chat page is served by the run command and points at the running Rasa server."""

from __future__ import annotations

import json
import re
import urllib.request


def fetch(url: str) -> tuple[int, str, str]:
    status, headers, body = fetch_with_headers(url)
    return status, headers.get("Content-Type", ""), body


def fetch_with_headers(url: str, origin: str | None = None):
    request = urllib.request.Request(url, headers={"Origin": origin} if origin else {})
    with urllib.request.urlopen(request, timeout=10) as response:
        return response.status, response.headers, response.read().decode()


def test_page_and_its_assets_are_served(stack):
    base = stack.settings.web_url
    status, content_type, body = fetch(base + "/")
    assert status == 200 and "text/html" in content_type
    assert 'role="log"' in body and 'aria-live="polite"' in body
    assert 'name="viewport"' in body
    for asset in ["/static/chat.js", "/static/chat.css", "/vendor/socket.io.min.js"]:
        assert fetch(base + asset)[0] == 200


def test_page_config_points_at_the_rasa_server(stack):
    _, content_type, body = fetch(stack.settings.web_url + "/config.js")
    assert "javascript" in content_type
    assert stack.settings.rasa_url in body


def test_embed_script_can_be_loaded_by_any_site(stack):
    status, headers, body = fetch_with_headers(
        stack.settings.web_url + "/embed.js", origin="https://www.example.gov.cn")
    assert status == 200
    assert "javascript" in headers["Content-Type"]
    assert headers["Access-Control-Allow-Origin"] == "*"
    assert "document.currentScript" in body and "aria-expanded" in body
    assert "在线咨询" in body and "Ask us" in body


def test_page_may_be_framed_by_other_sites(stack):
    _, headers, _ = fetch_with_headers(stack.settings.web_url + "/")
    assert "X-Frame-Options" not in headers
    assert headers["Content-Security-Policy"].endswith("; frame-ancestors *")
    assert headers["X-Content-Type-Options"] == "nosniff"


def test_page_runs_only_its_own_scripts_and_talks_only_to_rasa(stack):
    """Even markup that reached an answer could run nothing: no inline script or style is
    allowed, and the page has none of its own."""
    _, headers, page = fetch_with_headers(stack.settings.web_url + "/")
    policy = dict(directive.split(" ", 1) for directive in
                  headers["Content-Security-Policy"].split("; "))
    assert policy["script-src"] == policy["style-src"] == policy["default-src"] == "'self'"
    assert policy["object-src"] == policy["base-uri"] == "'none'"
    rasa = stack.settings.rasa_url
    assert policy["connect-src"] == f"'self' {rasa} {rasa.replace('http', 'ws', 1)}"
    assert "<script>" not in page and "<style" not in page and " style=" not in page
    assert not re.search(r"\son[a-z]+=", page)  # no inline event handlers


def test_privacy_notice_handoff_and_display_options_in_both_languages(stack):
    base = stack.settings.web_url
    _, _, page = fetch(base + "/")
    _, _, script = fetch(base + "/static/chat.js")
    # The markup carries the Chinese interface; chat.js carries both, switched at run time.
    assert 'id="privacy-notice"' in page and 'id="privacy-hide"' in page
    assert 'id="handoff"' in page and ">转人工</button>" in page
    assert 'id="contrast-toggle" aria-pressed="false"' in page
    assert 'id="text-size-toggle" aria-pressed="false"' in page
    for source in (page, script):
        assert "身份证号、手机号会被自动遮盖" in source and "请勿输入密码或银行卡信息" in source
    assert "ID-card and phone numbers are masked" in script
    assert "don't type passwords or bank details" in script
    assert 'handoff: "Talk to a person"' in script and 'handoff: "转人工"' in script
    assert '"/human_handoff"' in script
    # Bot and user text only ever go in as text, never parsed as HTML.
    assert ".innerHTML" not in script and "insertAdjacentHTML" not in script


def test_readiness_is_reported_for_operators_without_addresses_or_secrets(stack):
    """GET /readyz on the page's server: Rasa has a model loaded and the action server and the
    speech service answer (webchat/readiness.py); Rasa's own /status needs the API token."""
    status, content_type, body = fetch(stack.settings.web_url + "/readyz")
    assert status == 200 and "application/json" in content_type
    assert json.loads(body) == {"ready": True, "chat": True, "voice": True, "services": {
        "rasa": True, "actions": True, "speech": True}}
    assert "127.0.0.1" not in body and "token" not in body.lower()
