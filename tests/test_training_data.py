"""`rasa data validate` is clean, and the held-out test set really is held out."""

from __future__ import annotations

import re
import subprocess

import yaml

from bot.expected_warnings import responses_sent_by_code
from common.settings import Settings
from helpers import PROJECT_ROOT, domain

ANNOTATION = re.compile(r"\[([^\]]+)\]\([^)]+\)")


def nlu_examples(path) -> set[str]:
    data = yaml.safe_load(path.read_text(encoding="utf-8"))
    return {
        ANNOTATION.sub(r"\1", line.strip()[2:]).strip().lower()
        for block in data["nlu"] if "intent" in block
        for line in block["examples"].splitlines() if line.strip().startswith("- ")
    }


def test_rasa_data_validate_is_clean():
    settings = Settings()
    result = subprocess.run(
        [str(settings.rasa_venv / "bin" / "python"), "-m", "bot.rasa_cli", "data", "validate",
         "--data", "bot/data", "--domain", "domain.yml", "--config", "config.yml"],
        cwd=PROJECT_ROOT, env=settings.process_env(), capture_output=True, text=True,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    # Responses sent by actions, asked by forms or by Rasa's fallback are known to be used
    # (bot/expected_warnings.py); any other warning is a real problem in the training data.
    assert re.findall(r"UserWarning: (.*)", result.stdout + result.stderr) == []


def test_every_response_the_code_sends_exists():
    """A response named in actions/ or bot/ is one domain.yml defines (a typo would both fail
    at run time and hide a real "unused" warning)."""
    assert responses_sent_by_code() <= set(domain()["responses"])


def test_every_response_exists_in_both_languages():
    for name, variations in domain()["responses"].items():
        conditions = [c for v in variations for c in v.get("condition", [])]
        languages = {c["value"] for c in conditions if c["name"] == "language"}
        assert languages == {"zh", "en"}, name


def training_examples() -> set[str]:
    training: set[str] = set()
    for path in (PROJECT_ROOT / "bot" / "data" / "nlu").glob("*.yml"):
        training |= nlu_examples(path)
    return training


def test_holdout_set_is_not_in_the_training_data():
    training = training_examples()
    holdout = nlu_examples(PROJECT_ROOT / "tests" / "data" / "nlu_holdout.yml")
    assert len(holdout) >= 500
    assert holdout & training == set()


def test_situational_probes_are_not_in_the_training_data():
    """bench/data/nlu_situational.yml measures generalisation to citizens describing their own
    situation; it must stay out of training (and apart from the held-out set)."""
    training = training_examples()
    probes = nlu_examples(PROJECT_ROOT / "bench" / "data" / "nlu_situational.yml")
    assert len(probes) >= 40
    assert probes & training == set()
    assert probes & nlu_examples(PROJECT_ROOT / "tests" / "data" / "nlu_holdout.yml") == set()
