"""WeChat official account (微信公众号) input channel, plaintext and safe (AES) modes.

WeChat POSTs each citizen message as signed (and in safe mode, encrypted) XML and waits at
most 5 seconds for a passive XML reply. The channel answers passively when the bot is quick
enough; otherwise it replies "success" at once and sends the answer through the
customer-service message API when it is ready. Signature, timestamp freshness, nonce replay,
body size and hostile XML are checked before anything reaches the bot, and so are every
channel's limits (channels/limits.py: message length, messages per user), refused with a passive
reply in the citizen's language. Protocol details (signing, AES, XML) are wechatpy's.

credentials (written by the stack from GOV_WECHAT_* variables, never committed):
    channels.wechat.WeChatInput:
      token: ...            # the URL token configured in the WeChat admin console
      app_id: ...
      app_secret: ...
      encoding_aes_key: ... # optional: enables safe mode
      api_base_url: https://api.weixin.qq.com/cgi-bin/
      reply_seconds: 4.5
      burst: 20             # messages per user (channels/limits.py)
      per_minute: 60
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections import OrderedDict
from typing import Any, Awaitable, Callable, Dict, NamedTuple

from rasa.core.channels.channel import (
    CollectingOutputChannel,
    InputChannel,
    OutputChannel,
    UserMessage,
)
from sanic import Blueprint, response
from sanic.request import Request
from sanic.response import HTTPResponse
from wechatpy import parse_message
from wechatpy.client import WeChatClient
from wechatpy.crypto import WeChatCrypto
from wechatpy.exceptions import InvalidSignatureException, WeChatClientException
from wechatpy.replies import TextReply
from wechatpy.utils import check_signature

from channels import heard_check, notices
from channels.limits import SenderRateLimit, refusal
from channels.rendering import as_plain_text
from channels.speech_client import Heard, SpeechClient, SpeechServiceError
from common.privacy import mask_personal_data

logger = logging.getLogger(__name__)

MAX_BODY_BYTES = 64 * 1024
MAX_CLOCK_SKEW_SECONDS = 300
PASSIVE_REPLY_MAX_BYTES = 2000  # WeChat truncates longer passive text replies
_HOSTILE_XML = (b"<!doctype", b"<!entity", b"<!element", b"<!attlist")
UNSUPPORTED = notices.in_languages(notices.UNSUPPORTED)
NOT_HEARD = notices.in_languages(notices.NOT_HEARD)
BOT_FAILED = ("抱歉，系统暂时出了点问题，请稍后再试，或拨打 12345 政务服务热线。\n"
              "Sorry, something went wrong on our side. Please try again shortly, "
              "or call the 12345 hotline.")
WELCOME_PAYLOAD = "/greet"


class Said(NamedTuple):
    """What a message gives the bot: its text, or None when there is none to read: a voice
    message WeChat did not transcribe (`voice` True; the speech service may still hear it) or
    a kind of message the assistant cannot read."""

    text: str | None
    voice: bool = False

    @property
    def fixed_reply(self) -> str:
        """The answer when there is no text and nothing more can be done."""
        return NOT_HEARD if self.voice else UNSUPPORTED


class ApiClient(WeChatClient):
    """wechatpy's client, but with the API address from configuration (the tests point it at a
    local fake of WeChat's servers)."""

    def __init__(self, appid: str, secret: str, base_url: str) -> None:
        super().__init__(appid, secret, timeout=10)
        self.API_BASE_URL = base_url.rstrip("/") + "/"

    def fetch_access_token(self) -> Dict[str, Any]:
        return self._fetch_access_token(
            url=self.API_BASE_URL + "token",
            params={"grant_type": "client_credential", "appid": self.appid,
                    "secret": self.secret},
        )


class WeChatOutput(OutputChannel):
    """Messages outside a passive reply (e.g. from staff during a handoff) go through the
    customer-service message API."""

    def __init__(self, client: ApiClient) -> None:
        self.client = client

    @classmethod
    def name(cls) -> str:
        return "wechat"

    async def send_response(self, recipient_id: str, message: Dict[str, Any]) -> None:
        text = as_plain_text([message])
        if text:
            openid = recipient_id.removeprefix(f"{self.name()}:")
            await asyncio.get_running_loop().run_in_executor(
                None, self.client.message.send_text, openid, text)


class RecentlySeen:
    """Bounded memory of recent keys (nonces, message ids) for replay and retry detection."""

    def __init__(self, ttl_seconds: float, limit: int = 10000) -> None:
        self._ttl, self._limit = ttl_seconds, limit
        self._seen: OrderedDict[str, float] = OrderedDict()

    def add(self, key: str) -> bool:
        """Remember `key`; False if it was already seen within the time-to-live."""
        now = time.monotonic()
        while self._seen and (next(iter(self._seen.values())) < now - self._ttl
                              or len(self._seen) > self._limit):
            self._seen.popitem(last=False)
        if key in self._seen:
            return False
        self._seen[key] = now
        return True


