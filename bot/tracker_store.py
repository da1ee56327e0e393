"""Conversations are stored with personal data masked (ID-card, phone, bank-card numbers,
e-mail addresses; see common/privacy.py).

Rasa's SQL tracker store, except that every event is masked as it is written: the citizen's
words, the NLU parse, slot values and bot texts. The turn in progress still sees what was
typed (the status check needs the digits); what is kept afterwards does not. Configured in
endpoints.yml as `type: bot.tracker_store.MaskingSQLTrackerStore`.

Connections are checked before use (`pool_pre_ping`): Rasa's own engine hands out pooled
connections that died when PostgreSQL restarted, so the first turns after a restart could not
read their conversations.

SQLite (the embedded mode) runs in WAL mode with `synchronous=NORMAL`: Rasa commits every turn on
its event loop, and in SQLite's default mode each commit waited for the disk twice (journal and
database), with every other conversation held up meanwhile; that was the largest single cost of a
turn after Rasa's action-result validation (README "Start-up, latency, memory"). In WAL mode a
commit appends to the log and the disk is synced at checkpoints: a crash of the process or of
Rasa loses nothing and never corrupts the file; a power cut or kernel crash can lose the last
turns before the checkpoint (use PostgreSQL, production mode, where that matters). Readers
(staff analytics) no longer block the writer either.

Writing a turn's events runs on a worker thread (Rasa runs it on its event loop): the commit waits
for the database to make the turn durable (PostgreSQL flushes its log), and meanwhile the other
conversations go on. The turn itself still waits for its own write, under its conversation lock.
Reading a conversation back (every turn) fetches only the events' JSON, on a worker thread too:
Rasa built a full ORM object per stored event just to read that column, which was most of the
time it took to load a 20-turn conversation. Saving the turn then counted the stored events again
to find the new ones; a tracker this store has just read already knows (the conversation's lock
keeps anyone else from writing to it meanwhile), so only trackers from elsewhere are counted.
"""

from __future__ import annotations

import asyncio
import itertools
import json
import logging
import weakref
from typing import Any, Iterator

import sqlalchemy as sa
from rasa.core.tracker_store import SQLTrackerStore, create_engine_kwargs
from rasa.shared.core.events import Event
from rasa.shared.core.trackers import DialogueStateTracker
from rasa.shared.nlu.constants import INTENT_NAME_KEY
from sqlalchemy.orm import sessionmaker

from common.privacy import masked

logger = logging.getLogger(__name__)


def masked_event(event: Event) -> Event:
    data = event.as_dict()
    cleaned = masked(data)
    if cleaned == data:
        return event
    return Event.from_parameters(cleaned) or event


def _sqlite_wal(connection: Any, _record: Any) -> None:
    cursor = connection.cursor()
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA synchronous=NORMAL")
    cursor.close()


class MaskingSQLTrackerStore(SQLTrackerStore):
    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        url = self.engine.url
        self.engine.dispose()
        options = create_engine_kwargs(url)
        if url.get_backend_name() == "sqlite":
            # Kept open (SQLAlchemy 1.4 opens and closes a SQLite file per session, and with
            # WAL each close of the last connection syncs the disk); shared by the writer
            # threads one at a time.
            options.update(poolclass=sa.pool.QueuePool,
                           connect_args={"check_same_thread": False})
        sqlite = url.get_backend_name() == "sqlite"  # a file: no connection to go stale
        self.engine = sa.create_engine(url, pool_pre_ping=not sqlite, **options)
        if sqlite:
            sa.event.listen(self.engine, "connect", _sqlite_wal)
        self.sessionmaker = sessionmaker(bind=self.engine)
        # Tracker (by identity) -> how many of its events are stored, known since it was read.
        self._stored: dict[int, tuple[weakref.ref, int]] = {}

    def _remember_stored(self, tracker: DialogueStateTracker, count: int) -> None:
        key = id(tracker)
        self._stored[key] = (weakref.ref(tracker, lambda _: self._stored.pop(key, None)), count)

    def _stored_count(self, tracker: DialogueStateTracker) -> int | None:
        known = self._stored.get(id(tracker))
        return known[1] if known and known[0]() is tracker else None

    def _additional_events(self, session: Any, tracker: DialogueStateTracker) -> Iterator[Event]:
        """The events not stored yet. A tracker read by this store in this turn (under the
        conversation's lock) knows how many are stored; Rasa counts them in the database."""
        stored = self._stored_count(tracker)
        new = (super()._additional_events(session, tracker) if stored is None
               else itertools.islice(tracker.events, stored, len(tracker.events)))
        for event in new:
            yield masked_event(event)

    async def _retrieve(self, sender_id: str,
                        fetch_events_from_all_sessions: bool) -> DialogueStateTracker | None:
        """Rasa's `SQLTrackerStore._retrieve`: the same query, only the data column."""
        rows = await asyncio.to_thread(self._event_data, sender_id,
                                       fetch_events_from_all_sessions)
        events = [json.loads(data) for data in rows]
        if self.domain and events:
            tracker = DialogueStateTracker.from_dict(sender_id, events, self.domain.slots)
            if not fetch_events_from_all_sessions and len(tracker.events) == len(events):
                self._remember_stored(tracker, len(events))
            return tracker
        return None

    def _event_data(self, sender_id: str, fetch_events_from_all_sessions: bool) -> list[str]:
        with self.session_scope() as session:
            query = self._event_query(session, sender_id,
                                      fetch_events_from_all_sessions=fetch_events_from_all_sessions)
            return [data for (data,) in query.with_entities(self.SQLEvent.data).all()]

    async def save(self, tracker: DialogueStateTracker) -> None:
        """Rasa's `SQLTrackerStore.save`, with the database work off the event loop."""
        await self.stream_events(tracker)
        await asyncio.to_thread(self._write_new_events, tracker)

    def _write_new_events(self, tracker: DialogueStateTracker) -> None:
        with self.session_scope() as session:
            for event in self._additional_events(session, tracker):
                data = event.as_dict()
                session.add(self.SQLEvent(
                    sender_id=tracker.sender_id,
                    type_name=event.type_name,
                    timestamp=data.get("timestamp"),
                    intent_name=data.get("parse_data", {}).get("intent", {}).get(INTENT_NAME_KEY),
                    action_name=data.get("name"),
                    data=json.dumps(data),
                ))
            session.commit()
        if self._stored_count(tracker) is not None:
            self._remember_stored(tracker, len(tracker.events))
        logger.debug("Tracker with sender_id '%s' stored to database", tracker.sender_id)
