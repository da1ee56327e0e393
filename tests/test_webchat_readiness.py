"""The page server's `GET /readyz` over real HTTP while nothing it depends on answers
(webchat/readiness.py; the ready case is tested against the running stack in
tests/e2e/test_webchat_page.py)."""

from __future__ import annotations

import json
import time
import urllib.error
import urllib.request

from fakes.server import BackgroundServer, free_port
from webchat.app import create_app


def readyz(url: str) -> tuple[int, dict, dict]:
    try:
        with urllib.request.urlopen(f"{url}/readyz", timeout=10) as response:
            return response.status, dict(response.headers), json.loads(response.read())
    except urllib.error.HTTPError as refused:
        return refused.code, dict(refused.headers), json.loads(refused.read())


def test_nothing_answering_is_not_ready_and_says_which():
    nowhere = [f"http://127.0.0.1:{free_port()}" for _ in range(3)]
    with BackgroundServer(create_app(nowhere[0], action_url=nowhere[1],
                                     speech_url=nowhere[2])) as server:
        started = time.monotonic()
        status, headers, body = readyz(server.url)
    assert time.monotonic() - started < 5  # asked together, each briefly
    assert status == 503 and headers["Cache-Control"] == "no-store"
    assert body == {"ready": False, "chat": False, "voice": False,
                    "services": {"rasa": False, "actions": False, "speech": False}}


def test_only_the_configured_services_are_asked():
    with BackgroundServer(create_app(f"http://127.0.0.1:{free_port()}")) as server:
        status, _, body = readyz(server.url)
    assert status == 503 and body["services"] == {"rasa": False}
