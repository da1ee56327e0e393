"""Taking a complaint, report or request and passing it to the responsible department.

The request text is routed by `routing.classifier`; when it is not confident enough the citizen
picks from the two or three most likely departments. A ticket is created only with the last
four digits of the citizen's phone, which they need later to see its progress.
"""

from __future__ import annotations

import asyncio
import logging
import re
import threading
from typing import Any

from rasa_sdk import Action, Tracker
from rasa_sdk.events import EventType
from rasa_sdk.executor import CollectingDispatcher
from rasa_sdk.types import DomainDict

from actions.formatting import format_date
from actions.outages import OutageTolerantFormValidation
from actions.references import parse_verification_digits
from actions.slots import ClearSlotsAction, cleared
from bot.privacy import mask_personal_data
from bot.text import normalize
from routing.classifier import default_router
from storage.departments import department_names, get_department
from storage.tickets import create_ticket

logger = logging.getLogger(__name__)
# Train while the server starts, not on the first citizen's time (and without delaying start-up).
threading.Thread(target=default_router, name="routing-warm-up", daemon=True).start()

TEXT, DEPARTMENT, DIGITS = "request_text", "request_department", "contact_digits"
CONFIDENCE, CANDIDATES = "routing_confidence", "routing_candidates"
TICKET_SLOTS = (TEXT, DEPARTMENT, DIGITS, CONFIDENCE, CANDIDATES)
MAX_REQUEST_CHARS = 2000
# Words that say "I have a request" without saying what it is about.
_FILLER = re.compile(
    r"我要|我想|想要|帮我|请|麻烦|一下|一个|投诉|举报|反映|反应|建议|诉求|问题|事情|转给|部门|有关|相关"
    r"|\b(?:i|i'd|i'm|want|would|like|to|make|file|lodge|a|an|the|complaint|complain|report"
    r"|request|problem|issue|something|about|please|pls|need|have|help|me|with|department)\b"
    r"|[\s\W_]+",
    re.IGNORECASE,
)


def is_specific(text: str) -> bool:
    """Does the text say what the request is about (not just "我要投诉")?"""
    rest = _FILLER.sub("", normalize(text))
    han = sum("\u4e00" <= char <= "\u9fff" for char in rest)
    return han >= 4 or len(rest) - han >= 12


def match_department(text: str) -> str | None:
    """The department a citizen names ("交给城管吧", "the tax office"): full names in either
    language, or the catalogue's short names; the longest match wins."""
    folded = normalize(text)
    best: tuple[int, str] | None = None
    for department_id, names in department_names().items():
        for name in names:
            key = normalize(name)
            if key and key in folded and (best is None or len(key) > best[0]):
                best = (len(key), department_id)
    return best[1] if best else None


class ValidateTicketForm(OutageTolerantFormValidation):
    def name(self) -> str:
        return "validate_ticket_form"

    async def extract_request_text(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> dict[str, Any]:
        """The message that started the form, if it already says what is wrong; else the
        answer to "please describe it"."""
        text = (tracker.latest_message.get("text") or "").strip()
        requested = tracker.get_slot("requested_slot")
        opening = requested is None and not tracker.get_slot(TEXT) and \
            (tracker.latest_message.get("intent") or {}).get("name") == "make_request"
        if requested == TEXT or (opening and is_specific(text)):
            return {TEXT: text} if text and not text.startswith("/") else {}
        return {}

    async def extract_request_department(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> dict[str, Any]:
        if tracker.get_slot("requested_slot") != DEPARTMENT:
            return {}
        text = tracker.latest_message.get("text") or ""
        department = match_department(text)
        return {DEPARTMENT: department} if department else {}

    async def extract_contact_digits(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> dict[str, Any]:
        if tracker.get_slot("requested_slot") != DIGITS:
            return {}
        text = tracker.latest_message.get("text") or ""
        return {DIGITS: text} if any(char.isdigit() for char in text) else {}

    async def validate_request_text(
        self, value: Any, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> dict[str, Any]:
        text = str(value or "").strip()[:MAX_REQUEST_CHARS]
        if not is_specific(text):
            dispatcher.utter_message(response="utter_request_too_vague")
            return {TEXT: None}
        decision = await asyncio.to_thread(default_router().decide, text, 3)
        candidates, best = decision.candidates, decision.candidates[0]
        logger.info("routed %r to %s (%.2f)", mask_personal_data(text)[:60], best.department,
                    best.confidence)
        if not decision.ask:
            return {TEXT: text, DEPARTMENT: best.department, CONFIDENCE: best.confidence}
        return {TEXT: text, CONFIDENCE: best.confidence,
                CANDIDATES: [candidate.department for candidate in candidates]}

    async def validate_request_department(
        self, value: Any, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> dict[str, Any]:
        language = tracker.get_slot("language") or "zh"
        if not value or await asyncio.to_thread(get_department, str(value), language) is None:
            dispatcher.utter_message(response="utter_unknown_department")
            return {DEPARTMENT: None}
        return {DEPARTMENT: str(value)}

    async def validate_contact_digits(
        self, value: Any, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> dict[str, Any]:
        digits = parse_verification_digits(str(value or ""))
        if digits is None or not digits.isdigit():
            dispatcher.utter_message(response="utter_invalid_contact_digits")
            return {DIGITS: None}
        return {DIGITS: digits}


class ActionAskRequestDepartment(Action):
    """Not sure where it belongs: offer the most likely departments as buttons."""

    def name(self) -> str:
        return "action_ask_request_department"

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> list[EventType]:
        language = tracker.get_slot("language") or "zh"
        candidates = tracker.get_slot(CANDIDATES) or []
        buttons = []
        for department_id in candidates:
            department = await asyncio.to_thread(get_department, department_id, language)
            if department:
                buttons.append({"title": department.name, "payload":
                                f'/choose_department{{"department": "{department.id}"}}'})
        dispatcher.utter_message(response="utter_choose_department", buttons=buttons)
        return []


class ActionCreateTicket(Action):
    def name(self) -> str:
        return "action_create_ticket"

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> list[EventType]:
        language = tracker.get_slot("language") or "zh"
        chosen = bool(tracker.get_slot(CANDIDATES))
        try:
            receipt = await asyncio.to_thread(
                create_ticket, tracker.get_slot(TEXT) or "", tracker.get_slot(DEPARTMENT),
                language, tracker.get_latest_input_channel() or "unknown",
                float(tracker.get_slot(CONFIDENCE) or 0.0),
                "citizen" if chosen else "classifier", tracker.get_slot(DIGITS) or "",
            )
        except Exception:
            logger.exception("ticket could not be created")
            dispatcher.utter_message(response="utter_ticket_error")
            return cleared(TICKET_SLOTS)
        department = receipt.department
        dispatcher.utter_message(
            response="utter_ticket_created", reference=receipt.reference,
            department=department.name, response_days=str(department.response_days),
            response_due=format_date(receipt.response_due, language),
            contact=department.contact(), hotline=department.hotline,
        )
        return cleared(TICKET_SLOTS)


class ActionResetTicket(ClearSlotsAction):
    action_name = "action_reset_ticket"
    slots = TICKET_SLOTS
