"""Answering policy questions from the knowledge base, with citations; recording feedback.

Also the NLU fallback: a message the classifier is unsure about is tried against the
documents before the assistant admits it does not know.
"""

from __future__ import annotations

import logging
import re
import time
from typing import Any

from rasa_sdk import Action, Tracker
from rasa_sdk.events import EventType, FollowupAction, SlotSet
from rasa_sdk.executor import CollectingDispatcher
from rasa_sdk.types import DomainDict

from actions.blocking import off_loop
from actions.formatting import NO_DATE
from actions.status_check import CODE, asks_about_progress, status_just_reported
from bot.links import plain_text, safe_link
from bot.message_kind import classify
from bot.text import normalize
from common.privacy import mask_personal_data
from knowledge_base.aspects import question_aspect, trim
from knowledge_base.chunking import doc_id_of
from knowledge_base.records import record_feedback, record_unanswered
from knowledge_base.search import Hit, Searcher, contextual_query
from storage.config import CaseworkSettings

logger = logging.getLogger(__name__)
_searcher: Searcher | None = None
# Intents that keep a conversation on the knowledge-base question it was on: another question
# (or the NLU fallback that sends a message here), rating the answer, thanks, yes/no.
# Anything else in between (status look-ups, requests, handoff, greeting, help, language
# switch, ...) starts another flow, and the next question is read on its own.
STAYS_ON_TOPIC = frozenset({"ask_question", "nlu_fallback", "feedback_helpful",
                            "feedback_not_helpful", "thank", "affirm", "deny"})
# A chain of follow-ups keeps its first question (which names the topic) within this length.
MAX_CONTEXT_CHARS = 300


def searcher() -> Searcher:
    """The action server's one searcher, made on first use: it holds the model and the index,
    and reloads the index when staff publish (tests replace this function)."""
    global _searcher
    if _searcher is None:
        _searcher = Searcher()
    return _searcher


def warm_up() -> None:
    """Load the model and the current index while the server starts, not on a citizen's time
    (actions/startup.py)."""
    try:
        searcher().embedder.encode(["warm up"])
        searcher().refresh(force=True)
        searcher().prepared("warm up")  # the English word list and the index's own words
    except Exception:  # a missing index must not stop the action server from starting
        logger.exception("knowledge base not loaded at start-up")


def citation(hit: Hit, question: str = "") -> dict[str, str]:
    """The variables of `utter_kb_answer`: plain text, whatever markup the document had, and
    a source that is an http(s)/mailto/tel link or else the document's department and id
    (`bot.links`): an imported FAQ entry without a link still says which office answered.
    The passage is trimmed to the sentences that carry what `question` asks for (a fee, a
    time, a place; `knowledge_base.aspects.trim`); lists are quoted whole."""
    metadata = hit.metadata
    return {
        "answer": trim(plain_text(hit.text), question_aspect(question), hit.language),
        "title": plain_text(metadata.title),
        "section": plain_text(hit.section),
        "effective_date": metadata.effective_date.isoformat() if metadata.effective_date else "-",
        "source": safe_link(metadata.source) or " · ".join(
            part for part in (plain_text(metadata.department), hit.doc_id) if part),
    }


async def answer_beside_request(dispatcher: CollectingDispatcher, question: str,
                                language: str) -> bool:
    """Add the passage that answers the question part of a request
    (`bot.message_kind.question_part`) when the answerability classifier is at least
    GOV_KB_RELATED_MIN_CONFIDENCE sure of it; whether one was added. A request never gets a
    doubtful passage: it is being sent to a department anyway."""
    try:
        answer = await off_loop(searcher().answer, question, language, 1)
    except Exception:
        logger.exception("knowledge-base search for a request's question failed")
        return False
    best = answer.best
    if (best is None or answer.method != "answerability" or not answer.answered
            or answer.confidence < searcher().settings.related_min_confidence):
        return False
    logger.info("request's question %r answered from %s (confidence %.3f)",
                mask_personal_data(question)[:80], best.chunk_id, answer.confidence)
    dispatcher.utter_message(response="utter_request_related_passage",
                             question=question.strip(), **citation(best, question))
    if best.language != language:
        dispatcher.utter_message(response="utter_kb_other_language")
    return True


