"""Handing the conversation to a person: queue it with its masked transcript, pause the bot.

While paused, Rasa keeps recording what the citizen writes (their message for staff, outside
office hours) and the bot stays silent; staff hand the conversation back by resuming it.
"""

from __future__ import annotations

import datetime as dt
import logging

from rasa_sdk import Action, Tracker
from rasa_sdk.events import ConversationPaused, EventType, SlotSet
from rasa_sdk.executor import CollectingDispatcher
from rasa_sdk.types import DomainDict

from actions.blocking import off_loop
from actions.formatting import format_moment
from storage.handoffs import enqueue, office_hours

logger = logging.getLogger(__name__)
TRANSCRIPT_LINES = 60


def transcript(tracker: Tracker) -> list[dict[str, str]]:
    """What was said, by whom and when (masked when stored)."""
    lines = []
    for event in tracker.events:
        if event.get("event") in ("user", "bot") and event.get("text"):
            moment = dt.datetime.fromtimestamp(event.get("timestamp") or 0, dt.timezone.utc)
            lines.append({"sender": "citizen" if event["event"] == "user" else "assistant",
                          "text": event["text"], "at": moment.isoformat()})
    return lines[-TRANSCRIPT_LINES:]


class ActionHandoff(Action):
    def name(self) -> str:
        return "action_handoff"

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> list[EventType]:
        language = tracker.get_slot("language") or "zh"
        asked = (tracker.latest_message.get("intent") or {}).get("name") == "human_handoff"
        try:
            receipt = await off_loop(
                enqueue, tracker.sender_id, tracker.get_latest_input_channel() or "unknown",
                language, "requested" if asked else "repeated_failure", transcript(tracker),
            )
        except Exception:
            logger.exception("handoff could not be queued")
            dispatcher.utter_message(response="utter_handoff_error")
            return []
        if receipt.within_office_hours:
            dispatcher.utter_message(response="utter_handoff_queued",
                                     position=str(receipt.position))
        else:
            dispatcher.utter_message(response="utter_handoff_after_hours",
                                     next_opening=format_moment(receipt.next_opening, language),
                                     office_hours=office_hours().describe(language))
        return [SlotSet("failed_turns", 0), ConversationPaused()]


class ActionStaffReply(Action):
    """Deliver what a member of staff wrote, on the channel the citizen is using."""

    def name(self) -> str:
        return "action_staff_reply"

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> list[EventType]:
        text = (tracker.get_slot("staff_reply") or "").strip()
        if text:
            dispatcher.utter_message(text=text)
        return [SlotSet("staff_reply", None)]
