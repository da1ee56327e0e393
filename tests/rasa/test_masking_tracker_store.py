"""Stored conversations never contain ID-card or phone numbers, in any field of any event."""

from __future__ import annotations

import asyncio
import sqlite3

from rasa.core.tracker_store import create_tracker_store
from rasa.shared.core.domain import Domain
from rasa.shared.core.events import ActionExecuted, BotUttered, SlotSet, UserUttered
from rasa.shared.core.trackers import DialogueStateTracker
from rasa.utils.endpoints import EndpointConfig

PHONE, ID_CARD = "13812345678", "110101199003071234"


def test_events_are_masked_when_stored(tmp_path):
    db = tmp_path / "rasa.db"
    domain = Domain.from_yaml("version: '3.1'\nslots:\n  request_text:\n    type: text\n"
                              "    mappings:\n      - type: custom\n")
    store = create_tracker_store(EndpointConfig(
        type="bot.tracker_store.MaskingSQLTrackerStore", dialect="sqlite", db=str(db)), domain)
    text = f"我的手机{PHONE}，身份证{ID_CARD}，路灯坏了"
    tracker = DialogueStateTracker.from_events("citizen", [
        ActionExecuted("action_listen"),
        UserUttered(text, {"name": "make_request", "confidence": 0.9},
                    parse_data={"text": text, "intent": {"name": "make_request"}}),
        SlotSet("request_text", text),
        BotUttered(f"已记录，我们会联系 {PHONE}"),
        SlotSet("verification_code", "****"),
    ], slots=domain.slots)
    asyncio.run(store.save(tracker))

    rows = "\n".join(row[0] for row in sqlite3.connect(db).execute("select data from events"))
    assert PHONE not in rows and ID_CARD not in rows
    assert "****5678" in rows and "****1234" in rows  # staff can still match the case

    loaded = asyncio.run(store.retrieve("citizen"))
    assert loaded.latest_message.intent["name"] == "make_request"
    assert "路灯坏了" in loaded.latest_message.text and PHONE not in loaded.latest_message.text
    asyncio.run(store.save(loaded))  # nothing is stored twice
    assert sqlite3.connect(db).execute("select count(*) from events").fetchone()[0] == 5


def test_sqlite_store_writes_ahead_and_survives_reopening(tmp_path):
    """WAL mode (commits do not wait for the disk on Rasa's event loop); what was saved is read
    back by a new store on the same file."""
    db = tmp_path / "rasa.db"
    domain = Domain.from_yaml("version: '3.1'\n")
    config = EndpointConfig(type="bot.tracker_store.MaskingSQLTrackerStore", dialect="sqlite",
                            db=str(db))
    store = create_tracker_store(config, domain)
    tracker = DialogueStateTracker.from_events("citizen", [
        ActionExecuted("action_listen"), UserUttered("你好", {"name": "greet"})])
    asyncio.run(store.save(tracker))
    assert sqlite3.connect(db).execute("PRAGMA journal_mode").fetchone()[0] == "wal"
    again = asyncio.run(create_tracker_store(config, domain).retrieve("citizen"))
    assert [type(e).__name__ for e in again.events] == ["ActionExecuted", "UserUttered"]
