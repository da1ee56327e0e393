"""The status check: a reference (application or ticket), then proof of identity, then status.

Nothing about the reference is said before the digits match; an unknown reference and a wrong
secret get the same reply. A reference typed again where the digits are asked for (said twice,
or another one) is taken as the reference, not counted as a failed check. Too many failures
lock the conversation; a reference that keeps failing from many conversations is slowed, not
locked (`storage.lookups`). Either way the citizen is told how long to wait, with directions
to a counter.
"""

from __future__ import annotations

import logging
import math
import re
from typing import Any

from rasa_sdk import Action, Tracker
from rasa_sdk.events import EventType
from rasa_sdk.executor import CollectingDispatcher
from rasa_sdk.types import DomainDict
from sqlalchemy.exc import SQLAlchemyError

from actions.blocking import off_loop
from actions.formatting import status_details
from actions.outages import APOLOGY, OutageTolerantFormValidation
from actions.references import (
    looks_like_a_number_attempt,
    parse_reference,
    parse_verification_digits,
)
from actions.slots import ClearSlotsAction, cleared
from bot.text import normalize
from storage.config import CaseworkSettings
from storage.lookups import LOCKED, VERIFIED, is_locked, look_up, status_view, wait_seconds
from storage.proofs import issue_proof, proven_reference

logger = logging.getLogger(__name__)
REFERENCE, CODE = "reference_number", "verification_code"
OUTCOME, VERIFIED_REFERENCE = "lookup_outcome", "verified_reference"
STATUS_SLOTS = (REFERENCE, CODE, OUTCOME, VERIFIED_REFERENCE)
MASKED = "****"


# A short question about how the case goes on ("大概还要多久", "为什么还没办好", "how much
# longer?", "what happens next?"), on `bot.text.normalize`d text.
_PROGRESS = re.compile(
    r"多久|多长时间|什么时候|几天|还要|还没|还不|办好|办完|批下来|下来|进度|下一步|怎么这么慢|太慢|催"
    r"|how long|longer|\bwhen\b|\bnext\b|\bdone\b|\bready\b|still|so slow|hurry|speed up")
PROGRESS_MAX_CHARS = 30
# The report, or a follow-up that said it again (the next question may follow up on that).
_REPORTS = frozenset({"utter_status_application", "utter_status_ticket", "utter_status_followup",
                      "utter_status_followup_undated"})
_REPORTED = ("reference", "status_title", "expected", "department", "contact")


def asks_about_progress(text: str) -> bool:
    text = normalize(text or "").strip()
    return 0 < len(text) <= PROGRESS_MAX_CHARS and bool(_PROGRESS.search(text))


def status_just_reported(events: list[dict[str, Any]], window: float) -> dict[str, str] | None:
    """What the status report right before the newest user message said (its reference,
    status, expected date, department and contact), if it was shown within `window` seconds
    of that message; else None. Only what this conversation was already shown, after its
    verification: nothing is looked up again."""
    users = [i for i, e in enumerate(events) if e.get("event") == "user"]
    if len(users) < 2:
        return None
    asked_at = float(events[users[-1]].get("timestamp") or 0)
    for event in reversed(events[users[-2] + 1:users[-1]]):
        metadata = event.get("metadata") or {}
        if event.get("event") == "bot" and metadata.get("utter_action") in _REPORTS:
            if asked_at - float(event.get("timestamp") or 0) > window:
                return None
            if not all(metadata.get(key) for key in _REPORTED):
                return None
            return {key: str(metadata[key]) for key in _REPORTED}
    return None


def _language(tracker: Tracker) -> str:
    return tracker.get_slot("language") or "zh"


def _requested(tracker: Tracker, slot: str) -> str | None:
    """The message text, if the form is asking for `slot` and the text tries to give it."""
    if tracker.get_slot("requested_slot") != slot:
        return None
    text = tracker.latest_message.get("text") or ""
    return text if looks_like_a_number_attempt(text) else None