def followup_context(events: list[dict[str, Any]], window: float,
                     now: float | None = None) -> str | None:
    """The conversation's last answered question, if the newest user message may be its
    follow-up: answered within `window` seconds before that message, in the same session (no
    session start or restart since; a slot carried over into a new session does not count),
    and no message in between went to another flow (STAYS_ON_TOPIC) or started a form.
    None otherwise."""
    if window <= 0:
        return None
    user_turns = [e for e in events if e.get("event") == "user"]
    asked_at = user_turns[-1].get("timestamp") if user_turns else None
    asked_at = float(asked_at) if asked_at is not None else (now or time.time())
    newest_user_seen = False
    found: dict[str, Any] | None = None
    for event in reversed(events):
        kind = event.get("event")
        if kind in ("session_started", "restart"):
            return None
        if found is not None:
            if kind == "user":  # the slot was set while answering a question of this session
                break
            continue
        if kind == "active_loop" and event.get("name"):
            return None
        if kind == "user":
            if newest_user_seen:
                intent = (event.get("parse_data") or {}).get("intent") or {}
                if intent.get("name") not in STAYS_ON_TOPIC:
                    return None
            newest_user_seen = True
        elif kind == "slot" and event.get("name") == "last_question" and newest_user_seen:
            found = event
    if found is None or not found.get("value") or found.get("timestamp") is None:
        return None
    if asked_at - float(found["timestamp"]) > window:
        return None
    return str(found["value"])


# "为什么要我的手机号？", "why do you need my phone number?" asked where four digits are asked for
_WHY = re.compile(r"为什么|为啥|干嘛|干什么|做什么用|有什么用|用来做什么|用来干|\bwhy\b|what for\b"
                  r"|what (?:is|are) (?:it|they|this|that) for|what do you need|\bsafe\b|安全吗"
                  r"|泄露")


def asks_why_the_digits(tracker: Tracker, question: str) -> bool:
    """Whether the citizen asks why the four digits are wanted, while a form asks for them:
    answered with what they are for and how they are kept, not searched as a policy
    question (the hotline passage came back)."""
    from actions.tickets import DIGITS  # imports this module: looked up at call time

    return (tracker.get_slot("requested_slot") in (CODE, DIGITS)
            and bool(_WHY.search(normalize(question))))


class ActionAnswerQuestion(Action):
    def name(self) -> str:
        return "action_answer_question"

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> list[EventType]:
        return await self.answer(
            dispatcher, tracker, followup_context(tracker.events,
                                                  searcher().settings.followup_seconds))

    async def answer(self, dispatcher: CollectingDispatcher, tracker: Tracker,
                     context: str | None) -> list[EventType]:
        """Answer the latest message, with `context` the question it may follow up on."""
        question = (tracker.latest_message.get("text") or "").strip()
        language = tracker.get_slot("language") or "zh"
        if classify(question).is_request:
            # A complaint or request never gets a policy passage: it goes to a department.
            return [FollowupAction("ticket_form")]
        if asks_why_the_digits(tracker, question):
            dispatcher.utter_message(response="utter_why_four_digits")
            return []
        try:
            # Off the event loop: embedding + search is CPU work; others keep being served.
            # The decision: the fitted answerability classifier's probability against its
            # threshold (or, for a model it was not fitted for, the cosine against
            # GOV_KB_MIN_SCORE); see knowledge_base/answerability.py. A follow-up is also
            # searched with the previous answered question (`context`, README "Follow-up
            # questions"); that result is used only when clearly more likely to answer.
            answer = await off_loop(searcher().answer, question, language, 3, context=context)
        except Exception:
            logger.exception("knowledge-base search failed")
            dispatcher.utter_message(response="utter_kb_error")
            return [SlotSet("last_answer", None)]
        best = answer.best
        if best is None or not answer.answered:
            if said_more_on_status(dispatcher, tracker):
                return [SlotSet("last_answer", None)]
            # Off the loop too: `names_a_topic` may load a newly published index version.
            if not context and not await off_loop(searcher().names_a_topic, question):
                # Not a gap in the knowledge base: the question does not say which service.
                dispatcher.utter_message(response="utter_kb_which_service")
                return [SlotSet("last_answer", None)]
            await off_loop(record_unanswered, question, language,
                           tracker.get_latest_input_channel() or "",
                           answer.confidence if best else None, best.doc_id if best else None)
            return self._not_answered(dispatcher, tracker)
        dispatcher.utter_message(response="utter_kb_answer", **citation(best, question))
        if best.language != language:
            dispatcher.utter_message(response="utter_kb_other_language")
        logger.info("answered %r from %s (%s confidence %.3f%s)",
                    mask_personal_data(question)[:80], best.chunk_id, answer.method,
                    answer.confidence, ", as a follow-up" if answer.used_context else "")
        # What was answered: for a follow-up, the question read with its context, so that the
        # next follow-up still knows the topic.
        answered = (contextual_query(context, question)[:MAX_CONTEXT_CHARS]
                    if answer.used_context and context else question)
        return [SlotSet("last_answer", best.chunk_id), SlotSet("last_question", answered),
                SlotSet("failed_turns", 0)]

    @staticmethod
    def _not_answered(dispatcher: CollectingDispatcher, tracker: Tracker) -> list[EventType]:
        """Say so honestly; after several misses in a row, hand over to a person."""
        failures = int(tracker.get_slot("failed_turns") or 0) + 1
        events: list[EventType] = [SlotSet("last_answer", None), SlotSet("failed_turns", failures)]
        if failures >= CaseworkSettings().failures_before_handoff:
            dispatcher.utter_message(response="utter_handoff_after_failures")
            return [*events, FollowupAction("action_handoff")]
        dispatcher.utter_message(response="utter_kb_no_answer")
        return events


