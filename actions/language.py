"""Which language the assistant answers in, decided afresh on every citizen message.

Runs as `action_validate_slot_mappings`, which Rasa calls after each user message, before any
response is chosen, so every reply of the turn is already in the right language.
"""

from __future__ import annotations

import re
from typing import Any, Dict

from rasa_sdk import Tracker
from rasa_sdk.executor import CollectingDispatcher
from rasa_sdk.forms import ValidationAction
from rasa_sdk.types import DomainDict

from bot.text import SCRIPT_NAMES, SUPPORTED_LANGUAGES, detect_language

SWITCH_INTENT = "switch_language"
INTENT_PAYLOAD_PREFIX = "/"
LANGUAGE_ENTITY = "language_name"
# "I don't read Chinese", "我朋友不懂中文": a language named right after a negation is the one
# the citizen does NOT want.
_NEGATION_BEFORE = re.compile(
    r"(?:\b(?:don'?t|do not|can'?t|cannot|can not|not|no)\b[\w\s]{0,12}"
    r"|不懂|看不懂|听不懂|聽不懂|不会|不會|不要|别|別|不明白|不太懂)\s*$",
    re.IGNORECASE,
)
# "英文看不太懂", "my english is bad": the same, with the negation after the language.
_NEGATION_AFTER = re.compile(
    r"^\s*(?:看不懂|看不太懂|听不懂|聽不懂|不懂|不太懂|不好|不行|不会|不會"
    r"|(?:is|'s)\s+(?:bad|poor|not good|terrible))",
    re.IGNORECASE,
)


def _other(language: str | None) -> str:
    return "en" if language == "zh" else "zh"


def requested_language(tracker: Tracker) -> str | None:
    """The language the citizen explicitly asked for in their latest message, if any.

    "请用英文回答" names English; "I don't read Chinese" asks for the other language; a bare
    "换个语言" / "change language" flips the current one.
    """
    message = tracker.latest_message
    if (message.get("intent") or {}).get("name") != SWITCH_INTENT:
        return None
    return language_from_request(
        message.get("text") or "", message.get("entities", []), tracker.get_slot("language")
    )


def language_from_request(
    text: str, entities: list[dict[str, Any]], current: str | None
) -> str:
    """Resolve a switch-language request from its `language_name` entities."""
    wanted, unwanted = [], []
    for entity in entities:
        value = entity.get("value")
        if entity.get("entity") != LANGUAGE_ENTITY or value not in SUPPORTED_LANGUAGES:
            continue
        start, end = int(entity.get("start") or 0), int(entity.get("end") or 0)
        negated = _NEGATION_BEFORE.search(text[max(0, start - 20) : start]) or (
            _NEGATION_AFTER.search(text[end : end + 20])
        )
        (unwanted if negated else wanted).append(value)
    if wanted:
        return wanted[-1]
    if unwanted:
        return _other(unwanted[-1])
    if SCRIPT_NAMES.search(text):
        # "请用繁体字回复", "看不懂繁體": Chinese either way, in the script named (bot/scripts.py);
        # flipping the language here answered them in English.
        return "zh"
    return _other(current)


def reply_language(tracker: Tracker, preferred: str | None) -> str | None:
    """An explicit preference wins; otherwise the language of the latest message.

    A message too short to be sure of ("ok", "好", an application number) keeps the language
    already in use and only decides when the conversation has none yet. Button payloads and
    channel events ("/greet", "/choose_department{…}") are not the citizen's words at all.
    """
    if preferred in SUPPORTED_LANGUAGES:
        return preferred
    text = tracker.latest_message.get("text") or ""
    current = tracker.get_slot("language")
    if text.startswith(INTENT_PAYLOAD_PREFIX):
        return current
    detection = detect_language(text)
    if detection.language is None:
        return current
    if detection.certain or not _has_spoken_before(tracker):
        return detection.language
    return current


def _has_spoken_before(tracker: Tracker) -> bool:
    """Has the citizen written anything before this message (buttons and events aside)?"""
    return sum(1 for event in tracker.events if event.get("event") == "user"
               and not (event.get("text") or "").startswith(INTENT_PAYLOAD_PREFIX)) > 1


class ValidateLanguageSlots(ValidationAction):
    """Fills `preferred_language` and `language` (custom slot mappings in the domain)."""

    async def extract_preferred_language(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> Dict[str, Any]:
        requested = requested_language(tracker)
        if requested is None or requested == tracker.get_slot("preferred_language"):
            return {}
        return {"preferred_language": requested}

    async def extract_language(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> Dict[str, Any]:
        language = reply_language(tracker, tracker.get_slot("preferred_language"))
        if language is None or language == tracker.get_slot("language"):
            return {}
        return {"language": language}

    def validate_preferred_language(
        self, value: Any, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> Dict[str, Any]:
        return {"preferred_language": value if value in SUPPORTED_LANGUAGES else None}

    def validate_language(
        self, value: Any, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> Dict[str, Any]:
        return {"language": value if value in SUPPORTED_LANGUAGES else "zh"}
