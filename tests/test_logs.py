"""The one log format of every process (common/logs.py): JSON lines or text, personal data
masked in both, and a real service started by the stack writing nothing but JSON lines."""

from __future__ import annotations

import io
import json
import logging
import sys
import urllib.request
import warnings
from datetime import datetime

import pytest
from aiohttp import web

from common import logs
from common.settings import Settings
from fakes.server import BackgroundServer, free_port
from stack.services import Service, wait_until_ready

ID_CARD, PHONE = "110101199003071234", "13812345678"


def record(message: str, *args: object, level: int = logging.INFO, exc_info: object = None,
           **extra: object) -> logging.LogRecord:
    return logging.getLogger("gov.test").makeRecord(
        "gov.test", level, __file__, 1, message, args, exc_info, extra=extra or None)


def test_json_line_has_the_fields_and_masks_the_message():
    line = logs.JsonFormatter("rasa-server-1").format(
        record("citizen %s wrote: 身份证%s\nsecond line", "abc", ID_CARD,
               sender="3f2a9c", channel="rest", latency_ms=113.7))
    assert "\n" not in line
    entry = json.loads(line)
    assert entry["level"] == "INFO" and entry["logger"] == "gov.test"
    assert entry["service"] == "rasa-server-1" and isinstance(entry["pid"], int)
    assert entry["message"] == "citizen abc wrote: 身份证[ID ****1234]\nsecond line"
    assert entry["sender"] == "3f2a9c" and entry["channel"] == "rest"
    assert entry["latency_ms"] == 113.7
    moment = datetime.fromisoformat(entry["time"].replace("Z", "+00:00"))
    assert entry["time"].endswith("Z") and moment.utcoffset().total_seconds() == 0
    assert ID_CARD not in line


def test_extra_fields_and_exceptions_are_masked_too():
    try:
        raise ValueError(f"bad phone {PHONE}")
    except ValueError:
        made = record("lookup failed", level=logging.ERROR, exc_info=sys.exc_info(),
                      detail={"typed": [f"我的电话{PHONE}"]}, when=datetime(2024, 1, 1))
    line = logs.JsonFormatter("actions").format(made)
    entry = json.loads(line)
    assert PHONE not in line
    assert entry["detail"] == {"typed": ["我的电话[PHONE ****5678]"]}
    assert entry["when"] == "2024-01-01 00:00:00"  # anything else becomes its text
    assert entry["exception"].startswith("Traceback (most recent call last):")
    assert "ValueError: bad phone [PHONE ****5678]" in entry["exception"]


def test_extras_cannot_overwrite_the_standard_fields():
    entry = json.loads(logs.JsonFormatter("x").format(record("m", service="fake", level_="n")))
    assert entry["service"] == "x" and entry["level"] == "INFO" and entry["level_"] == "n"


def test_text_lines_are_masked_and_carry_the_fields():
    try:
        raise RuntimeError(ID_CARD)
    except RuntimeError:
        made = record("id %s", ID_CARD, level=logging.WARNING, exc_info=sys.exc_info(),
                      channel="wechat")
    text = logs.TextFormatter("staff").format(made)
    first, *rest = text.splitlines()
    assert " WARNING  staff gov.test - id [ID ****1234] channel=\"wechat\"" in first
    assert ID_CARD not in text and "RuntimeError: [ID ****1234]" in rest[-1]


@pytest.fixture
def clean_logging():
    """configure() changes this process's root logger: put everything back afterwards."""
    root = logging.getLogger()
    saved = (list(root.handlers), root.level, sys.excepthook)
    yield
    for handler in list(root.handlers):
        root.removeHandler(handler)
    for handler in saved[0]:
        root.addHandler(handler)
    vars(root).pop("setLevel", None)
    root.setLevel(saved[1])
    sys.excepthook = saved[2]
    logging.captureWarnings(False)
    logs._current.clear()


