"""When the application database fails in the middle of a form.

Rasa treats a failed form-validation action as silent: the citizen would hear nothing and the
form would wait for an answer to a question it never asked again (`bot.resilience` apologises
for every other failed action, but leaves validation to the action itself). A form whose
validation reads the database therefore catches the failure here: the citizen gets the same
bilingual apology, whatever this turn offered for the form's slots is emptied (so an
unchecked value is never taken as checked), and the form asks its question again. Nothing
counts against the citizen: a verification attempt is written in the same transaction as the
check, so one that failed was never recorded, and the lockout is checked again inside it.
"""

from __future__ import annotations

import logging
from abc import ABC, abstractmethod
from typing import Any

from rasa_sdk import FormValidationAction, Tracker
from rasa_sdk.events import EventType, SlotSet
from rasa_sdk.executor import CollectingDispatcher
from rasa_sdk.types import DomainDict
from sqlalchemy.exc import SQLAlchemyError

from common.logs import sender_hash

logger = logging.getLogger(__name__)
APOLOGY = "utter_service_unavailable"


class OutageTolerantFormValidation(FormValidationAction, ABC):
    """A form validation that apologises and asks again when the database is unreachable
    (abstract until a subclass names it, so rasa_sdk does not register the base itself)."""

    @abstractmethod
    def name(self) -> str: ...

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> list[EventType]:
        try:
            return await super().run(dispatcher, tracker, domain)
        except SQLAlchemyError:
            logger.exception("the database failed while %s ran; the citizen gets an apology",
                             self.name(), extra={"sender": sender_hash(tracker.sender_id)})
            dispatcher.messages.clear()  # half a validation's replies would mislead
            dispatcher.utter_message(response=APOLOGY)
            return unvalidated_slots_emptied(self.domain_slots(domain), tracker)


def unvalidated_slots_emptied(form_slots: list[str], tracker: Tracker) -> list[EventType]:
    """SlotSet(None) for every slot of the form that this turn filled but nobody checked."""
    offered: dict[str, Any] = tracker.slots_to_validate()
    return [SlotSet(slot, None) for slot in form_slots if slot in offered]
