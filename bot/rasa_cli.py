"""Rasa's command line (`rasa train`, `rasa data validate`) without the warnings it cannot get
right: `python -m bot.rasa_cli train ...` takes the same arguments as `rasa`.

Rasa's validation reports every response that no story or rule names as "not used in any
story or rule". Here ~30 are used all the same, where Rasa cannot see it: sent by a custom
action (`dispatcher.utter_message(response="utter_…")` in actions/ or bot/), asked by a form
(`utter_ask_<slot>`), or sent by Rasa's own `action_default_fallback` (`utter_default`). Those
exact warnings are added to Rasa's own list of expected warnings (`EXPECTED_WARNINGS`, which it
ignores below debug level); a response that really is unused is still reported, and
tests/test_training_data.py fails on it. Two pipeline notices that do not apply to this
pipeline and some third-party deprecation noise are added the same way (below, with why).
"""

from __future__ import annotations

import re
import sys
from pathlib import Path

import yaml

PROJECT_ROOT = Path(__file__).resolve().parent.parent
UTTERANCE_UNUSED = "The utterance '{}' is not used in any story or rule."
# Rasa's pipeline check counts only trainable extractors (DIET, CRF) as using entity examples
# and lookup tables; here RegexEntityExtractor uses them (config.yml), so both notices are wrong.
PIPELINE_NOTICES = [
    (UserWarning, re.escape("You have defined training data consisting of entity examples, "
                            "but your NLU configuration does not include an entity extractor")),
    (UserWarning, re.escape("You have defined training data consisting of lookup tables, "
                            "but your NLU configuration does not include any components")),
]
# Third-party noise nothing here can fix: TensorFlow 2.12 (pinned by Rasa 3.6) imports a name
# the installed JAX has deprecated; Rasa's matplotlib calls pyparsing's old method names.
THIRD_PARTY_NOISE = [(DeprecationWarning, re.escape("jax.xla_computation is deprecated")),
                     (DeprecationWarning, r"'\w+' deprecated - use '\w+'")]


def responses_sent_by_code(root: Path = PROJECT_ROOT) -> set[str]:
    """`utter_…` names quoted in the custom actions and the Rasa-side code."""
    found: set[str] = set()
    for path in [*(root / "actions").rglob("*.py"), *(root / "bot").glob("*.py")]:
        found |= set(re.findall(r'"(utter_\w+)"', path.read_text(encoding="utf-8")))
    return found


def responses_asked_by_forms(root: Path = PROJECT_ROOT) -> set[str]:
    """A form asks for each required slot with `utter_ask_<slot>`."""
    domain = yaml.safe_load((root / "domain.yml").read_text(encoding="utf-8"))
    return {f"utter_ask_{slot}" for form in (domain.get("forms") or {}).values()
            for slot in form["required_slots"]}


def used_outside_stories(root: Path = PROJECT_ROOT) -> set[str]:
    """Responses in use that Rasa's validation cannot see used."""
    return responses_sent_by_code(root) | responses_asked_by_forms(root) | {"utter_default"}


def expected_warnings(root: Path = PROJECT_ROOT) -> list[str]:
    return [UTTERANCE_UNUSED.format(name) for name in sorted(used_outside_stories(root))]


def main(argv: list[str]) -> None:
    from rasa.utils import common

    common.EXPECTED_WARNINGS.extend((UserWarning, re.escape(message))
                                    for message in expected_warnings())
    common.EXPECTED_WARNINGS.extend([*PIPELINE_NOTICES, *THIRD_PARTY_NOISE])
    from rasa.__main__ import main as rasa_main

    sys.argv = ["rasa", *argv]
    rasa_main()


if __name__ == "__main__":
    main(sys.argv[1:])
