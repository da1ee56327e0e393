"""Rasa's own ways of writing to the console (structlog events, coloredlogs, `print_warning`)
come out as the project's log lines, masked (bot/rasa_logs.py, put in place by bot/patches.py;
stack/logs.py). In a separate process: the set-up changes the process's logging for good."""

from __future__ import annotations

import json
import subprocess
import sys

from stack.settings import PROJECT_ROOT

ID_CARD = "110101199003071234"

SCRIPT = f"""
import logging
from stack import logs
logs.configure("rasa-server")
from bot import patches
patches.install("logging")
import rasa.__main__, rasa.utils.io, structlog
from rasa.shared.utils.cli import print_warning
rasa.utils.io.configure_colored_logging("INFO")   # coloredlogs.install(), as Rasa's main does
rasa.__main__.configure_structlog(logging.INFO)
try:
    raise RuntimeError("no database")
except RuntimeError:
    structlog.get_logger().exception("rest.message.received.failure",
                                     text="身份证{ID_CARD}")
print_warning("No chat connector configured")
logging.getLogger("rasa.core.run").info("Rasa server is up and running.")
"""


def test_structlog_coloredlogs_and_console_messages_become_masked_json_lines(tmp_path):
    result = subprocess.run(
        [sys.executable, "-c", SCRIPT], cwd=PROJECT_ROOT, capture_output=True, text=True,
        env={"PYTHONPATH": str(PROJECT_ROOT), "GOV_LOG_FORMAT": "json",
             "GOV_STATE_DIR": str(tmp_path), "HOME": str(tmp_path), "PATH": "/usr/bin:/bin"},
        timeout=120, check=True)
    assert result.stdout == ""
    entries = [json.loads(line) for line in result.stderr.splitlines()]  # every line
    failure = next(e for e in entries if e["message"] == "rest.message.received.failure")
    assert failure["level"] == "ERROR" and failure["fields"] == {"text": "身份证[ID ****1234]"}
    assert "RuntimeError: no database" in failure["exception"]
    assert any(e["logger"] == "rasa.cli" and e["level"] == "WARNING" for e in entries)
    assert any(e["message"] == "Rasa server is up and running." for e in entries)
    assert ID_CARD not in result.stderr
