"""Rasa's own ways of writing to the console (structlog events, coloredlogs, `print_warning`)
come out as the project's log lines, masked (bot/rasa_logs.py, put in place by bot/patches.py;
common/logs.py). In a separate process: the set-up changes the process's logging for good."""

from __future__ import annotations

import json
import subprocess
import sys

from common.settings import PROJECT_ROOT

ID_CARD = "110101199003071234"

SCRIPT = f"""
import logging
from common import logs
logs.configure("rasa-server")
from bot import patches
patches.install("logging")
import sys
import rasa.__main__, rasa.core.utils, rasa.utils.io, structlog
from rasa.shared.utils.cli import print_warning
rasa.utils.io.configure_colored_logging("INFO")   # coloredlogs.install(), as Rasa's main does
rasa.core.utils.configure_file_logging(logging.getLogger(), sys.argv[1], False)  # --log-file
rasa.__main__.configure_structlog(logging.INFO)
try:
    raise RuntimeError("no database")
except RuntimeError:
    structlog.get_logger().exception("rest.message.received.failure",
                                     text="身份证{ID_CARD}")
print_warning("No chat connector configured")
logging.getLogger("rasa.core.run").info("Rasa server is up and running.")
"""


def test_structlog_coloredlogs_console_and_log_file_become_masked_json_lines(tmp_path):
    result = subprocess.run(
        [sys.executable, "-c", SCRIPT, str(tmp_path / "events.log")], cwd=PROJECT_ROOT,
        capture_output=True, text=True,
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
    # Rasa's --log-file: the same lines, in the same (masked) format
    written = (tmp_path / "events.log").read_text(encoding="utf-8").splitlines()
    assert [json.loads(line) for line in written] and ID_CARD not in "\n".join(written)
    assert any(json.loads(line)["message"] == "Rasa server is up and running." for line in written)
