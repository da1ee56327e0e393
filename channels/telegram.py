"""Telegram, through Rasa's own connector, with the changes an operator needs:

- the Bot API address is configurable (`api_base_url`; the tests point it at a local fake);
- conversations are keyed "telegram:<chat id>", so a Telegram user never shares a tracker with
  a user of another channel who happens to have the same id;
- when `secret_token` is set, Telegram is asked to send it with every update and updates
  without it are refused (the stock connector only compares the bot's name);
- every channel's limits (channels/limits.py): a message over GOV_MAX_MESSAGE_CHARS, or beyond
  the per-chat rate limit, is answered with a refusal in the citizen's language and never
  reaches the bot; bodies over 64 KB get 413, updates that are not well-formed 400;
- a photo, video or document sent with a caption is read by its caption (the stock connector
  drops the whole message); a voice note is fetched from Telegram and recognised by our speech
  service (`speech_url`), as WeChat voice is; a message with nothing to read (a sticker, a
  photo alone, a voice note that could not be heard) is answered so, in the user's Telegram
  language, instead of getting no answer at all;
- the stock connector's unauthenticated `/set_webhook` (which re-registers the webhook without
  the secret, switching the check above off) is gone: the webhook is registered at start-up.

credentials (written by the stack from GOV_TELEGRAM_* variables, never committed):
    channels.telegram.TelegramChannel:
      access_token: ...
      verify: <bot username>
      webhook_url: https://<public host>/webhooks/telegram/webhook
      api_base_url: https://api.telegram.org
      secret_token: ...
      speech_url: http://127.0.0.1:8082   # voice notes; without it they get "text only"
      burst: 20             # messages per chat (channels/limits.py)
      per_minute: 60
"""

from __future__ import annotations

import asyncio
import hmac
import logging
from typing import Any, Awaitable, Callable, Dict

import aiohttp
from aiogram.bot.api import TelegramAPIServer
from aiogram.utils.exceptions import TelegramAPIError
from rasa.core.channels.channel import InputChannel, UserMessage
from rasa.core.channels.telegram import TelegramInput, TelegramOutput
from rasa.shared.exceptions import RasaException
from sanic import Blueprint, response
from sanic.request import Request

from channels import heard_check, notices
from channels.limits import SenderRateLimit, refusal, too_long
from channels.rest import MAX_BODY_BYTES
from channels.speech_client import Heard, SpeechClient, SpeechServiceError

logger = logging.getLogger(__name__)
PREFIX = "telegram:"
SECRET_HEADER = "X-Telegram-Bot-Api-Secret-Token"
MAX_VOICE_BYTES = 20 * 1024 * 1024  # what the Bot API lets a bot download
# Marks a voice note already counted against its chat's rate limit (in the parsed update).
COUNTED = "gov_rate_counted"


class TelegramChannelOutput(TelegramOutput):
    def __init__(self, access_token: str | None, api_base_url: str) -> None:
        super(TelegramOutput, self).__init__(  # aiogram's Bot, with our server address
            access_token, server=TelegramAPIServer.from_base(api_base_url.rstrip("/")))

    async def send_response(self, recipient_id: str, message: Dict[str, Any]) -> None:
        await super().send_response(recipient_id.removeprefix(PREFIX), message)


