"""Answering policy questions from the knowledge base, with citations; recording feedback.

Also the NLU fallback: a message the classifier is unsure about is tried against the
documents before the assistant admits it does not know.
"""

from __future__ import annotations

import asyncio
import logging

from rasa_sdk import Action, Tracker
from rasa_sdk.events import EventType, FollowupAction, SlotSet
from rasa_sdk.executor import CollectingDispatcher
from rasa_sdk.types import DomainDict

from bot.privacy import mask_personal_data
from knowledge_base.chunking import doc_id_of
from knowledge_base.records import record_feedback, record_unanswered
from knowledge_base.search import Hit, Searcher
from storage.config import CaseworkSettings

logger = logging.getLogger(__name__)
SEARCHER = Searcher()


def warm_up() -> None:
    """Load the model and the current index while the server starts, not on a citizen's time."""
    try:
        SEARCHER.embedder.encode(["warm up"])
        SEARCHER.refresh(force=True)
    except Exception:  # a missing index must not stop the action server from starting
        logger.exception("knowledge base not loaded at start-up")


warm_up()


def citation(hit: Hit) -> dict[str, str]:
    metadata = hit.metadata
    return {
        "answer": hit.text,
        "title": metadata.title,
        "section": hit.section,
        "effective_date": metadata.effective_date.isoformat() if metadata.effective_date else "-",
        "source": metadata.source or hit.doc_id,
    }


class ActionAnswerQuestion(Action):
    def name(self) -> str:
        return "action_answer_question"

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> list[EventType]:
        question = (tracker.latest_message.get("text") or "").strip()
        language = tracker.get_slot("language") or "zh"
        try:
            # Off the event loop: embedding + search is CPU work; others keep being served.
            # The decision: the fitted answerability classifier's probability against its
            # threshold (or, for a model it was not fitted for, the cosine against
            # GOV_KB_MIN_SCORE); see knowledge_base/answerability.py.
            answer = await asyncio.to_thread(SEARCHER.answer, question, language, 3)
        except Exception:
            logger.exception("knowledge-base search failed")
            dispatcher.utter_message(response="utter_kb_error")
            return [SlotSet("last_answer", None)]
        best = answer.best
        if best is None or not answer.answered:
            record_unanswered(question, language, tracker.get_latest_input_channel() or "",
                              answer.confidence if best else None, best.doc_id if best else None)
            return self._not_answered(dispatcher, tracker)
        dispatcher.utter_message(response="utter_kb_answer", **citation(best))
        if best.language != language:
            dispatcher.utter_message(response="utter_kb_other_language")
        logger.info("answered %r from %s (%s confidence %.3f)",
                    mask_personal_data(question)[:80], best.chunk_id, answer.method,
                    answer.confidence)
        return [SlotSet("last_answer", best.chunk_id), SlotSet("last_question", question),
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
        record_feedback(chunk_id, doc_id_of(chunk_id), helpful,
                        tracker.get_slot("last_question") or "",
                        tracker.get_slot("language") or "zh",
                        tracker.get_latest_input_channel() or "")
        if helpful:
            dispatcher.utter_message(response="utter_feedback_thanks")
        else:
            dispatcher.utter_message(response="utter_feedback_sorry")
        return [SlotSet("last_answer", None)]
