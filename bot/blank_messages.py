"""A message with nothing to read — empty, spaces, zero-width or other invisible characters —
is answered with "please type your question" before it reaches the NLU pipeline, whose intent
classifier cannot take a message without a single token (it raised, and the citizen got the
"system unavailable" apology, which is not what happened)."""

from __future__ import annotations

import logging

from rasa.core.agent import Agent
from rasa.core.channels.channel import UserMessage

from bot import scripts
from bot.resilience import send_outside_the_dialogue
from channels.rest import clean_text

logger = logging.getLogger(__name__)

RESPONSE = "utter_empty_message"


def is_blank(text: str | None) -> bool:
    """Nothing but whitespace (the ideographic space too) and the control and format
    characters the text channels already drop (`channels.rest.clean_text`)."""
    return not clean_text(text or "").strip()


async def ask_for_text(agent: Agent, message: UserMessage) -> None:
    """Reply in the conversation's language (both when it has none yet) and script; the
    conversation is left as it was: an active form still waits for its answer."""
    language = script = None
    try:
        tracker = await agent.tracker_store.retrieve(message.sender_id) \
            if agent.tracker_store else None
        language = tracker.get_slot("language") if tracker else None
        script = scripts.conversation_script(message.sender_id or "", tracker.events) \
            if tracker else None
    except Exception:  # the store being down is the next turn's business; reply anyway
        logger.warning("conversation store unavailable while answering an empty message")
    await send_outside_the_dialogue(agent, message, RESPONSE, language, script)
