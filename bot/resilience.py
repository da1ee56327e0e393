"""When the action server cannot be reached, the citizen gets a polite apology, not silence.

Rasa logs a failed custom action and carries on without its events, so the citizen would see
nothing at all. `install()` wraps Rasa's remote actions: a connection or server failure of an
action that answers the citizen becomes `utter_service_unavailable` (in the conversation's
language). Slot validation and form validation actions stay silent as before: the responses
the dialogue chooses next still go out, and one apology per turn is enough.
"""

from __future__ import annotations

import functools
import logging
from typing import Any

from rasa.core.actions.action import ActionExecutionRejection, RemoteAction
from rasa.shared.core.events import BotUttered, SlotSet
from rasa.shared.exceptions import RasaException

from bot.text import detect_language

logger = logging.getLogger(__name__)
APOLOGY = "utter_service_unavailable"
_SILENT_PREFIXES = ("validate_", "action_validate_slot_mappings")


def _in_their_language(tracker: Any, domain: Any) -> Any:
    """The language slot is normally set by the action server, which is down: detect it here."""
    detected = detect_language(tracker.latest_message.text or "").language
    if detected is None or detected == tracker.get_slot("language"):
        return tracker
    copy = tracker.copy()
    copy.update(SlotSet("language", detected), domain)
    return copy


def install() -> None:
    if getattr(RemoteAction.run, "_apologises", False):
        return
    original = RemoteAction.run

    @functools.wraps(original)
    async def run(self: RemoteAction, output_channel: Any, nlg: Any, tracker: Any,
                  domain: Any) -> list:
        try:
            return await original(self, output_channel, nlg, tracker, domain)
        except ActionExecutionRejection:
            raise
        except RasaException:
            if self.name().startswith(_SILENT_PREFIXES):
                raise
            logger.error("action %s failed; the citizen gets an apology", self.name())
            message = await nlg.generate(APOLOGY, _in_their_language(tracker, domain),
                                         output_channel.name())
            return [BotUttered(message.get("text"), data=message)] if message else []

    run._apologises = True  # type: ignore[attr-defined]
    RemoteAction.run = run
