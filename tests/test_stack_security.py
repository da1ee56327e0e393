"""What the launcher does about secrets and state (docs/security.md): no secret on a
command line, owner-only state (also for files SQLite creates later), the Rasa API token taken
from the environment, CORS origins, secrets masked in log lines, channel namespaces."""

from __future__ import annotations

import os
import sqlite3
import stat
from pathlib import Path

import pytest

from channels.namespaces import owning_channel
from common.privacy import mask_sensitive
from common.secrets import make_private
from common.settings import Settings
from services.rasa_server import api_token_from_environment
from stack.services import build_services


@pytest.fixture
def restored_umask():
    previous = os.umask(0o022)
    os.umask(previous)
    yield
    os.umask(previous)


def mode(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


def test_state_folder_becomes_owner_only_and_stays_so(tmp_path, restored_umask):
    state = tmp_path / "state"
    (state / "logs").mkdir(parents=True)
    os.chmod(state, 0o755)
    os.chmod(state / "logs", 0o755)
    for name in ("gov.db", "secret.key", "logs/rasa.log"):
        (state / name).write_text("x")
        os.chmod(state / name, 0o644)
    (state / "gov.db").unlink()
    database = sqlite3.connect(state / "gov.db")  # created 0644 under the usual umask
    database.execute("create table t (x)")
    database.close()

    make_private(state)

    assert mode(state) == 0o700 and mode(state / "logs") == 0o700
    assert {mode(state / name) for name in ("gov.db", "secret.key", "logs/rasa.log")} == {0o600}
    # Files made afterwards (SQLite's write-ahead log and shared memory) are owner-only too.
    database = sqlite3.connect(state / "gov.db")
    database.execute("pragma journal_mode=wal")
    database.execute("insert into t values (1)")
    database.commit()
    created = [state / "gov.db-wal", state / "gov.db-shm"]
    assert all(path.exists() and mode(path) == 0o600 for path in created)
    database.close()
    (state / "later").mkdir()
    assert mode(state / "later") == 0o700


def test_no_secret_on_any_command_line(tmp_path, monkeypatch, restored_umask):
    monkeypatch.setenv("GOV_TELEGRAM_TOKEN", "telegram-secret-123")
    monkeypatch.setenv("GOV_WECHAT_TOKEN", "wechat-token-456")
    monkeypatch.setenv("GOV_WECHAT_APP_SECRET", "wechat-secret-789")
    settings = Settings().isolated(tmp_path / "state")
    env = settings.process_env()
    secrets = [settings.action_token(), settings.staff_api_token(), "telegram-secret-123",
               "wechat-token-456", "wechat-secret-789"]
    services = build_services(settings, tmp_path / "model.tar.gz")
    for service in services:
        line = " ".join(service.argv)
        assert "--auth-token" not in line
        assert not [secret for secret in secrets if secret in line], service.name
    assert env["GOV_ACTION_TOKEN"] == settings.action_token()  # how Rasa gets it instead


def test_rasa_api_token_comes_from_the_environment(monkeypatch):
    argv = ["services.rasa_server", "run", "--enable-api"]
    monkeypatch.setenv("GOV_RASA_API_TOKEN", "-starts-with-a-dash")
    assert api_token_from_environment(argv) == [*argv, "--auth-token=-starts-with-a-dash"]
    plain = ["services.rasa_server", "run"]
    assert api_token_from_environment(plain) == plain
    monkeypatch.delenv("GOV_RASA_API_TOKEN")
    with pytest.raises(SystemExit, match="GOV_RASA_API_TOKEN"):  # never an open API
        api_token_from_environment(argv)


def test_cors_allows_the_page_origin_by_default(monkeypatch):
    monkeypatch.delenv("GOV_CORS_ORIGINS", raising=False)
    settings = Settings(web_port=8080)
    assert settings.allowed_origins == ["http://127.0.0.1:8080", "http://localhost:8080"]
    assert "*" not in Settings(host="0.0.0.0").allowed_origins
    monkeypatch.setenv("GOV_CORS_ORIGINS", "https://chat.example.gov.cn, https://x.gov.cn")
    assert Settings().allowed_origins == ["https://chat.example.gov.cn", "https://x.gov.cn"]


def test_action_server_binds_loopback_by_default(monkeypatch):
    monkeypatch.delenv("GOV_ACTION_HOST", raising=False)
    monkeypatch.setenv("GOV_HOST", "0.0.0.0")  # the public services may be opened up ...
    settings = Settings()
    assert settings.action_host == "127.0.0.1"  # ... the action server stays on loopback
    monkeypatch.setenv("GOV_ACTION_HOST", "0.0.0.0")
    assert Settings().action_url.startswith("http://127.0.0.1:")


@pytest.mark.parametrize("line", [
    "GET /conversations/x/tracker?token=s3cr3t-Value HTTP/1.1",
    "POST http://127.0.0.1:5055/webhook?token=s3cr3t-Value failed",
    "calling /execute?output_channel=latest&token=s3cr3t-Value",
])
def test_url_secrets_are_masked_in_logs(line):
    assert "s3cr3t-Value" not in mask_sensitive(line)
    assert "token=***" in mask_sensitive(line)


@pytest.mark.parametrize(("sender", "owner"), [
    ("telegram:123456", "telegram"), ("wechat:oXyZ123", "wechat"),
    ("voice-1b4e28ba-2fa1-41d2-883f-0016d3cca427", "voice"),
    ("1b4e28ba-2fa1-41d2-883f-0016d3cca427", "socketio"), ("s-lq2x9k3a0h7f4k2j9x", "socketio"),
    (" Telegram:1", "telegram"),
    ("me", None), ("citizen-42", None), ("test-1b4e28ba2fa1", None), ("s-hi", None),
])
def test_channel_namespaces(sender, owner):
    assert owning_channel(sender) == owner
