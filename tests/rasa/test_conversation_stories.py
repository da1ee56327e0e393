"""`rasa test core` on the conversation tests in tests/stories: Rasa's own dialogue check."""

from __future__ import annotations

import subprocess

from common.settings import PROJECT_ROOT, Settings
from stack.training import model_path


def test_test_stories_pass(tmp_path):
    settings = Settings()
    model = model_path(settings)
    assert model.is_file(), "run `make setup` first (make test does)"
    result = subprocess.run(
        [str(settings.rasa_venv / "bin" / "rasa"), "test", "core",
         "--model", str(model), "--stories", "tests/stories/test_stories.yml",
         "--endpoints", "endpoints.yml", "--out", str(tmp_path), "--fail-on-prediction-errors"],
        cwd=PROJECT_ROOT, env=settings.process_env(), capture_output=True, text=True,
    )
    failed = tmp_path / "failed_test_stories.yml"
    details = failed.read_text() if failed.is_file() else result.stdout[-3000:]
    assert result.returncode == 0, details + result.stderr[-2000:]