class WeChatInput(InputChannel):
    @classmethod
    def name(cls) -> str:
        return "wechat"

    @classmethod
    def from_credentials(cls, credentials: Dict[str, Any] | None) -> InputChannel:
        if not credentials or not credentials.get("token"):
            cls.raise_missing_credentials_exception()
        return cls(
            token=str(credentials["token"]),
            app_id=str(credentials.get("app_id") or ""),
            app_secret=str(credentials.get("app_secret") or ""),
            encoding_aes_key=credentials.get("encoding_aes_key") or None,
            api_base_url=credentials.get("api_base_url") or "https://api.weixin.qq.com/cgi-bin/",
            reply_seconds=float(credentials.get("reply_seconds") or 4.5),
            speech_url=credentials.get("speech_url") or None,
            limits=SenderRateLimit.from_credentials(credentials),
        )

    def __init__(self, token: str, app_id: str, app_secret: str,
                 encoding_aes_key: str | None, api_base_url: str,
                 reply_seconds: float = 4.5, speech_url: str | None = None,
                 limits: SenderRateLimit | None = None) -> None:
        self.token, self.app_id = token, app_id
        self.crypto = WeChatCrypto(token, encoding_aes_key, app_id) if encoding_aes_key else None
        self.client = ApiClient(app_id, app_secret, api_base_url)
        self.reply_seconds = reply_seconds
        # Voice messages WeChat did not transcribe (accounts without its speech recognition)
        # are downloaded (AMR) and recognised by our own speech service.
        self.speech = SpeechClient(speech_url, timeout=60) if speech_url else None
        self.nonces = RecentlySeen(MAX_CLOCK_SKEW_SECONDS * 2)
        self.message_ids = RecentlySeen(60)
        self.limits = limits or SenderRateLimit()
        self._pending: set = set()

    # --- request checks -------------------------------------------------------------------

    def _check_request(self, request: Request) -> HTTPResponse | None:
        """An error response if the request must not reach the bot, else None."""
        timestamp, nonce = request.args.get("timestamp", ""), request.args.get("nonce", "")
        try:
            check_signature(self.token, request.args.get("signature", ""), timestamp, nonce)
        except InvalidSignatureException:
            return response.text("invalid signature", status=403)
        if not timestamp.isdigit() or abs(time.time() - int(timestamp)) > MAX_CLOCK_SKEW_SECONDS:
            return response.text("stale timestamp", status=403)
        if request.method == "POST" and not self.nonces.add(f"{timestamp}:{nonce}"):
            return response.text("replayed request", status=403)
        return None

    def _message_xml(self, request: Request) -> bytes | HTTPResponse:
        body = request.body or b""
        if len(body) > MAX_BODY_BYTES:
            return response.text("body too large", status=413)
        if self.crypto is not None:
            if _is_hostile(body):
                return response.text("malformed XML", status=400)
            try:
                body = self.crypto.decrypt_message(
                    body, request.args.get("msg_signature", ""),
                    request.args.get("timestamp", ""), request.args.get("nonce", ""))
            except InvalidSignatureException:
                return response.text("invalid message signature", status=403)
            except Exception:
                return response.text("cannot decrypt message", status=400)
            body = body.encode() if isinstance(body, str) else body
        if _is_hostile(body):
            return response.text("malformed XML", status=400)
        return body

    # --- replies --------------------------------------------------------------------------

    def _reply(self, message: Any, text: str, request: Request) -> HTTPResponse:
        xml = TextReply(message=message, content=text).render()
        if self.crypto is not None:
            xml = self.crypto.encrypt_message(xml, request.args.get("nonce", ""),
                                              request.args.get("timestamp"))
        return response.text(xml, content_type="application/xml")

    async def _send_later(self, openid: str, task: asyncio.Task[Any],
                          collector: CollectingOutputChannel) -> None:
        """The slow path: wait for the bot, then use the customer-service message API."""
        try:
            try:
                await task
                text = as_plain_text(collector.messages)
            except Exception:
                logger.exception("the bot failed on a WeChat message")
                text = BOT_FAILED
            if text:
                await asyncio.get_running_loop().run_in_executor(
                    None, self.client.message.send_text, openid, text)
        except (WeChatClientException, OSError):
            logger.exception("customer-service message to …%s failed", openid[-6:])

    def blueprint(self, on_new_message: Callable[[UserMessage], Awaitable[Any]]) -> Blueprint:
        wechat = Blueprint("wechat_webhook", __name__)

        @wechat.route("/", methods=["GET"])
        async def health(_: Request) -> HTTPResponse:
            return response.json({"status": "ok"})

        @wechat.route("/webhook", methods=["GET"])
        async def verify_url(request: Request) -> HTTPResponse:
            """WeChat's URL check: echo `echostr` if the signature is ours."""
            return self._check_request(request) or response.text(request.args.get("echostr", ""))

        @wechat.route("/webhook", methods=["POST"])
        async def receive(request: Request) -> HTTPResponse:
            refused = self._check_request(request)
            if refused is not None:
                return refused
            xml = self._message_xml(request)
            if isinstance(xml, HTTPResponse):
                return xml
            try:
                message = parse_message(xml)
            except Exception:
                return response.text("malformed XML", status=400)
            if message is None or not getattr(message, "source", None):
                return response.text("malformed message", status=400)
            if getattr(message, "id", None) and not self.message_ids.add(str(message.id)):
                return response.text("success")  # WeChat's retry of a message in progress

            said = self._said(message)
            if said is None:  # unsubscribe and other events need no answer
                return response.text("success")
            to_recognise = said.text is None and said.voice and self.speech is not None
            if said.text is None and not to_recognise:
                return self._reply(message, said.fixed_reply, request)
            text = said.text or ""
            refused = self.limits.check(message.source, text)
            if refused:
                return self._reply(message, refusal(refused, text), request)
            collector = CollectingOutputChannel()
            task = asyncio.ensure_future(self._answer(
                message, None if to_recognise else text, collector, on_new_message,
                request.app.ctx.agent if self.speech is not None else None))
            done, _ = await asyncio.wait({task}, timeout=self.reply_seconds)
            if task in done and not task.exception():
                answer = as_plain_text(collector.messages)
                if len(answer.encode()) <= PASSIVE_REPLY_MAX_BYTES:
                    return self._reply(message, answer, request) if answer else \
                        response.text("success")
            later = asyncio.ensure_future(self._send_later(message.source, task, collector))
            self._pending.add(later)
            later.add_done_callback(self._pending.discard)
            return response.text("success")

        return wechat

    def get_output_channel(self) -> OutputChannel:
        return WeChatOutput(self.client)

    async def _answer(self, message: Any, text: str | None,
                      collector: CollectingOutputChannel,
                      on_new_message: Callable[[UserMessage], Awaitable[Any]],
                      agent: Any) -> None:
        """Ask the bot; `text` None means a voice message still to be recognised (in here,
        so a slow recognition falls to the customer-service path like a slow answer). What
        the recogniser is unsure of is read back first (channels/heard_check.py), and the
        next message may answer that read-back."""
        sender = f"wechat:{message.source}"
        if text is None:
            heard = await self._recognise(message)
            if heard is None:
                await collector.send_text_message(message.source, NOT_HEARD)
                return
            if heard.quality != "ok":
                await collector.send_text_message(
                    message.source, await heard_check.read_back(agent, sender, heard))
                return
            text = heard.text
        if self.speech is not None:
            settled = await heard_check.settle(agent, sender, text)
            if settled.text is None:
                await collector.send_text_message(message.source, settled.reply)
                return
            text = settled.text
        logger.info("wechat message from …%s: %s", message.source[-6:],
                    mask_personal_data(text)[:80])
        await on_new_message(UserMessage(
            text, collector, sender, input_channel=self.name(),
            metadata={"wechat_message_type": message.type}))

    async def _recognise(self, message: Any) -> Heard | None:
        """What a voice message's audio says (fetched with the media API), or None."""
        media_id = getattr(message, "media_id", None)
        if not media_id:
            return None
        try:
            media = await asyncio.get_running_loop().run_in_executor(
                None, self.client.media.download, media_id)
            audio = getattr(media, "content", None)
            if not audio:
                return None
            heard = await self.speech.hear(audio, None)
            return heard if heard.text.strip() else None
        except (WeChatClientException, OSError, SpeechServiceError) as error:
            logger.warning("voice message from …%s not recognised: %s",
                           message.source[-6:], error)
            return None

    @staticmethod
    def _said(message: Any) -> Said | None:
        """What the citizen said: text, recognised voice, or the welcome on subscribe; None
        for events that need no answer."""
        if message.type == "text":
            return Said((message.content or "").strip() or None)
        if message.type == "voice":
            return Said((message.recognition or "").strip() or None, voice=True)
        if message.type == "event":
            return Said(WELCOME_PAYLOAD) if getattr(message, "event", "") == "subscribe" else None
        return Said(None)


def _is_hostile(xml: bytes) -> bool:
    """DOCTYPE / ENTITY declarations have no place in WeChat messages: refuse them outright
    rather than trusting the parser with entity expansion or external entities."""
    lowered = xml.lower()
    return any(marker in lowered for marker in _HOSTILE_XML)
