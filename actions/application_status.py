"""The application-status form: collects a valid application number.

The look-up itself (with identity verification) is not connected yet; the domain's
`utter_status_unavailable` says so honestly instead of inventing a status.
"""

from __future__ import annotations

from typing import Any, Dict, List

from rasa_sdk import Action, FormValidationAction, Tracker
from rasa_sdk.events import EventType, SlotSet
from rasa_sdk.executor import CollectingDispatcher
from rasa_sdk.types import DomainDict

from actions.application_numbers import looks_like_a_number_attempt, parse_application_number


class ValidateApplicationStatusForm(FormValidationAction):
    def name(self) -> str:
        return "validate_application_status_form"

    async def extract_application_number(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> dict[str, Any]:
        """While the number is asked for, take any message that tries to give one.

        Everything else ("what documents do I need?", "算了") is left to the intents, so the
        citizen can digress or cancel.
        """
        if tracker.get_slot("requested_slot") != "application_number":
            return {}
        text = tracker.latest_message.get("text") or ""
        return {"application_number": text} if looks_like_a_number_attempt(text) else {}

    def validate_application_number(
        self, value: Any, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> Dict[str, Any]:
        number = parse_application_number(str(value or ""))
        if number is None:
            dispatcher.utter_message(response="utter_invalid_application_number")
        return {"application_number": number}


class ActionResetApplicationStatus(Action):
    """Forget the number once it has been handled, so the next check asks again."""

    def name(self) -> str:
        return "action_reset_application_status"

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> List[EventType]:
        return [SlotSet("application_number", None)]
