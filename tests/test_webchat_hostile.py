"""Hostile clients against the web chat page's server over real HTTP: odd methods, oversize
bodies, path tricks and unknown paths are refused plainly, and every answer carries the page's
protective headers."""

from __future__ import annotations

import asyncio

import pytest
from aiohttp.test_utils import TestClient, TestServer

from webchat.app import create_app

PAGES = ("/", "/voice", "/config.js", "/voice-config.js", "/embed.js", "/healthz")


async def requests_against(*calls: tuple[str, str, dict]) -> list[tuple[int, dict, str]]:
    app = create_app("http://127.0.0.1:5005")
    async with TestClient(TestServer(app)) as client:
        results = []
        for method, path, options in calls:
            response = await client.request(method, path, **options)
            results.append((response.status, dict(response.headers), await response.text()))
        return results


@pytest.mark.parametrize("method", ["POST", "PUT", "DELETE", "PATCH"])
def test_odd_methods_are_refused(method):
    for status, headers, _body in asyncio.run(requests_against(
            *[(method, path, {"data": b"x"}) for path in PAGES])):
        assert status == 405
        assert headers["X-Content-Type-Options"] == "nosniff"


def test_oversize_bodies_path_tricks_and_unknown_paths_are_refused():
    results = asyncio.run(requests_against(
        ("POST", "/", {"data": b"x" * (2 * 1024 * 1024)}),
        ("GET", "/static/../app.py", {}),
        ("GET", "/static/%2e%2e/app.py", {}),
        ("GET", "/static/..%2f__init__.py", {}),
        ("GET", "/node_modules/socket.io-client/package.json", {}),
        ("GET", "/no-such-page", {}),
    ))
    assert results[0][0] in (405, 413)
    for status, _headers, body in results[1:]:
        assert status in (403, 404), (status, body[:80])
        assert "import" not in body  # no source file ever comes back


def test_every_page_states_its_policy():
    for status, headers, _body in asyncio.run(requests_against(
            *[("GET", path, {}) for path in ("/", "/voice", "/static/chat.js")])):
        assert status == 200
        assert "frame-ancestors *" in headers["Content-Security-Policy"]
        assert headers["Referrer-Policy"] == "strict-origin-when-cross-origin"
