"""A messaging app's voice note that the recogniser is unsure of is read back before anything
is done with it, as the voice page does (issue #19: never act on words that were not said).

"我听到的是：……。对吗？" goes back to the citizen; their next message decides: "对" / "yes" acts on
what was heard, "不对" / "no" asks them to say or type it again, anything else is taken as a
new message (the read-back is dropped). A voice "yes" counts only when it was itself heard
clearly: an unsure "yes" is read back like any other unsure note.

The read-back is kept in the conversation itself, as the bot message whose metadata holds what
was heard, not in the process: production mode balances WeChat and Telegram webhooks over
several Rasa instances, and the citizen's answer may reach another one. Staff see the read-back
in the history, and it is masked when stored like every other event (bot/tracker_store.py).
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from typing import Any

from rasa.core.channels.channel import CollectingOutputChannel
from rasa.shared.core.events import BotUttered

from bot.scripts import conversation_script, in_script
from channels.speech_client import Heard
from channels.voice_turns import classify_answer

MARK = "heard_unsure"
# After this long, an unanswered read-back is stale: the citizen has moved on.
VALID_SECONDS = 600
READ_BACK = {"zh": "我听到的是：“{}”。对吗？请回复“对”或“不对”，也可以直接打字。",
             "en": "I heard: “{}”. Is that right? Reply yes or no, or type your message."}
SAY_AGAIN = {"zh": "好的，请再发一次语音，或者直接打字。",
             "en": "All right, please send the voice message again, or type it."}


@dataclass(frozen=True)
class Settled:
    """What a message comes to while a read-back waits: the text to act on, or a reply to
    send instead (then nothing reaches the bot)."""

    text: str | None
    reply: str | None = None


def read_back_text(heard: Heard) -> str:
    language = heard.language if heard.language in READ_BACK else "zh"
    return READ_BACK[language].format(heard.text.strip().rstrip("。.!?！？"))


async def read_back(agent: Any, sender_id: str, heard: Heard) -> str:
    """Store the read-back in the conversation (its session started as Rasa starts one) and
    return its text for the channel to send, in the conversation's script (bot/scripts.py)."""
    async with agent.lock_store.lock(sender_id):
        tracker = await agent.processor.fetch_tracker_and_update_session(
            sender_id, CollectingOutputChannel())
        text = in_script(read_back_text(heard), conversation_script(sender_id, tracker.events))
        tracker.update(BotUttered(text, metadata={MARK: heard.text,
                                                  "language": heard.language}))
        await agent.tracker_store.save(tracker)
    return text


async def waiting(agent: Any, sender_id: str) -> tuple[str, str, str | None] | None:
    """(what was heard, its language, the conversation's script) when the conversation's
    last event is a read-back still unanswered."""
    tracker = await agent.tracker_store.retrieve(sender_id)
    last = tracker.events[-1] if tracker is not None and tracker.events else None
    if not isinstance(last, BotUttered) or MARK not in (last.metadata or {}) \
            or time.time() - last.timestamp > VALID_SECONDS:
        return None
    return (str(last.metadata[MARK]), str(last.metadata.get("language") or "zh"),
            conversation_script(sender_id, tracker.events))


async def settle(agent: Any, sender_id: str, text: str) -> Settled:
    """The citizen's answer to a waiting read-back, or their message as it is."""
    pending = await waiting(agent, sender_id)
    if pending is None:
        return Settled(text)
    heard, language, script = pending
    answer = classify_answer(text)
    if answer == "yes":
        return Settled(heard)
    if answer == "no":
        return Settled(None, in_script(SAY_AGAIN.get(language, SAY_AGAIN["zh"]), script))
    return Settled(text)
