"""How the reply language is chosen from the citizen's messages and explicit requests."""

from __future__ import annotations

import asyncio

import pytest
from rasa_sdk import Tracker
from rasa_sdk.events import SlotSet
from rasa_sdk.executor import CollectingDispatcher

from actions.language import ValidateLanguageSlots, language_from_request


def entity(text: str, word: str, value: str) -> dict:
    start = text.lower().index(word.lower())
    return {"entity": "language_name", "start": start, "end": start + len(word), "value": value}


@pytest.mark.parametrize(
    ("text", "names", "current", "expected"),
    [
        ("请用英文回答", [("英文", "en")], "zh", "en"),
        ("please answer in Chinese", [("Chinese", "zh")], "en", "zh"),
        ("I don't understand Chinese", [("Chinese", "zh")], "zh", "en"),
        ("我看不懂英文", [("英文", "en")], "en", "zh"),
        ("可以换成英文吗，我朋友不懂中文", [("英文", "en"), ("中文", "zh")], "zh", "en"),
        ("my english is bad, use Chinese", [("english", "en"), ("Chinese", "zh")], "en", "zh"),
        ("能改用中文吗，英文看不太懂", [("中文", "zh"), ("英文", "en")], "en", "zh"),
        ("not chinese, i need English", [("chinese", "zh"), ("English", "en")], "zh", "en"),
        ("换个语言", [], "zh", "en"),
        ("请用繁体字回复", [], "zh", "zh"),
        ("我看不懂繁體", [], "zh", "zh"),
        ("請用簡體", [], "en", "zh"),
        ("change language", [], "en", "zh"),
    ],
)
def test_language_from_request(text, names, current, expected):
    entities = [entity(text, word, value) for word, value in names]
    assert language_from_request(text, entities, current) == expected


def run_validation(text: str, intent: str, slots: dict, entities=(), previous_turns: int = 0,
                   earlier: tuple[str, ...] = ()):
    events = [{"event": "user", "text": "earlier"}] * previous_turns
    events += [{"event": "user", "text": said} for said in earlier]
    events.append({"event": "user", "text": text})
    tracker = Tracker(
        sender_id="t",
        slots={"language": "zh", "preferred_language": None, **slots},
        latest_message={"text": text, "intent": {"name": intent}, "entities": list(entities)},
        events=events,
        paused=False,
        followup_action=None,
        active_loop={},
        latest_action_name="action_listen",
    )
    domain = {
        "slots": {
            "preferred_language": {"type": "categorical", "mappings": [{"type": "custom"}]},
            "language": {"type": "categorical", "mappings": [{"type": "custom"}]},
        }
    }
    events = asyncio.run(ValidateLanguageSlots().run(CollectingDispatcher(), tracker, domain))
    return {e["name"]: e["value"] for e in events if e["event"] == "slot"}


def test_first_english_message_sets_english():
    assert run_validation("hello", "greet", {}) == {"language": "en"}


def test_short_message_later_keeps_the_language():
    assert run_validation("ok", "affirm", {"language": "zh"}, previous_turns=2) == {}


def test_clear_message_later_changes_the_language():
    slots = run_validation("thank you very much", "thank", {}, previous_turns=2)
    assert slots == {"language": "en"}


def test_explicit_request_sets_preference_and_language():
    text = "请用英文回答"
    slots = run_validation(text, "switch_language", {}, [entity(text, "英文", "en")])
    assert slots == {"preferred_language": "en", "language": "en"}


def test_preference_overrides_detection():
    assert run_validation("你好", "greet", {"preferred_language": "en", "language": "en"}) == {}


def test_validation_rejects_unknown_values():
    action = ValidateLanguageSlots()
    assert action.validate_language("fr", None, None, {}) == {"language": "zh"}
    assert SlotSet("language", "en")["value"] == "en"


@pytest.mark.parametrize("payload", ["/greet", "/feedback_helpful",
                                     '/choose_department{"department": "urban_management"}'])
def test_button_payloads_and_channel_events_keep_the_language(payload):
    assert run_validation(payload, "greet", {"language": "zh"}) == {}
    assert run_validation(payload, "greet", {"language": "en"}, previous_turns=3) == {}


def test_a_first_short_message_after_a_channel_event_decides():
    # Telegram's /start (sent as /greet) and a button came first: not the citizen's words
    slots = run_validation("help", "help", {"language": "zh"}, earlier=("/greet", "/help"))
    assert slots == {"language": "en"}
    assert run_validation("help", "help", {"language": "zh"}, earlier=("你好",)) == {}