class ValidateStatusCheckForm(OutageTolerantFormValidation):
    def name(self) -> str:
        return "validate_status_check_form"

    async def extract_reference_number(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> dict[str, Any]:
        """Anything that tries to be a number while one is asked for; other messages
        ("what documents do I need?", "算了") are left to the intents."""
        text = _requested(tracker, REFERENCE)
        return {REFERENCE: text} if text else {}

    async def extract_verification_code(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> dict[str, Any]:
        text = _requested(tracker, CODE)
        return {CODE: text} if text else {}

    async def validate_reference_number(
        self, value: Any, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> dict[str, Any]:
        reference = parse_reference(str(value or ""))
        if reference is None:
            dispatcher.utter_message(response="utter_invalid_reference")
            return {REFERENCE: None}
        return await _taken(reference, tracker)

    async def validate_verification_code(
        self, value: Any, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> dict[str, Any]:
        if tracker.get_slot(OUTCOME) == LOCKED:
            return {CODE: MASKED}
        retyped = parse_reference(str(value or ""))
        if retyped:  # a number again, not the digits: no failure
            return {CODE: None, **await _taken(retyped, tracker)}
        digits = parse_verification_digits(str(value or ""))
        if digits is None:
            dispatcher.utter_message(response="utter_invalid_verification_code")
            return {CODE: None}
        reference = tracker.get_slot(REFERENCE)
        result = await off_loop(
            look_up, reference, digits, tracker.sender_id,
            tracker.get_latest_input_channel() or "unknown",
        )
        if result.outcome == VERIFIED:
            return {CODE: MASKED, OUTCOME: VERIFIED,
                    VERIFIED_REFERENCE: issue_proof(tracker.sender_id, reference)}
        if result.outcome == LOCKED:
            return {CODE: MASKED, OUTCOME: LOCKED}
        dispatcher.utter_message(response="utter_verification_failed",
                                 attempts_left=str(result.failures_left))
        # The reference is kept: most often the digits were mistyped ("哦不对，是5521"), and a
        # corrected reference typed here is taken as one (above).
        return {CODE: None}


async def _taken(reference: str, tracker: Tracker) -> dict[str, Any]:
    """The slots for a parsed reference: taken, or locked for this conversation."""
    if await off_loop(is_locked, tracker.sender_id, reference):
        return {REFERENCE: reference, CODE: MASKED, OUTCOME: LOCKED}
    return {REFERENCE: reference}


async def _minutes_to_wait(tracker: Tracker) -> int:
    """How long this conversation must wait before trying its reference again, in minutes."""
    try:
        seconds = await off_loop(wait_seconds, tracker.sender_id, tracker.get_slot(REFERENCE))
    except SQLAlchemyError:
        logger.exception("the look-up wait could not be read")
        return CaseworkSettings().lockout_minutes
    return max(math.ceil(seconds / 60), 1)


class ActionReportStatus(Action):
    """After the form: the verified status, or the lockout notice. Then forget it all.

    The status is shown only for a proof the form's check issued to this conversation
    (storage/proofs.py): slots saying "verified" with a reference prove nothing."""

    def name(self) -> str:
        return "action_report_status"

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> list[EventType]:
        language = _language(tracker)
        claimed = tracker.get_slot(OUTCOME) == VERIFIED
        reference = proven_reference(tracker.get_slot(VERIFIED_REFERENCE), tracker.sender_id)
        if claimed and reference is None:
            logger.warning("status report refused: no valid verification proof")
            dispatcher.utter_message(response="utter_lookup_not_verified")
            return cleared(STATUS_SLOTS)
        view = None
        if claimed and reference:
            try:
                view = await off_loop(status_view, reference, language)
            except SQLAlchemyError:  # verified, then the database went: ask to try again
                logger.exception("the status of a verified reference could not be read")
                dispatcher.utter_message(response=APOLOGY)
                return cleared(STATUS_SLOTS)
        if view is None:
            dispatcher.utter_message(response="utter_lookup_locked",
                                     minutes=str(await _minutes_to_wait(tracker)))
        else:
            response = "utter_status_application" if view.kind == "application" \
                else "utter_status_ticket"
            dispatcher.utter_message(response=response, **status_details(view, language))
        return cleared(STATUS_SLOTS)


class ActionResetStatusCheck(ClearSlotsAction):
    """Cancel or restart: nothing typed so far is kept."""

    action_name = "action_reset_status_check"
    slots = STATUS_SLOTS
