"""Taking a complaint, report or request and passing it to the responsible department, the way
a 12345 dispatcher does.

The request is read back in one line (what, where, since when; `actions.request_summary`) and
routed by `routing.classifier`. The citizen always sees the proposed department with what it is
responsible for and confirms it or picks another before anything is filed; when the router is
not confident enough, the two or three most likely departments are offered instead. A choice
other than the proposal is kept on the ticket (`routed_by="citizen"`) and in the audit log. A
ticket is created only with the last four digits of the citizen's phone, which they need later
to see its progress.
"""

from __future__ import annotations

import hashlib
import logging
import re
from collections import Counter
from functools import lru_cache
from typing import Any

from rasa_sdk import Action, Tracker
from rasa_sdk.events import EventType, SlotSet
from rasa_sdk.executor import CollectingDispatcher
from rasa_sdk.types import DomainDict

from actions.blocking import off_loop
from actions.choices import cancels, chosen_number, picked_option
from actions.formatting import format_date
from actions.knowledge import answer_beside_request
from actions.outages import OutageTolerantFormValidation
from actions.references import parse_verification_digits
from actions.request_summary import as_sentence, restate
from actions.slots import ClearSlotsAction, cleared
from actions.urgency import is_urgent
from bot.message_kind import (
    classify,
    english_words,
    han_count,
    question_part,
    request_cue_count,
)
from bot.text import normalize
from channels.limits import SenderRateLimit
from common.privacy import mask_personal_data
from knowledge_base.lexical import bigrams
from routing.classifier import default_router
from storage.config import CaseworkSettings
from storage.departments import DepartmentView, department_names, get_department, list_departments
from storage.tickets import create_ticket, filed_for_request

logger = logging.getLogger(__name__)

TEXT, DEPARTMENT, DIGITS = "request_text", "request_department", "contact_digits"
CONFIDENCE, CANDIDATES = "routing_confidence", "routing_candidates"
PROPOSED = "proposed_department"
TICKET_SLOTS = (TEXT, DEPARTMENT, DIGITS, CONFIDENCE, CANDIDATES, PROPOSED)
CHOOSE_PAYLOAD = "/choose_department"
ASK_AGAIN = "/ask_department_again"  # "yes" to a list of likely departments: it names none
NOT_AN_OPTION = "/not_an_option"  # a number the list does not have: said so, asked again
# The matter told again, or more of it, where a department is asked for: the request grows by
# what is new and is routed again.
TOLD_MORE = "/told_more"
# Shown per department: the catalogue's responsibility items that best match the request.
RESPONSIBILITY_ITEMS = 2
MAX_REQUEST_CHARS = 2000
# Words that say "I have a request" without saying what it is about, or where.
_FILLER = re.compile(
    r"我要|我想|想要|帮我|请|麻烦|一下|一个|投诉|举报|反映|反应|建议|诉求|问题|事情|转给|部门|有关|相关"
    r"|我们|我家|这里|那里|这边|那边|附近|有个|有人|出了|出现|情况|希望|尽快|管一管|管管|处理|解决|帮忙"
    r"|谢谢|你们|政府|领导|一些|什么|东西|有|太|了|的|吧|啊|呢"
    r"|[\s\W_\d]+",
    re.IGNORECASE,
)
_FILLER_WORDS = frozenset("""
    i i'd i'm i've we we're us our my me you your it it's this that there there's here is are
    was were be been am has have had do does did done can could should would will want wanted
    like to make file lodge a an the of in on at for with from about and or but so just really
    very some any complaint complain complaining report reporting request problem problems
    issue issues something anything everything thing things someone somebody anyone anybody
    nobody please pls need needs help department go going get got look looking into sort out
    fix fixed deal dealt wrong bad terrible happening happened neighbourhood neighborhood area
    place around near nearby again still hi hello thanks thank dear sir madam
""".split())


def is_specific(text: str) -> bool:
    """Does the text say what the request is about (not just "我要投诉", "there's a problem
    in my neighbourhood, someone should do something")? Three Han characters ("路灯坏"), a
    named problem ("停水", "异味"), or two English words, that are not request boilerplate."""
    folded = normalize(text)
    rest = _FILLER.sub("", folded)
    words = [word for word in english_words(folded) if word not in _FILLER_WORDS]
    return han_count(rest) >= 3 or len(words) >= 2 or request_cue_count(rest) > 0


