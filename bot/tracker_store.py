"""Conversations are stored with personal data masked (ID-card, phone, bank-card numbers,
e-mail addresses; see bot/privacy.py).

Rasa's SQL tracker store, except that every event is masked as it is written: the citizen's
words, the NLU parse, slot values and bot texts. The turn in progress still sees what was
typed (the status check needs the digits); what is kept afterwards does not. Configured in
endpoints.yml as `type: bot.tracker_store.MaskingSQLTrackerStore`.

Connections are checked before use (`pool_pre_ping`): Rasa's own engine hands out pooled
connections that died when PostgreSQL restarted, so the first turns after a restart could not
read their conversations.
"""

from __future__ import annotations

from typing import Any, Iterator

import sqlalchemy as sa
from rasa.core.tracker_store import SQLTrackerStore, create_engine_kwargs
from rasa.shared.core.events import Event
from rasa.shared.core.trackers import DialogueStateTracker
from sqlalchemy.orm import sessionmaker

from bot.privacy import mask_personal_data


def masked(value: Any) -> Any:
    if isinstance(value, str):
        return mask_personal_data(value)
    if isinstance(value, dict):
        return {key: masked(item) for key, item in value.items()}
    if isinstance(value, list):
        return [masked(item) for item in value]
    return value


def masked_event(event: Event) -> Event:
    data = event.as_dict()
    cleaned = masked(data)
    if cleaned == data:
        return event
    return Event.from_parameters(cleaned) or event


class MaskingSQLTrackerStore(SQLTrackerStore):
    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        url = self.engine.url
        self.engine.dispose()
        self.engine = sa.create_engine(url, pool_pre_ping=True, **create_engine_kwargs(url))
        self.sessionmaker = sessionmaker(bind=self.engine)

    def _additional_events(self, session: Any, tracker: DialogueStateTracker) -> Iterator[Event]:
        for event in super()._additional_events(session, tracker):
            yield masked_event(event)