def test_configure_installs_one_handler_at_the_configured_level(clean_logging, monkeypatch):
    monkeypatch.setenv("GOV_LOG_FORMAT", "json")
    monkeypatch.setenv("GOV_LOG_LEVEL", "warning")
    monkeypatch.setenv("GOV_SERVICE_NAME", "web-chat")
    stream = io.StringIO()
    logs.configure("webchat", stream=stream)
    logs.configure("webchat", stream=stream)  # again, as libraries make us do: still one
    logging.getLogger("gov.test").info("not shown")
    logging.getLogger("gov.test").warning("电话 %s", PHONE)
    with warnings.catch_warnings():
        warnings.simplefilter("always")
        warnings.warn("old API", DeprecationWarning, stacklevel=1)
    lines = [json.loads(line) for line in stream.getvalue().splitlines()]
    assert lines[0]["message"] == "电话 [PHONE ****5678]"
    assert lines[1]["logger"] == "py.warnings" and "old API" in lines[1]["message"]
    assert {line["service"] for line in lines} == {"web-chat"} and len(lines) == 2
    assert sum(isinstance(h, logs._Handler) for h in logging.getLogger().handlers) == 1
    logging.getLogger().setLevel(logging.ERROR)  # as setuptools does, imported by TensorFlow
    assert logging.getLogger().level == logging.WARNING


def test_library_console_handlers_are_replaced_and_their_loggers_reconnected(clean_logging,
                                                                             monkeypatch):
    monkeypatch.setenv("GOV_LOG_FORMAT", "text")
    stream = io.StringIO()
    logs.configure("rasa-server", stream=stream)
    library = logging.getLogger("sanic.error.test")
    library.addHandler(logging.StreamHandler(sys.stderr))
    library.propagate = False
    logs.route_to_root("sanic.error.test")
    library.error("boom for %s", ID_CARD)
    assert library.handlers == [] and library.propagate
    assert "rasa-server sanic.error.test - boom for [ID ****1234]" in stream.getvalue()


def test_unknown_format_and_level_fall_back_to_the_defaults(monkeypatch):
    monkeypatch.setenv("GOV_LOG_FORMAT", "xml")
    monkeypatch.setenv("GOV_LOG_LEVEL", "loud")
    assert logs.log_format() == "text" and logs.level_name() == "INFO"


def test_sender_hash_is_stable_keyed_and_short(tmp_path, monkeypatch):
    logs._sender_key.cache_clear()
    monkeypatch.setenv("GOV_STATE_DIR", str(tmp_path / "one"))
    first = logs.sender_hash(PHONE)
    assert first == logs.sender_hash(PHONE) and len(first) == 16 and PHONE not in first
    logs._sender_key.cache_clear()
    monkeypatch.setenv("GOV_STATE_DIR", str(tmp_path / "two"))  # another key
    assert logs.sender_hash(PHONE) != first
    logs._sender_key.cache_clear()


def test_a_balancer_started_by_the_stack_writes_json_lines(tmp_path, monkeypatch):
    """The real process, started the way the stack starts it, one instance down: every line it
    writes (stdout and stderr) is a JSON object, and the ID number in a path is masked."""
    monkeypatch.setenv("GOV_LOG_FORMAT", "json")
    settings = Settings().isolated(tmp_path)
    upstream = web.Application()
    upstream.router.add_get("/{tail:.*}", lambda _: web.json_response({"ok": True}))
    port = free_port()
    with BackgroundServer(upstream) as alive:
        balancer = Service(
            name="rasa balancer",
            argv=[str(settings.app_venv / "bin" / "python"), "-m", "services.balancer",
                  "--port", str(port), "--upstream", f"http://127.0.0.1:{free_port()}",
                  "--upstream", alive.url],
            health_url=f"http://127.0.0.1:{port}/", log_path=tmp_path / "balancer.log")
        balancer.start(settings.process_env())
        try:
            wait_until_ready([balancer], 30)
            for _ in range(2):  # one of the two goes to the instance that is down first
                with urllib.request.urlopen(
                        f"http://127.0.0.1:{port}/conversations/{ID_CARD}/tracker") as reply:
                    assert reply.status == 200
        finally:
            balancer.stop()
    lines = balancer.log_path.read_text(encoding="utf-8").splitlines()
    entries = [json.loads(line) for line in lines]  # every line, or this fails
    assert {entry["service"] for entry in entries} == {"rasa-balancer"}
    assert any(entry["level"] == "WARNING" and "is not answering" in entry["message"]
               and entry["logger"] == "services.balancer" for entry in entries)
    access = [entry for entry in entries if entry["logger"] == "aiohttp.access"]
    assert access and all("[ID ****1234]" in entry["message"] for entry in access
                          if "/conversations/" in entry["message"])
    assert ID_CARD not in "\n".join(lines)