def relevant_responsibilities(department: DepartmentView, text: str,
                              items: int = RESPONSIBILITY_ITEMS) -> str:
    """The department's responsibility items that share most words with the request (the
    first items when none does), so the citizen sees why it is this department; an item that
    shares nothing is not shown beside one that does (gas cut off: not 物业管理纠纷)."""
    separator = "；" if "；" in department.responsibilities else "; "
    parts = [part.strip() for part in department.responsibilities.split(separator)
             if part.strip()]
    folded = normalize(text)
    bigrams = _han_pairs(folded)
    # English by words, as stems ("deposit" finds "deposits", "noisy" finds "noise"); letter
    # pairs ("an", "er") are in every item, and the longest item won on them alone.
    words = {word[:5] if len(word) > 5 else word[:4]
             for word in re.findall(r"[a-z]{3,}", folded) if word not in _FILLER_WORDS}

    keys = [normalize(part) for part in parts]
    # A shared pair that many items hold ("小区") says less about which item is meant than one
    # only this item holds ("停水"): each counts 1 / the number of items holding it.
    held = Counter(pair for key in keys for pair in _han_pairs(key)
                   | {word for word in words if word in key})

    def overlap(key: str) -> float:
        shared = _han_pairs(key) & bigrams
        shared |= {word for word in words if word in key}
        return sum(1 / held[pair] for pair in shared)

    scores = [overlap(key) for key in keys]
    ranked = sorted(range(len(parts)), key=lambda i: (-scores[i], i))[:items]
    if ranked and scores[ranked[0]] > 0:
        ranked = [i for i in ranked if scores[i] > 0]
    return separator.join(parts[i] for i in sorted(ranked))


def _han_pairs(text: str) -> set[str]:
    """Every two adjacent Han characters of `text` ("停水两天" → 停水, 水两, 两天; the lone
    characters `lexical.bigrams` also keeps are left out)."""
    return {gram for gram in bigrams(text) if len(gram) == 2}


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