class TelegramChannel(TelegramInput):
    @classmethod
    def name(cls) -> str:
        return "telegram"

    @classmethod
    def from_credentials(cls, credentials: Dict[str, Any] | None) -> InputChannel:
        if not credentials or not credentials.get("access_token"):
            cls.raise_missing_credentials_exception()
        return cls(credentials["access_token"], credentials.get("verify"),
                   credentials.get("webhook_url"),
                   api_base_url=credentials.get("api_base_url") or "https://api.telegram.org",
                   secret_token=credentials.get("secret_token") or None,
                   limits=SenderRateLimit.from_credentials(credentials),
                   speech_url=credentials.get("speech_url") or None)

    def __init__(self, access_token: str | None, verify: str | None,
                 webhook_url: str | None, api_base_url: str = "https://api.telegram.org",
                 secret_token: str | None = None, limits: SenderRateLimit | None = None,
                 speech_url: str | None = None) -> None:
        super().__init__(access_token, verify, webhook_url, debug_mode=False)
        self.api_base_url = api_base_url
        self.secret_token = secret_token
        self.limits = limits or SenderRateLimit()
        self.speech = SpeechClient(speech_url, timeout=60) if speech_url else None

    def get_metadata(self, request: Request) -> Dict[str, Any] | None:
        """Tells `keyed` that a recognised voice note was counted against the chat's limit
        before it was fetched and recognised (so it is not counted twice)."""
        message = request.json.get("message") if isinstance(request.json, dict) else None
        return {COUNTED: True} if isinstance(message, dict) and message.get(COUNTED) else None

    def get_output_channel(self) -> TelegramChannelOutput:
        channel = TelegramChannelOutput(self.access_token, self.api_base_url)
        payload = {"url": self.webhook_url}
        if self.secret_token:
            payload["secret_token"] = self.secret_token
        async def register() -> None:
            try:
                await channel.request("setWebhook", payload)
            finally:  # the session belongs to this short-lived loop, not the server's
                await channel.session.close()  # aiogram 2's Bot.close() is deprecated

        try:
            asyncio.run(register())
        except TelegramAPIError as error:
            raise RasaException(f"Failed to set channel webhook: {error}") from error
        return channel

    def blueprint(self, on_new_message: Callable[[UserMessage], Awaitable[Any]]) -> Blueprint:
        async def keyed(message: UserMessage) -> Any:
            chat_id = str(message.sender_id)
            text = message.text if isinstance(message.text, str) else ""
            counted = (message.metadata or {}).get(COUNTED)  # a voice note, counted before
            refused = ("too_large" if too_long(text) else None) if counted \
                else self.limits.check(chat_id, text)
            if refused:
                await message.output_channel.send_text_message(chat_id, refusal(refused, text))
                return None
            message.sender_id = f"{PREFIX}{chat_id}"
            if message.text == "/start":  # Telegram's first message: greet the citizen
                message.text = "/greet"
            return await on_new_message(message)

        telegram = super().blueprint(keyed)

        @telegram.middleware("request")
        async def require_secret(request: Request) -> Any:
            if request.path.endswith("/set_webhook"):
                return response.text("not found", status=404)
            if request.path.endswith("/webhook") and request.method != "POST":
                return response.text("method not allowed", status=405)
            if request.method != "POST":
                return None
            if self.secret_token:
                supplied = request.headers.get(SECRET_HEADER, "")
                if not hmac.compare_digest(supplied.encode(), self.secret_token.encode()):
                    return response.text("forbidden", status=403)
            if len(request.body or b"") > MAX_BODY_BYTES:
                return response.text("body too large", status=413)
            if not isinstance(request.json, dict):  # after the secret: parse only Telegram's
                return response.text("malformed update", status=400)
            return await self._before_the_bot(request)

        @telegram.exception(AttributeError, KeyError, TypeError, ValueError)
        async def malformed(request: Request, error: Exception) -> Any:
            """The stock handler reads updates without checking their shape (an update with no
            message, a message with no chat): a 400, not a server error."""
            logger.warning("malformed Telegram update refused: %r", error)
            return response.text("malformed update", status=400)

        return telegram

    async def _before_the_bot(self, request: Request) -> Any:
        """A text message may answer a voice note's read-back (channels/heard_check.py); a
        message without text needs reading first."""
        message = request.json.get("message")
        if isinstance(message, dict):
            message.pop(COUNTED, None)  # ours to set, never the sender's
        if isinstance(message, dict) and isinstance(message.get("text"), str):
            return await self._answer_to_read_back(request, message)
        return await self._nothing_to_read(request, request.json)

    async def _answer_to_read_back(self, request: Request, message: Dict[str, Any]) -> Any:
        """"yes" to a read-back becomes what was heard; "no" is answered here."""
        chat_id = str((message.get("chat") or {}).get("id", ""))
        if not chat_id or self.speech is None:
            return None
        settled = await heard_check.settle(request.app.ctx.agent, f"{PREFIX}{chat_id}",
                                           message["text"])
        if settled.text is not None:
            message["text"] = settled.text
            return None
        await self._send_alone(chat_id, settled.reply)
        return response.text("success")

    async def _send_alone(self, chat_id: str, text: str) -> None:
        """A message the channel sends by itself, outside a bot turn."""
        channel = TelegramChannelOutput(self.access_token, self.api_base_url)
        try:
            await channel.send_text_message(chat_id, text)
        except Exception as error:  # Telegram unreachable: nothing more can be done
            logger.warning("could not send a Telegram message: %r", error)
        finally:
            await channel.session.close()

    async def _nothing_to_read(self, request: Request, update: Dict[str, Any]) -> Any:
        """A new message without text: its caption, or its voice note recognised, becomes its
        text (in the parsed update the stock handler reads next); with neither (nor a
        location, which the stock connector reads) it is answered here and goes no further."""
        message = update.get("message")
        if not isinstance(message, dict) or isinstance(message.get("text"), str) \
                or "location" in message:
            return None
        caption = message.get("caption")
        if isinstance(caption, str) and caption.strip():
            message["text"] = caption
            return None
        chat_id = str((message.get("chat") or {}).get("id", ""))
        if not chat_id or self.limits.check(chat_id, ""):  # flooding: no reply at all
            return response.text("success")
        voice = message.get("voice") or message.get("audio")
        channel = TelegramChannelOutput(self.access_token, self.api_base_url)
        try:
            if isinstance(voice, dict) and self.speech is not None:
                heard = await self._recognise(channel, voice, chat_id)
                if heard is not None and heard.quality == "ok":
                    message["text"] = heard.text  # perhaps the answer to a read-back
                    message[COUNTED] = True
                    return await self._answer_to_read_back(request, message)
                if heard is not None:  # unsure: read back, act only on "yes"
                    await channel.send_text_message(chat_id, await heard_check.read_back(
                        request.app.ctx.agent, f"{PREFIX}{chat_id}", heard))
                    return response.text("success")
            reply = notices.NOT_HEARD if isinstance(voice, dict) and self.speech \
                else notices.UNSUPPORTED
            code = str((message.get("from") or {}).get("language_code") or "")
            languages = ["zh"] if code.startswith("zh") else ["en"] if code else ["zh", "en"]
            await channel.send_text_message(chat_id, notices.in_languages(reply, languages))
        except Exception as error:  # Telegram unreachable: nothing more can be done
            logger.warning("could not answer a Telegram message without text: %r", error)
        finally:
            await channel.session.close()
        return response.text("success")

    async def _recognise(self, channel: TelegramChannelOutput, voice: Dict[str, Any],
                         chat_id: str) -> Heard | None:
        """What a voice note says (fetched with getFile and the file download), or None."""
        if not isinstance(voice.get("file_id"), str) \
                or int(voice.get("file_size") or 0) > MAX_VOICE_BYTES:
            return None
        try:
            found = await channel.get_file(voice["file_id"])
            audio = await channel.download_file(found.file_path)
            heard = await self.speech.hear(audio.getvalue(), None)
            return heard if heard.text.strip() else None
        except (TelegramAPIError, OSError, SpeechServiceError, aiohttp.ClientError) as error:
            logger.warning("voice note from …%s not recognised: %s", chat_id[-4:], error)
            return None
