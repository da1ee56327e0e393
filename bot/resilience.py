"""When something the assistant depends on is down, the citizen gets a polite apology, not
silence and not a wrong answer.

- **Action server**: Rasa logs a failed custom action and carries on without its events, so the
  citizen would see nothing at all. A connection or server failure of an action that answers
  the citizen becomes `utter_service_unavailable` (in the conversation's language), and what
  the turn had changed before the failure (slots, the active form) is set back to what it was
  before the citizen's message, then the assistant listens: the citizen's "try again" is
  handled as the first try would have been. Without that, a status form that had taken the
  verification digits when the report failed was over, and the digits said again were
  answered as a policy question. (Not Rasa's `UserUtteranceReverted`: inside a form Rasa folds
  the form's earlier turns into one, and that revert undid the whole form.) Slot
  validation and form validation actions stay silent as before: the responses the dialogue
  chooses next still go out, and one apology per turn is enough. A form whose validation fails
  that way would lose the whole turn silently (Rasa drops the form's events): it apologises
  instead and stays where it was, so the citizen's next try is validated as usual.
- **Conversation store (PostgreSQL, SQLite) or lock store (Redis)**: Rasa wraps the tracker
  store in a "fail-safe" one that, when the database cannot be read, answers as if the
  conversation had just begun (the form in progress, the language, the history all forgotten)
  and keeps what is said meanwhile only in that process's memory, where no later turn reads
  it. Instead, the failure now reaches `Agent.handle_message`, and the citizen is asked to try
  again (in the language of their message, in both when it cannot be told); nothing of that
  turn is processed. When the database or Redis is back, the next message continues the
  conversation where it was. Rasa's REST channel would otherwise answer `[]`.

Each function here builds a replacement or does the apologising; bot/patches.py puts them in
place (the storage apology inside the one `Agent.handle_message` wrapper, around the turn
metrics, so that those still see the failure).
"""

from __future__ import annotations

import functools
import logging
from typing import Any, Callable

from rasa.core.actions.action import ActionExecutionRejection
from rasa.core.agent import Agent
from rasa.core.channels.channel import UserMessage
from rasa.core.tracker_store import InMemoryTrackerStore, TrackerStore
from rasa.shared.core.constants import ACTION_LISTEN_NAME
from rasa.shared.core.domain import Domain
from rasa.shared.core.events import (
    ActiveLoop,
    BotUttered,
    FollowupAction,
    SlotSet,
    UserUttered,
)
from rasa.shared.core.trackers import DialogueStateTracker
from rasa.shared.exceptions import RasaException

from bot import scripts
from bot.text import detect_language
from common.logs import sender_hash

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


def action_failures_apologised(original: Any) -> Any:
    """For `RemoteAction.run`. Actions whose names start with _SILENT_PREFIXES fail as before
    (their callers handle it)."""
    return _apologising(original, lambda action: action.name().startswith(_SILENT_PREFIXES))


def form_failures_apologised(original: Any) -> Any:
    """For `FormAction.run`: a form's failure (its validation action could not be reached)."""
    return _apologising(original, lambda action: False)


def _apologising(original: Any, stays_silent: Callable[[Any], bool]) -> Any:
    """`original` (an action's `run`), where a RasaException (the action server unreachable)
    becomes the apology, unless `stays_silent(action)`; a rejection still goes to the next
    policy."""

    @functools.wraps(original)
    async def run(self: Any, output_channel: Any, nlg: Any, tracker: Any, domain: Any) -> list:
        try:
            return await original(self, output_channel, nlg, tracker, domain)
        except ActionExecutionRejection:
            raise
        except RasaException:
            if stays_silent(self):
                raise
            return await _apology_events(self.name(), output_channel, nlg, tracker, domain)

    return run


def _apologised_this_turn(tracker: Any, domain: Any) -> bool:
    apologies = {r.get("text") for r in domain.responses.get(APOLOGY, [])}
    for event in reversed(tracker.events):
        if isinstance(event, UserUttered):
            return False
        if isinstance(event, BotUttered) and event.text in apologies:
            return True
    return False


async def _apology_events(action: str, output_channel: Any, nlg: Any, tracker: Any,
                          domain: Any) -> list:
    """The turn undone, the apology (unless the turn already has one), then listening."""
    logger.error("action %s failed; the citizen gets an apology and the turn is undone", action)
    if _apologised_this_turn(tracker, domain):
        return []
    message = await nlg.generate(APOLOGY, _in_their_language(tracker, domain),
                                 output_channel.name())
    apology = [BotUttered(message.get("text"), data=message)] if message else []
    return [*_turn_undone(tracker, domain), *apology, FollowupAction(ACTION_LISTEN_NAME)]


def _turn_undone(tracker: Any, domain: Any) -> list:
    """Events setting the active form and the slots back to what they were before the
    citizen's latest message."""
    events = list(tracker.events)
    starts = [i for i, event in enumerate(events) if isinstance(event, UserUttered)]
    if not starts:
        return []
    before = DialogueStateTracker.from_events(tracker.sender_id, events[:starts[-1]],
                                              domain.slots)
    undo: list = []
    if before.active_loop_name != tracker.active_loop_name:
        undo.append(ActiveLoop(before.active_loop_name))
    undo += [SlotSet(name, slot.value) for name, slot in before.slots.items()
             if name in tracker.slots and tracker.slots[name].value != slot.value]
    return undo


def tracker_store_without_fail_safe(store: TrackerStore | None, domain: Domain) -> TrackerStore:
    """For `Agent._create_tracker_store`: the store without Rasa's FailSafeTrackerStore around
    it, so that a failing database reaches `Agent.handle_message`."""
    if store is None:
        return InMemoryTrackerStore(domain)
    store.domain = domain
    return store


async def send_outside_the_dialogue(agent: Agent, message: UserMessage, response: str,
                                    language: str | None, script: str | None = None) -> None:
    """A domain response sent straight to the message's channel, in `language`, or in both
    when it is not known, and in `script` (`bot.scripts`): for turns the dialogue cannot
    take."""
    channel = message.output_channel
    for each in [language] if language else ["zh", "en"]:
        tracker = DialogueStateTracker(message.sender_id or "unknown", agent.domain.slots)
        tracker.update(SlotSet("language", each))
        reply = await agent.nlg.generate(response, tracker, channel.name())
        if reply and reply.get("text"):
            await channel.send_text_message(message.sender_id,
                                            scripts.in_script(reply["text"], script))


async def _send_apology(agent: Agent, message: UserMessage) -> None:
    """In the language and script of the message (the conversation cannot be read)."""
    language = detect_language(message.text or "").language
    script = scripts.conversation_script(message.sender_id or "", [UserUttered(message.text)])
    await send_outside_the_dialogue(agent, message, APOLOGY, language, script)


async def apologise_for_failed_turn(agent: Agent, message: UserMessage,
                                    error: BaseException) -> None:
    """`Agent.handle_message` failed (the conversation or lock store is down): log it and ask
    the citizen to try again."""
    fields = {"sender": sender_hash(message.sender_id or ""),
              "channel": (message.input_channel or "unknown")[:32]}
    logger.error("the message could not be handled; the citizen gets an apology",
                 exc_info=error, extra=fields)
    try:
        await _send_apology(agent, message)
    except Exception:
        logger.exception("the apology could not be sent either", extra=fields)
