"""Replies in the script the citizen writes: Traditional characters for a citizen who writes
Traditional (Taiwan, Hong Kong, Macau, many elderly readers), Simplified otherwise.

The NLU, the search and the domain's responses all work in Simplified (`bot.text` folds
Traditional input); only what leaves for the citizen is converted, at the one point every
channel's bot messages pass through (`sent_in_the_citizens_script`, put in place by
bot/patches.py), and in the few replies sent outside the dialogue (apologies, the empty-message
answer, a re-sent turn, the channels' refusals), which call the same functions.

The script is the conversation's, not the message's: the latest citizen message whose
characters tell the scripts apart decides ("是", "1", an English sentence or a button's payload
tell nothing and keep the earlier choice). An explicit request ("请用繁体字回复", "看不懂繁體，
用简体") wins over that until another one, as an explicit language request does (someone whose
keyboard writes Simplified may read Traditional best). It is read from the conversation's
events, which every Rasa instance shares through the tracker store, so no process keeps its own
memory of it.

The voice channel stays Simplified: its text is the speech synthesiser's input and the
recogniser writes Simplified anyway.

The conversion (GOV_TRADITIONAL_REPLIES, common/registry.py) is OpenCC's `s2hk` by default:
Hong Kong's standard forms (為, 裏, 着, 台). The mainland's Traditional-script citizens are mostly
Hong Kong and Macau residents (Macau follows the same forms), and Taiwanese readers read these
forms without effort. `s2tw` (為, 裡, 著, 臺) suits a Taiwan-facing service. `s2t` writes
OpenCC's own standard (爲, 裏), which looks wrong to readers in all three places. The phrase
variants (s2twp, s2hkp) are not offered: they swap words (软件 → 軟體), and the names of
documents and procedures must stay the words the offices use. Only Han characters change:
English, digits, reference numbers and payloads never do, and web addresses are kept as written.
"""

from __future__ import annotations

import functools
import re
from collections.abc import Iterable
from typing import Any

from bot.text import SCRIPT_NAMES, SIMPLIFIED, TRADITIONAL, script_of
from channels.namespaces import owning_channel
from common.registry import setting

CONVERSIONS = ("s2hk", "s2tw", "s2t", "off")
SPOKEN_CHANNELS = ("voice",)  # conversations whose replies are also the speech's input

CONVERSION: str = (setting("GOV_TRADITIONAL_REPLIES") or "s2hk").strip().lower()
if CONVERSION not in CONVERSIONS:
    raise ValueError(f"GOV_TRADITIONAL_REPLIES must be one of {', '.join(CONVERSIONS)}, "
                     f"not {CONVERSION!r}")

SWITCH_INTENT = "switch_language"
# "看不懂繁体字": a script named right after a negation is the one the citizen does NOT want.
_NEGATION_BEFORE = re.compile(r"(?:不懂|看不懂|不会|不會|不要|别|別|不太懂|不习惯|不習慣)\s*$")

# A web address, up to the first space or Chinese punctuation: its characters are kept.
_URL = re.compile(r"(?:https?|ftp)://[^\s，。；！？、）」』】》]+|www\.[^\s，。；！？、）」』】》]+",
                  re.IGNORECASE)


@functools.cache
def _converter(config: str) -> Any:
    import opencc  # imported lazily, like bot.text's: loading its dictionaries takes time

    return opencc.OpenCC(config)


async def load_converters(*_: Any) -> None:
    """A Sanic `before_server_start` listener: OpenCC's dictionaries (about 0.2 s each on a
    busy machine) loaded before the first citizen's turn, not during it."""
    script_of("說说")
    if CONVERSION != "off":
        _converter(CONVERSION).convert("说")


def conversation_script(sender_id: str, events: Iterable[Any]) -> str | None:
    """The script replies to this conversation are written in: the latest explicit request's,
    else that of the latest citizen message which tells (`script_of`); None (Simplified, as
    written) when none does, for a spoken conversation, or when conversion is off. `events`
    are Rasa's (only their `type_name`, `text` and `intent` are read, so this runs without
    Rasa too)."""
    if CONVERSION == "off" or owning_channel(sender_id or "") in SPOKEN_CHANNELS:
        return None
    said = [event for event in events if getattr(event, "type_name", None) == "user"]
    for event in reversed(said):
        requested = requested_script(event)
        if requested is not None:
            return requested
    for event in reversed(said):
        script = script_of(getattr(event, "text", None) or "")
        if script is not None:
            return script
    return None


def requested_script(event: Any) -> str | None:
    """The script a citizen's message asks for by name (a language switch naming 繁体 or
    简体), or None."""
    intent = getattr(event, "intent", None) or {}
    if intent.get("name") != SWITCH_INTENT:
        return None
    text = getattr(event, "text", None) or ""
    requested = None
    for match in SCRIPT_NAMES.finditer(text):
        wanted = TRADITIONAL if match.group(1) else SIMPLIFIED
        if _NEGATION_BEFORE.search(text[max(0, match.start() - 12):match.start()]):
            wanted = SIMPLIFIED if wanted == TRADITIONAL else TRADITIONAL
        requested = wanted
    return requested


def in_script(text: str, script: str | None) -> str:
    """`text` (written in Simplified) in `script`: converted for TRADITIONAL, web addresses
    kept as written."""
    if script != TRADITIONAL or CONVERSION == "off" or text.isascii():
        return text
    convert = _converter(CONVERSION).convert
    pieces, start = [], 0
    for url in _URL.finditer(text):
        pieces += [convert(text[start:url.start()]), url.group()]
        start = url.end()
    pieces.append(convert(text[start:]))
    return "".join(pieces)


def like(text: str, written: str) -> str:
    """`text` in the script of `written` (a refusal in the script of the refused message)."""
    return in_script(text, script_of(written))


def message_in_script(message: dict[str, Any], script: str | None) -> dict[str, Any]:
    """A bot message (Rasa's `BotUttered.message()`) with its text and its buttons' and quick
    replies' titles in `script`; payloads, images, attachments and custom data untouched."""
    if script != TRADITIONAL or CONVERSION == "off":
        return message
    converted = dict(message)
    if isinstance(message.get("text"), str):
        converted["text"] = in_script(message["text"], script)
    for key in ("buttons", "quick_replies"):
        if isinstance(message.get(key), list):
            converted[key] = [_titled(option, script) for option in message[key]]
    return converted


def _titled(option: Any, script: str) -> Any:
    if not isinstance(option, dict) or not isinstance(option.get("title"), str):
        return option
    return {**option, "title": in_script(option["title"], script)}


def sent_in_the_citizens_script(original: Any) -> Any:
    """For `MessageProcessor._send_bot_messages(events, tracker, output_channel)`, where
    every channel's bot messages are sent (a turn's replies, staff replies through the
    conversation API, reminders): each in the conversation's script. The events stored in
    the conversation stay as written."""

    @functools.wraps(original)
    async def _send_bot_messages(events: list, tracker: Any, output_channel: Any) -> None:
        script = conversation_script(tracker.sender_id, tracker.events)
        if script != TRADITIONAL:
            return await original(events, tracker, output_channel)
        for event in events:
            if getattr(event, "type_name", None) == "bot":
                await output_channel.send_response(
                    tracker.sender_id, message_in_script(event.message(), script))
        return None

    return _send_bot_messages
