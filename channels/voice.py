"""The voice channel: a recording in, the bot's reply out as text and speech.

POST /webhooks/voice/webhook, multipart form:
  audio     the recording (WebM/Opus, Ogg, WAV, MP3, AMR ...), or
  text      a tapped button's payload or title, which skips recognition
  sender, sender_key   the conversation id and its key, both issued by this channel in the
            reply to the page's first turn (sent without them) and kept by the page; a sender
            without its key, or from another channel, gets 403 and nothing else
  language  zh | en (the page's 普通话 / English choice)
  pending   JSON the previous reply asked the page to send back: {"kind": "confirm" | "more",
            "text": ...}; previous  the text last spoken, for "再说一遍"
Reply (JSON): sender, sender_key, heard, language, text (everything, for the screen), spoken
(what the audio says), audio (data: URL of an MP3, or null if synthesis failed), buttons,
pending, error, switch_language (the language spoken when it is not the page's: the reply is in
it, and the page switches), keypad (the number a form is asking for, "reference_number" or
"verification_code", for which the page shows its keypad; what is typed comes back as
`text`). What the recogniser is unsure of is read back before anything is done.
Unusable audio gets an error key with a spoken and written explanation (4xx), never a crash.
Every reply also has `time` and `waiting_for_person`; while the latter is true (a handoff), the
page polls POST /webhooks/voice/updates (form: sender, sender_key, after=<time>, language) for
what staff say. The key is in the body, never in a URL (URLs end up in logs).

Recognition and synthesis happen in the speech service (speech/), called over HTTP, so the
models are loaded once however many Rasa instances run.
"""

from __future__ import annotations

import json
import logging
from typing import Any, Awaitable, Callable, Dict

from rasa.core.channels.channel import CollectingOutputChannel, InputChannel, UserMessage
from sanic import Blueprint, response
from sanic.request import Request
from sanic.response import HTTPResponse

from bot.limits import MAX_MESSAGE_CHARS
from channels import voice_turns as turns
from channels.conversation_keys import ConversationKeys
from channels.limits import REFUSALS, SenderRateLimit, too_long
from channels.rest import clean_text
from channels.speech_client import SpeechClient, SpeechServiceError

logger = logging.getLogger(__name__)
ERRORS = {
    "empty": ("没有收到声音。请按住按钮，说完再松开。",
              "I didn't receive any sound. Please hold the button while you speak."),
    "silence": ("没有听到说话声。请靠近话筒，再说一遍。",
                "I couldn't hear any speech. Please move closer to the microphone and try again."),
    "not_audio": ("这段录音无法识别，请再录一次。",
                  "That recording could not be played. Please record again."),
    "too_long": ("录音太长了。请一次说一件事，不超过一分钟。",
                 "That recording is too long. Please say one thing at a time, under a minute."),
    "too_large": ("录音太长了。请一次说一件事，不超过一分钟。",
                  "That recording is too long. Please say one thing at a time, under a minute."),
    "too_many": ("您说得太快了，请稍等片刻再说。", "Please wait a moment before speaking again."),
    "bad_request": ("请求格式不正确，请刷新页面再试。",
                    "The request is malformed; please reload the page and try again."),
    "message_too_long": REFUSALS["too_large"],
    "forbidden": ("这个对话不属于您，或已过期。请刷新页面，重新开始。",
                  "This conversation is not yours, or has expired. Please reload the page "
                  "and start again."),
    "method": ("不支持这种请求方式。", "This request method is not supported here."),
    "unavailable": ("语音服务暂时不可用，请稍后再试，或拨打 12345 政务服务热线。",
                    "The voice service is unavailable right now. Please try again later, "
                    "or call the 12345 government service hotline."),
    "unclear": ("没有听清楚您说的话。请靠近话筒，慢一点再说一遍；"
                "也可以点“找人工”，请工作人员帮您。",
                "Sorry, I couldn't make out what you said. Please say it again, a little more "
                "slowly and closer to the microphone, or tap “Talk to a person” for a member of "
                "staff."),
    "busy": ("很多人正在使用语音服务，请稍等几秒钟再说一遍。",
             "Many people are using the voice service right now. Please wait a few seconds and "
             "say it again."),
}
STATUS = {"too_long": 413, "too_large": 413, "message_too_long": 413, "too_many": 429,
          "bad_request": 400, "forbidden": 403, "method": 405, "unavailable": 503, "busy": 503}