async def proposes_one(tracker: Tracker) -> bool:
    """Whether the routing was confident enough to propose one department, rather than list
    the likely ones (the router's calibrated threshold)."""
    threshold = await off_loop(lambda: default_router().threshold)
    return float(tracker.get_slot(CONFIDENCE) or 0.0) >= threshold


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
        intent = (tracker.latest_message.get("intent") or {}).get("name")
        opening = requested is None and not tracker.get_slot(TEXT) and \
            (intent == "make_request" or classify(text).is_request)
        if requested == TEXT or (opening and is_specific(text)):
            return {TEXT: text} if text and not text.startswith("/") else {}
        return {}

    async def extract_request_department(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> dict[str, Any]:
        """A department named or tapped, or picked by its number in the list ("3", "第三个");
        "yes" to a single confident proposal (to a list of likely ones it names none: the
        list is asked again); "another department" (the bare choose button), or "no" to what
        was offered, opens the whole catalogue ("算了" / "cancel" still cancels, by the rule)."""
        if tracker.get_slot("requested_slot") != DEPARTMENT:
            return {}
        text = (tracker.latest_message.get("text") or "").strip()
        intent = (tracker.latest_message.get("intent") or {}).get("name")
        if text == CHOOSE_PAYLOAD or _OTHER_DEPARTMENT.match(normalize(text)):
            # the button, or its title typed ("其他部门"): "offer the whole catalogue"
            return {DEPARTMENT: CHOOSE_PAYLOAD}
        if cancels(text):
            # "取消吧，我还是自己去劳动局" names a department only to say where the citizen goes
            # instead: nothing is extracted, so the cancel rule takes the turn
            return {}
        candidates = tracker.get_slot(CANDIDATES) or []
        department = None if text.startswith("/") else await off_loop(match_department, text)
        if department:
            return {DEPARTMENT: department}
        picked = picked_option(text, len(candidates))
        if picked is not None:
            return {DEPARTMENT: candidates[picked]}
        number = chosen_number(text) if candidates else None
        if number == len(candidates) + 1:
            return {DEPARTMENT: CHOOSE_PAYLOAD}  # the button after them: "another department"
        if number is not None:  # "5678" to a list of three
            return {DEPARTMENT: NOT_AN_OPTION}
        if intent == "affirm" and candidates:
            return {DEPARTMENT: candidates[0] if await proposes_one(tracker) else ASK_AGAIN}
        if intent == "deny" and candidates and not cancels(text):
            return {DEPARTMENT: CHOOSE_PAYLOAD}  # "no" to the offer: the whole catalogue
        if text and not text.startswith("/") and (intent == "make_request"
                                                  or classify(text).is_request):
            return {DEPARTMENT: TOLD_MORE}
        return {}

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
        decision = await off_loop(lambda: default_router().decide(text, 3))
        candidates, best = decision.candidates, decision.candidates[0]
        logger.info("routed %r to %s (%.2f)", mask_personal_data(text)[:60], best.department,
                    best.confidence)
        # Nothing is filed yet: the citizen confirms the proposal or picks another first;
        # below the router's calibrated threshold, all its likely departments are offered.
        offered = candidates if decision.ask else candidates[:2]
        return {TEXT: text, CONFIDENCE: best.confidence, PROPOSED: best.department,
                CANDIDATES: [candidate.department for candidate in offered]}

    async def validate_request_department(
        self, value: Any, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> dict[str, Any]:
        language = tracker.get_slot("language") or "zh"
        if value == CHOOSE_PAYLOAD:
            # Only a form's own slots may be extracted; the choice of the catalogue is kept by
            # emptying the candidates here, and the department is asked for again.
            return {DEPARTMENT: None, CANDIDATES: []}
        if value == ASK_AGAIN:  # the list is asked again; its text says how to pick
            return {DEPARTMENT: None}
        if value == TOLD_MORE:
            told = with_more_told(tracker.get_slot(TEXT) or "",
                                  (tracker.latest_message.get("text") or "").strip(), language)
            if told == tracker.get_slot(TEXT):  # said again (its answer lost): ask again
                return {DEPARTMENT: None}
            return {DEPARTMENT: None,
                    **await self.validate_request_text(told, dispatcher, tracker, domain)}
        if value == NOT_AN_OPTION:
            count = len(tracker.get_slot(CANDIDATES) or [])
            dispatcher.utter_message(response="utter_not_an_option", count=count)
            return {DEPARTMENT: None}
        if not value or await off_loop(get_department, str(value), language) is None:
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


def with_more_told(request: str, said: str, language: str) -> str:
    """The request with what the citizen said after it, unless it says nothing new (the same
    message again, or a part of it): one text, its sentences ended, as routing reads it."""
    if not said or said in request:
        return request
    if not request or said.startswith(request):
        return said  # the whole message again, with more at its end
    return as_sentence(request, language) + ("" if language == "zh" else " ") + said


# The "another department" button's title, typed or said instead of tapped.
_OTHER_DEPARTMENT = re.compile(
    r"^\s*(?:选|要|换成?|换个|换一个)?(?:其他|其它|别的|另外的?|另一个)部门\s*[吧吗。.!！]?\s*$"
    r"|^\s*(?:an?other|a different|some other) department\s*(?:please)?[.!]?\s*$")


class ActionAskRequestDepartment(Action):
    """Read the request back and propose where it goes, before anything is filed.

    Confident: the proposed department with its responsibility line, a "yes" button, the
    runner-up and "another department". Not confident: the two or three likely departments,
    each with its responsibility line. After "another department": the whole catalogue. On
    channels without buttons their titles are listed as replies to type (channels/rendering.py).
    """

    def name(self) -> str:
        return "action_ask_request_department"

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> list[EventType]:
        language = tracker.get_slot("language") or "zh"
        text = tracker.get_slot(TEXT) or ""
        candidates = tracker.get_slot(CANDIDATES) or []
        summary = as_sentence(restate(text).line(language), language)
        if is_urgent(text) and self._first_read_back(tracker, text):
            dispatcher.utter_message(response="utter_request_urgent")
        if not candidates:
            departments = await off_loop(list_departments, language)
            dispatcher.utter_message(response="utter_choose_any_department", summary=summary,
                                     buttons=[_choose(d, d.name) for d in departments])
            return []
        views = [view for department_id in candidates
                 if (view := await off_loop(get_department, department_id, language))]
        if not views:
            return [SlotSet(CANDIDATES, [])]
        other = {"title": "其他部门" if language == "zh" else "Another department",
                 "payload": CHOOSE_PAYLOAD}
        if await proposes_one(tracker):
            best = views[0]
            yes = f"对，转给{best.name}" if language == "zh" else f"Yes, the {best.name}"
            buttons = [_choose(best, yes), *(_choose(v, v.name) for v in views[1:]), other]
            dispatcher.utter_message(
                response="utter_confirm_department", summary=summary, department=best.name,
                responsibility=relevant_responsibilities(best, text), buttons=buttons)
        else:
            options = "\n".join(f"{number}. {view.name}{'：' if language == 'zh' else ': '}"
                                f"{relevant_responsibilities(view, text)}"
                                for number, view in enumerate(views, 1))
            dispatcher.utter_message(response="utter_choose_department", summary=summary,
                                     options=options,
                                     buttons=[*(_choose(v, v.name) for v in views), other])
        await self._answer_its_question(dispatcher, tracker, text, language)
        return []

    @staticmethod
    def _first_read_back(tracker: Tracker, text: str) -> bool:
        """Whether the request is being read back after the citizen told it (not when the
        department is asked again)."""
        said = (tracker.latest_message.get("text") or "").strip()
        return bool(text) and said.startswith(text)

    @classmethod
    async def _answer_its_question(cls, dispatcher: CollectingDispatcher, tracker: Tracker,
                                   text: str, language: str) -> None:
        """A request that also asks about the rules ("…请问拖欠工资政策是怎么规定的？") is
        taken as the request; the passage that surely answers its question is added, once,
        when the request is first read back (not when the department is asked again)."""
        question = question_part(text) if cls._first_read_back(tracker, text) else None
        if question:
            await answer_beside_request(dispatcher, question, language)


@lru_cache(maxsize=1)
def ticket_limit() -> SenderRateLimit:
    """Tickets per conversation (GOV_TICKETS_BURST, then GOV_TICKETS_PER_HOUR), kept by each
    action server process: one conversation cannot fill a department's queue."""
    settings = CaseworkSettings()
    return SenderRateLimit(settings.tickets_burst, settings.tickets_per_hour / 60)


def turn_key(tracker: Tracker) -> str | None:
    """The citizen's turn that files the ticket (conversation and message id, hashed): the
    same for every retry of this action call, different for the next request."""
    message_id = (tracker.latest_message or {}).get("message_id")
    if not message_id:
        return None
    return hashlib.sha256(f"{tracker.sender_id}\x00{message_id}".encode()).hexdigest()


def _choose(department: DepartmentView, title: str) -> dict[str, str]:
    return {"title": title,
            "payload": f'{CHOOSE_PAYLOAD}{{"department": "{department.id}"}}'}


class ActionCreateTicket(Action):
    def name(self) -> str:
        return "action_create_ticket"

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> list[EventType]:
        language = tracker.get_slot("language") or "zh"
        key = turn_key(tracker)
        department, proposed = tracker.get_slot(DEPARTMENT), tracker.get_slot(PROPOSED)
        try:
            # A retried call of this turn gets the ticket it filed, and is not counted again.
            receipt = await off_loop(filed_for_request, key, language) if key else None
            if receipt is None and not ticket_limit().allow(tracker.sender_id):
                logger.warning("ticket refused: too many from one conversation")
                dispatcher.utter_message(response="utter_ticket_rate_limited")
                return cleared(TICKET_SLOTS)
            receipt = receipt or await off_loop(
                create_ticket, tracker.get_slot(TEXT) or "", department,
                language, tracker.get_latest_input_channel() or "unknown",
                float(tracker.get_slot(CONFIDENCE) or 0.0),
                "classifier" if department == proposed else "citizen",
                tracker.get_slot(DIGITS) or "", proposed_department=proposed,
                request_key=key,
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
