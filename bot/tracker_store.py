"""Conversations are stored with personal data masked (ID-card, phone, bank-card numbers,
e-mail addresses; see bot/privacy.py).

Rasa's SQL tracker store, except that every event is masked as it is written: the citizen's
words, the NLU parse, slot values and bot texts. The turn in progress still sees what was
typed (the status check needs the digits); what is kept afterwards does not. Configured in
endpoints.yml as `type: bot.tracker_store.MaskingSQLTrackerStore`.
"""

from __future__ import annotations

from typing import Any, Iterator

from rasa.core.tracker_store import SQLTrackerStore
from rasa.shared.core.events import Event
from rasa.shared.core.trackers import DialogueStateTracker

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
    def _additional_events(self, session: Any, tracker: DialogueStateTracker) -> Iterator[Event]:
        for event in super()._additional_events(session, tracker):
            yield masked_event(event)
