"""`rasa data validate` is clean, and the held-out test set really is held out."""

from __future__ import annotations

import re
import subprocess

import yaml

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


def responses_dispatched_by_actions() -> set[str]:
    found = set()
    code = [*(PROJECT_ROOT / "actions").rglob("*.py"), *(PROJECT_ROOT / "bot").glob("*.py")]
    for path in code:
        found |= set(re.findall(r'"(utter_\w+)"', path.read_text(encoding="utf-8")))
    return found


def responses_asked_by_forms() -> set[str]:
    """A form asks for each required slot with `utter_ask_<slot>`."""
    return {f"utter_ask_{slot}" for form in domain()["forms"].values()
            for slot in form["required_slots"]}


def test_rasa_data_validate_is_clean():
    settings = Settings()
    result = subprocess.run(
        [str(settings.rasa_venv / "bin" / "rasa"), "data", "validate",
         "--data", "bot/data", "--domain", "domain.yml", "--config", "config.yml"],
        cwd=PROJECT_ROOT, env=settings.process_env(), capture_output=True, text=True,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    warnings = re.findall(r"UserWarning: (.*)", result.stdout + result.stderr)
    # Rasa cannot see responses sent from custom actions or asked by forms, nor that its own
    # action_default_fallback sends utter_default; those alone may be reported unused.
    allowed = {
        f"The utterance '{name}' is not used in any story or rule."
        for name in responses_dispatched_by_actions() | responses_asked_by_forms()
        | {"utter_default"}
    }
    assert [w for w in warnings if w not in allowed] == []


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
