"""The web chat page is served by the run command and points at the running Rasa server."""

from __future__ import annotations

import urllib.request


def fetch(url: str) -> tuple[int, str, str]:
    with urllib.request.urlopen(url, timeout=10) as response:
        return response.status, response.headers.get("Content-Type", ""), response.read().decode()


def test_page_and_its_assets_are_served(stack):
    base = stack.settings.web_url
    status, content_type, body = fetch(base + "/")
    assert status == 200 and "text/html" in content_type
    assert 'role="log"' in body and 'aria-live="polite"' in body
    for asset in ["/static/chat.js", "/static/chat.css", "/vendor/socket.io.min.js"]:
        assert fetch(base + asset)[0] == 200


def test_page_config_points_at_the_rasa_server(stack):
    _, content_type, body = fetch(stack.settings.web_url + "/config.js")
    assert "javascript" in content_type
    assert stack.settings.rasa_url in body
