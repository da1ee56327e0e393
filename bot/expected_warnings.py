"""Warnings the Rasa processes (training, validation, the server) know about and do not print,
each with why; everything else is still printed or logged.

- Rasa's validation reports every response that no story or rule names as "not used in any
  story or rule". ~30 here are used where Rasa cannot see it: sent by a custom action
  (`dispatcher.utter_message(response="utter_…")` in actions/ or bot/), asked by a form
  (`utter_ask_<slot>`), or sent by Rasa's own `action_default_fallback` (`utter_default`).
  Exactly those are expected; a response that really is unused is still reported, and
  tests/test_training_data.py fails on it.
- Rasa's pipeline check counts only trainable extractors (DIET, CRF) as using entity examples
  and lookup tables; here RegexEntityExtractor uses them (config.yml).
- The API endpoint that runs an action on staff's behalf (staff/api.py: a staff reply, a
  conversation handed back) is "deprecated" in Rasa 3.6 with nothing to replace it.
- Third-party deprecations inside the pinned Rasa 3.6 stack, which nothing here can fix.

They are added to Rasa's own list of expected warnings (`EXPECTED_WARNINGS`, which it ignores
below debug level) and to Python's filters for what is raised before Rasa sets its own.
"""

from __future__ import annotations

import re
import warnings
from pathlib import Path

import yaml

PROJECT_ROOT = Path(__file__).resolve().parent.parent
UTTERANCE_UNUSED = "The utterance '{}' is not used in any story or rule."

PIPELINE_NOTICES = [
    "You have defined training data consisting of entity examples, but your NLU configuration "
    "does not include an entity extractor",
    "You have defined training data consisting of lookup tables, but your NLU configuration "
    "does not include any components",
]
STAFF_ACTIONS = 'The "POST /conversations/<conversation_id>/execute" endpoint is deprecated'
THIRD_PARTY_DEPRECATIONS = [
    "jax.xla_computation is deprecated",  # TensorFlow 2.12 imports it from the installed JAX
    "Calling URL() directly is deprecated",  # Rasa's SQL tracker store, SQLAlchemy 1.4
    "distutils Version classes are deprecated",  # sanic-cors
    "The explicit passing of coroutine objects to asyncio.wait() is deprecated",  # Sanic 21
    "the load_module() method is deprecated",  # six's importer, on Python 3.10
]
PYPARSING_OLD_NAMES = r"'\w+' deprecated - use '\w+'"  # matplotlib's calls into pyparsing 3


def responses_sent_by_code(root: Path = PROJECT_ROOT) -> set[str]:
    """`utter_…` names quoted in the custom actions and the Rasa-side code."""
    found: set[str] = set()
    for path in [*(root / "actions").rglob("*.py"), *(root / "bot").glob("*.py")]:
        found |= set(re.findall(r'"(utter_\w+)"', path.read_text(encoding="utf-8")))
    # Not a response: the key of a bot event's metadata naming the response it came from.
    return found - {"utter_action"}


def responses_asked_by_forms(root: Path = PROJECT_ROOT) -> set[str]:
    """A form asks for each required slot with `utter_ask_<slot>`."""
    domain = yaml.safe_load((root / "domain.yml").read_text(encoding="utf-8"))
    return {f"utter_ask_{slot}" for form in (domain.get("forms") or {}).values()
            for slot in form["required_slots"]}


def used_outside_stories(root: Path = PROJECT_ROOT) -> set[str]:
    """Responses in use that Rasa's validation cannot see used."""
    return responses_sent_by_code(root) | responses_asked_by_forms(root) | {"utter_default"}


def expected(root: Path = PROJECT_ROOT) -> list[tuple[type[Warning], str]]:
    """(category, message pattern) of every expected warning."""
    literal = [*(UTTERANCE_UNUSED.format(name) for name in sorted(used_outside_stories(root))),
               *PIPELINE_NOTICES]
    return [*((UserWarning, re.escape(message)) for message in literal),
            (FutureWarning, re.escape(STAFF_ACTIONS)),
            *((DeprecationWarning, re.escape(message)) for message in THIRD_PARTY_DEPRECATIONS),
            (DeprecationWarning, PYPARSING_OLD_NAMES)]


def install() -> None:
    """Ignore the expected warnings from now on, and once Rasa sets up its own filters."""
    # Sanic, which Rasa imports, puts "once" for every DeprecationWarning in front of all the
    # filters when it is imported: import it first, so these go in front of that.
    import sanic  # noqa: F401

    known = expected()
    for category, pattern in known:
        warnings.filterwarnings("ignore", message=f".*{pattern}", category=category)
    from rasa.utils import common

    common.EXPECTED_WARNINGS.extend(known)