# Refusals of requests the page never makes: answered in text only (synthesis costs CPU,
# which a flood of them must not be able to spend).
UNSPOKEN = {"forbidden", "method"}
# Methods answered with a bilingual 405 rather than the web server's English one.
OFFERED_METHODS = ["GET", "POST", "PUT", "PATCH", "DELETE"]
MAX_POLL_BYTES = 4096


def _page_language(request: Request) -> str:
    """The page's language for an error about an unusable request (zh unless it says en)."""
    try:
        return "en" if (request.form or {}).get("language") == "en" else "zh"
    except (ValueError, KeyError, UnicodeDecodeError):
        return "zh"


class VoiceInput(InputChannel):
    @classmethod
    def name(cls) -> str:
        return "voice"

    @classmethod
    def from_credentials(cls, credentials: Dict[str, Any] | None) -> InputChannel:
        credentials = credentials or {}
        return cls(credentials.get("speech_url") or "http://127.0.0.1:8082",
                   int(credentials.get("max_bytes") or 12 * 1024 * 1024),
                   float(credentials.get("timeout") or 60),
                   int(credentials.get("burst") or 10),
                   float(credentials.get("per_minute") or 20))

    def __init__(self, speech_url: str, max_bytes: int = 12 * 1024 * 1024,
                 timeout: float = 60, burst: int = 10, per_minute: float = 20) -> None:
        self.speech = SpeechClient(speech_url, timeout)
        self.max_bytes = max_bytes
        self.limits = SenderRateLimit(burst, per_minute)
        self.polls = SenderRateLimit(5, 30)  # /updates: every few seconds while waiting
        self.keys = ConversationKeys(self.name())

    async def _say(self, text: str, language: str, **fields: Any) -> dict[str, Any]:
        """A reply whose audio speaks `fields.get('spoken', text)` (at `fields.get('rate')`
        × normal speed, if given)."""
        spoken, rate = fields.pop("spoken", text), fields.pop("rate", None)
        return {"heard": "", "language": language, "text": text, "spoken": spoken,
                "audio": await self.speech.synthesize(spoken, language, rate), "buttons": [],
                "pending": None, "error": None, **fields}

    async def _error(self, key: str, language: str, spoken: bool = True,
                     form: dict[str, Any] | None = None) -> HTTPResponse:
        """The refusal `key`; with the turn's `form`, also its conversation (a first turn that
        failed still gives the page its conversation)."""
        zh, en = ERRORS[key]
        text = zh if language == "zh" else en
        conversation = {"sender": form["sender"], "sender_key": form["sender_key"]} \
            if form else {}
        if key in UNSPOKEN or not spoken:
            return response.json({"error": key, "text": text, "language": language,
                                  "audio": None}, status=STATUS[key])
        body = await self._say(text, language, error=key, **conversation)
        return response.json(body, status=STATUS.get(key, 422))

    def _conversation(self, fields: Any) -> tuple[str, str] | str:
        """(sender, key) the page proved, or a new pair for a page that has none; the error
        key "forbidden" for a sender without its key (another page's, another channel's)."""
        sender, key = fields.get("sender") or "", fields.get("sender_key") or ""
        if not sender and not key:
            return self.keys.issue()
        return (sender, key) if self.keys.holds(sender, key) else "forbidden"

    async def _conversation_state(self, request: Request, sender: str) -> dict[str, Any]:
        """`time` of the conversation's latest event (for /updates), whether it is waiting
        for a person (paused by a handoff), and `keypad`: the number a form is asking for
        ("reference_number" or "verification_code"), which the page offers to type."""
        tracker = await request.app.ctx.agent.tracker_store.retrieve(sender)
        if tracker is None or not tracker.events:
            return {"time": 0.0, "waiting_for_person": False, "keypad": None}
        asking_for = tracker.get_slot("requested_slot") if tracker.active_loop_name else None
        return {"time": tracker.events[-1].timestamp, "waiting_for_person": tracker.is_paused(),
                "keypad": asking_for if asking_for in turns.NUMBER_SLOTS else None}

    async def _needs_confirmation(self, request: Request, form_running: bool,
                                  heard: str) -> str | None:
        """The intent to confirm before acting on `heard`, unless a form is already running
        (then the citizen is answering its question)."""
        if form_running:
            return None
        parsed = await request.app.ctx.agent.parse_message(heard)
        intent = (parsed.get("intent") or {}).get("name")
        return intent if intent in turns.CONFIRM_PROMPTS else None

    async def _ask_bot(self, request: Request,
                       on_new_message: Callable[[UserMessage], Awaitable[Any]],
                       sender: str, text: str, language: str) -> tuple[str, list, str]:
        collector = CollectingOutputChannel()
        await on_new_message(UserMessage(text, collector, sender, input_channel=self.name(),
                                         metadata={"voice": True, "language": language}))
        shown, buttons = turns.reply_text(collector.messages, language)
        if not shown:  # paused for a person: Rasa records the message and says nothing
            return turns.phrase("passed_on", language), [], language
        # The conversation's language, not the passage's: an English question answered from
        # a Chinese document is spoken by the English voice, the Chinese quoted by the other
        # (the speech service picks a voice per run of text).
        tracker = await request.app.ctx.agent.tracker_store.retrieve(sender)
        chosen = tracker.get_slot("language") if tracker else None
        return shown, buttons, chosen if chosen in ("zh", "en") else language

    async def _spoken_reply(self, shown: str, buttons: list, language: str,
                            heard: str) -> dict[str, Any]:
        short = turns.shorten(shown, language)
        say = " ".join(filter(None, [short.say, turns.spoken_options(buttons, language)]))
        pending = {"kind": "more", "text": short.rest} if short.rest else None
        return await self._say(shown, language, spoken=say, heard=heard, buttons=buttons,
                               pending=pending)

    async def _turn(self, request: Request, on_new_message: Callable, form: dict) -> dict:
        sender, language, pending = form["sender"], form["language"], form["pending"]
        tracker = await request.app.ctx.agent.tracker_store.retrieve(sender)
        asking_for = tracker.get_slot("requested_slot") if tracker else None
        heard, expect, quality, switched = form["text"], None, "ok", None
        if form["audio"] is not None:
            # a number is expected, unless the citizen is answering "did I hear you right?"
            expect = "answer" if pending else \
                "number" if asking_for in turns.NUMBER_SLOTS else None
            recognised = await self.speech.hear(form["audio"], language, expect)
            heard, quality = recognised.text, recognised.quality
            if recognised.language != language:  # answered in the language spoken
                switched = language = recognised.language
                await self._follow_spoken_language(request, on_new_message, sender, language)
        reply = await self._respond(request, on_new_message, form, heard, language, expect,
                                    quality, tracker)
        return {**reply, "switch_language": switched}

    async def _follow_spoken_language(self, request: Request, on_new_message: Callable,
                                      sender: str, language: str) -> None:
        """A citizen who chose the other language on the page but speaks this one: the
        conversation's explicit choice follows what they speak (Rasa keeps it in a slot)."""
        tracker = await request.app.ctx.agent.tracker_store.retrieve(sender)
        if tracker is None or tracker.is_paused() \
                or tracker.get_slot("preferred_language") in (None, language):
            return
        payload = "/switch_language" + json.dumps({"language_name": language})
        await on_new_message(UserMessage(payload, CollectingOutputChannel(), sender,
                                         input_channel=self.name(),
                                         metadata={"voice": True, "language": language}))

    async def _respond(self, request: Request, on_new_message: Callable, form: dict,
                       heard: str, language: str, expect: str | None, quality: str,
                       tracker: Any) -> dict:
        sender, pending = form["sender"], form["pending"]
        answer = turns.classify_answer(heard) if not form["is_payload"] else None
        if answer == "repeat" and form["previous"]:  # the question asked still stands
            return await self._say(form["previous"], language, heard=heard, pending=pending)
        if pending and pending["kind"] == "confirm" and pending.get("about") == "number":
            # before yes / no: "对，最后一段是二三五" corrects, it does not confirm
            fixed = await self._number_fixed(pending, heard, language, tracker)
            if fixed:
                return fixed
        if pending and answer in ("yes", "no") and quality != "ok":  # never a guessed yes
            return await self._say(turns.phrase("yes_no_again", language), language,
                                   heard=heard, pending=pending)
        if pending and pending["kind"] == "confirm" and answer in ("yes", "no"):
            if answer == "no":
                again = "number_again" if pending.get("about") == "number" else "say_again"
                return await self._say(turns.phrase(again, language), language, heard=heard)
            shown, buttons, language = await self._ask_bot(
                request, on_new_message, sender, pending["text"], language)
            return await self._spoken_reply(shown, buttons, language, heard)
        if pending and pending["kind"] == "more" and answer in ("yes", "no"):
            if answer == "no":
                return await self._say(turns.phrase("anything_else", language), language,
                                       heard=heard)
            return await self._spoken_reply(pending["text"], [], language, heard)
        if expect == "number":  # a misheard digit would cost a verification attempt
            number = turns.number_heard(heard, tracker.get_slot("requested_slot"))
            if number:
                return await self._read_number_back(number, language, heard)
            return await self._say(turns.confirmation(heard, None, language), language,
                                   heard=heard, pending={"kind": "confirm", "text": heard,
                                                         "about": "number"})
        if quality != "ok":  # the recogniser is unsure: nothing is done until the citizen says
            return await self._say(turns.confirmation(heard, None, language), language,
                                   heard=heard, pending={"kind": "confirm", "text": heard,
                                                         "about": "heard"})
        if not form["is_payload"]:
            form_running = bool(tracker and tracker.active_loop_name)
            intent = await self._needs_confirmation(request, form_running, heard)
            if intent:
                prompt = turns.confirmation(heard, intent, language)
                return await self._say(prompt, language, heard=heard,
                                       pending={"kind": "confirm", "text": heard})
        shown, buttons, language = await self._ask_bot(request, on_new_message, sender, heard,
                                                       language)
        return await self._spoken_reply(shown, buttons, language, heard)

    async def _number_fixed(self, pending: dict, heard: str, language: str,
                            tracker: Any) -> dict | None:
        """The reply when the citizen, asked to confirm a number, corrects one group ("第三组是
        三三六"), names a group with the wrong number of digits, or says a whole number again:
        in each case the number is read back again, never acted on. None otherwise."""
        corrected = turns.corrected_number(pending["text"], heard)
        if corrected:
            return await self._read_number_back(corrected, language, heard)
        named = turns.group_named(pending["text"], heard)
        if named:  # a group named, but its digits did not fit: that group again
            return await self._say(turns.group_again(*named, language), language,
                                   heard=heard, pending=pending)
        number = turns.number_heard(heard, tracker.get_slot("requested_slot")
                                    if tracker else None)
        return await self._read_number_back(number, language, heard) if number else None

    async def _read_number_back(self, number: str, language: str, heard: str) -> dict:
        """A number in short groups, digit by digit and slowly, to confirm or correct one
        group."""
        return await self._say(turns.number_readback(number, language), language,
                               spoken=turns.number_readback(number, language, spoken=True),
                               rate=turns.NUMBER_RATE, heard=heard,
                               pending={"kind": "confirm", "text": number, "about": "number"})

    def _read_form(self, request: Request) -> dict[str, Any] | str:
        """The request's fields, checked; an error key if they are unusable."""
        if len(request.body or b"") > self.max_bytes:
            return "too_long"
        try:
            form = request.form or {}
            files = request.files or {}
        except (ValueError, KeyError, UnicodeDecodeError):
            return "bad_request"
        conversation = self._conversation(form)
        if isinstance(conversation, str):
            return conversation
        sender, sender_key = conversation
        language = form.get("language") if form.get("language") in ("zh", "en") else "zh"
        upload = files.get("audio")
        text = clean_text(form.get("text") or "").strip()
        try:
            pending = json.loads(form.get("pending") or "null")
        except ValueError:
            return "bad_request"
        if not (isinstance(pending, dict) and pending.get("kind") in ("confirm", "more")
                and isinstance(pending.get("text"), str)):
            pending = None
        if too_long(text):
            return "message_too_long"
        if upload is None and not text:
            return "bad_request"
        if pending:
            pending = {"kind": pending["kind"], "about": pending.get("about"),
                       "text": clean_text(pending["text"])[:MAX_MESSAGE_CHARS]}
        return {"sender": sender, "sender_key": sender_key, "language": language,
                "pending": pending,
                "audio": None if upload is None else (upload.body or b""),
                "text": text, "is_payload": text.startswith("/"),
                "previous": clean_text(form.get("previous") or "")[:MAX_MESSAGE_CHARS]}

    def blueprint(self, on_new_message: Callable[[UserMessage], Awaitable[Any]]) -> Blueprint:
        voice = Blueprint("voice_webhook", __name__)

        @voice.route("/", methods=["GET"])
        async def health(request: Request) -> HTTPResponse:
            return response.json({"status": "ok"})

        @voice.route("/webhook", methods=OFFERED_METHODS)
        async def receive(request: Request) -> HTTPResponse:
            if request.method != "POST":
                return await self._error("method", _page_language(request))
            form = self._read_form(request)
            if isinstance(form, str):
                return await self._error(form, _page_language(request))
            if not self.limits.allow(form["sender"]):
                return await self._error("too_many", form["language"], form=form)
            try:
                reply = await self._turn(request, on_new_message, form)
            except SpeechServiceError as error:
                return await self._error(error.key, error.language or form["language"],
                                         form=form)
            return response.json({**reply, "sender": form["sender"],
                                  "sender_key": form["sender_key"],
                                  **await self._conversation_state(request, form["sender"])})

        @voice.route("/updates", methods=OFFERED_METHODS)
        async def updates(request: Request) -> HTTPResponse:
            """What a member of staff said since `after` (a time from an earlier reply), for
            the page that holds the conversation's key, while it waits for a person: it asks
            every few seconds. Refusals here are text only (the page just asks again)."""
            language = _page_language(request)
            if request.method != "POST":
                return await self._error("method", language)
            if len(request.body or b"") > MAX_POLL_BYTES:
                return await self._error("bad_request", language, spoken=False)
            try:
                fields = request.form or {}
                after = float(fields.get("after") or 0)
            except (ValueError, KeyError, UnicodeDecodeError):
                fields, after = {}, -1.0
            if not fields.get("sender"):
                return await self._error("bad_request", language, spoken=False)
            conversation = self._conversation(fields)
            if isinstance(conversation, str):
                return await self._error(conversation, language)
            sender = conversation[0]
            if after < 0 or after != after:  # NaN
                return await self._error("bad_request", language, spoken=False)
            if not self.polls.allow(sender):
                return await self._error("too_many", language, spoken=False)
            tracker = await request.app.ctx.agent.tracker_store.retrieve(sender)
            said = turns.bot_texts_after(tracker.events if tracker else [], after)
            text = "\n\n".join(said)
            audio = await self.speech.synthesize(text, language) if text else None
            return response.json({"messages": said, "text": text, "audio": audio,
                                  **await self._conversation_state(request, sender)})

        return voice
