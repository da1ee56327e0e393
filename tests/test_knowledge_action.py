"""The answering action degrades to a bilingual apology, never silence, when search fails."""

from __future__ import annotations

import asyncio

from rasa_sdk import Tracker
from rasa_sdk.executor import CollectingDispatcher

from actions import knowledge


def tracker(text: str) -> Tracker:
    return Tracker("t", {"language": "en"}, {"text": text, "intent": {"name": "ask_question"}},
                   [], False, None, {}, "action_listen")


def test_search_failure_gives_an_apology(monkeypatch):
    def broken(*_args, **_kwargs):
        raise RuntimeError("index unreadable")

    monkeypatch.setattr(knowledge.SEARCHER, "search", broken)
    dispatcher = CollectingDispatcher()
    events = asyncio.run(knowledge.ActionAnswerQuestion().run(dispatcher, tracker("fees?"), {}))
    assert [m["response"] for m in dispatcher.messages] == ["utter_kb_error"]
    assert events[0]["name"] == "last_answer" and events[0]["value"] is None