# A follow-up is short: "and how long does it take?", "要带什么", "在哪里办呢".
FOLLOWUP_MAX_CHARS = 60
_ASKING_ENDS = ("?", "？", "吗", "呢", "么", "嗎", "麼")


def may_follow_up(text: str) -> bool:
    """Whether a message the NLU took for out of scope may ask more about the question just
    answered: short, and asking for something (a time, a cost, a place…) or ending as a
    question does."""
    text = text.strip()
    return 0 < len(text) <= FOLLOWUP_MAX_CHARS and (
        question_aspect(text) is not None or text.endswith(_ASKING_ENDS))


def said_more_on_status(dispatcher: CollectingDispatcher, tracker: Tracker) -> bool:
    """"大概还要多久" right after a status report asks about that case, not a policy: the
    report's expected date and department are said again (`utter_status_followup`)."""
    question = tracker.latest_message.get("text") or ""
    reported = (status_just_reported(tracker.events, searcher().settings.followup_seconds)
                if asks_about_progress(question) else None)
    if reported:
        dated = reported["expected"] != NO_DATE
        dispatcher.utter_message(
            response="utter_status_followup" if dated else "utter_status_followup_undated",
            **reported)
    return reported is not None


class ActionOutOfScope(Action):
    """Out of scope, unless it may be a follow-up of the question answered just before ("and
    how long does it take?" after a passport fee): the NLU sees one message, no conversation,
    and a short question without a topic reads as out of scope. Such a follow-up is answered
    like any other (`ActionAnswerQuestion`, with the previous question as context), or
    honestly declined."""

    def name(self) -> str:
        return "action_out_of_scope"

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> list[EventType]:
        text = tracker.latest_message.get("text") or ""
        context = (followup_context(tracker.events, searcher().settings.followup_seconds)
                   if may_follow_up(text) else None)
        if context:
            return await ActionAnswerQuestion().answer(dispatcher, tracker, context)
        if said_more_on_status(dispatcher, tracker):
            return []
        dispatcher.utter_message(response="utter_out_of_scope")
        return []


class ActionRecordFeedback(Action):
    def name(self) -> str:
        return "action_record_feedback"

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> list[EventType]:
        chunk_id = tracker.get_slot("last_answer")
        helpful = (tracker.latest_message.get("intent") or {}).get("name") == "feedback_helpful"
        if not chunk_id:
            dispatcher.utter_message(response="utter_feedback_nothing_to_rate")
            return []
        await off_loop(record_feedback, chunk_id, doc_id_of(chunk_id), helpful,
                       tracker.get_slot("last_question") or "",
                       tracker.get_slot("language") or "zh",
                       tracker.get_latest_input_channel() or "")
        if helpful:
            dispatcher.utter_message(response="utter_feedback_thanks")
        else:
            dispatcher.utter_message(response="utter_feedback_sorry")
        return [SlotSet("last_answer", None)]
