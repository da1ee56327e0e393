"""A running staff service with one member per role, and a browser-like client for it."""

from __future__ import annotations

import json
import re
import urllib.error
import urllib.request

import requests

from fakes.server import BackgroundServer
from staff.accounts import create_user
from storage.migrate import upgrade

PASSWORD = "a long enough passphrase"


def run_workspace(database_url, monkeypatch, tmp_path):
    """The staff service (pages + API) on a free port, with its own database and KB folder
    (the `workspace` fixture in conftest.py)."""
    from staff.app import create_app

    monkeypatch.setenv("GOV_DATABASE_URL", database_url)
    monkeypatch.setenv("GOV_KB_DIR", str(tmp_path / "kb"))
    monkeypatch.setenv("GOV_STAFF_MAX_FAILED_LOGINS", "3")
    upgrade(database_url)
    for role in ("editor", "publisher", "admin"):
        create_user(f"{role}.one", PASSWORD, role, f"{role.title()} One")
    # Rasa is not running here: closing a handoff cannot resume it (tested end to end).
    app = create_app("api-token", "http://127.0.0.1:9", "rasa-token")
    with BackgroundServer(app) as server:
        yield server.url


def csrf_of(html: str) -> str:
    return re.search(r'name="csrf_token" value="([^"]+)"', html).group(1)


def sign_in(url: str, username: str, password: str = PASSWORD) -> requests.Session:
    browser = requests.Session()
    page = browser.get(f"{url}/login")
    token = re.search(r'name="login_csrf" value="([^"]+)"', page.text).group(1)
    browser.post(f"{url}/login", data={"login_csrf": token, "username": username,
                                       "password": password}, allow_redirects=False)
    return browser


def staff_api(stack, method: str, path: str, body: dict | None = None,
              token: str | None = None) -> tuple[int, dict]:
    """A call to the running stack's staff API with its token (status, JSON body)."""
    request = urllib.request.Request(
        f"{stack.settings.staff_url}{path}", method=method,
        data=json.dumps(body).encode() if body is not None else None,
        headers={"Authorization": f"Bearer {token or stack.settings.staff_api_token()}",
                 "Content-Type": "application/json", "Accept-Language": "zh"},
    )
    try:
        with urllib.request.urlopen(request, timeout=30) as response:
            return response.status, json.loads(response.read())
    except urllib.error.HTTPError as failure:
        return failure.code, json.loads(failure.read())
