"""Rasa's Socket.IO channel (what the web chat page talks to): sessions only their page can
use, the limits every channel has, and able to span several Rasa instances.

Sessions. Rasa's channel let any socket join any conversation by naming its session id, and
inject messages into it without even asking. Here a session is issued by the server: a
`session_request` without a valid `{session_id, session_key}` gets a new id ("socketio:…")
and its key (`channels/conversation_keys.py`: an HMAC under the server key, so any instance
checks it), both sent back in `session_confirm`; the page keeps them (localStorage), and a
reload presents both to go on with the same conversation. Only a socket that proved a session
joins its room (receives its replies), and `user_uttered` is accepted only for the session the
socket proved — otherwise a bilingual `bot_uttered` error (`error: "not_your_session"`).

Limits (channels/limits.py), before the bot sees anything: frames over 64 KB close the
connection (engine.io's own limit, 1 MB by default); text over GOV_MAX_MESSAGE_CHARS, and
messages beyond the per-session and per-socket rate limit, get a bilingual `bot_uttered` with
`error` set and never reach Rasa.

Without `redis_url` (embedded mode, `make run`) emits stay in this process, as in Rasa.

With `redis_url` (production mode: the Redis of the lock store, README "Production mode") the
Socket.IO server's client manager becomes python-socketio's `AsyncRedisManager`: every emit —
a bot reply, a staff reply sent through Rasa's `/conversations/{id}/execute?output_channel=
latest` — is published on the Redis channel `redis_channel`, and each Rasa instance delivers it
to the sockets connected to it. A staff reply handled by instance 2 thus reaches the citizen
whose socket is on instance 1 (with `session_persistence` a conversation is a Socket.IO room
named after its session id, so it is found wherever the citizen reconnected). Redis pub/sub
channels are shared by all of a server's databases: the stack names the channel after the
deployment's key prefix (`<GOV_REDIS_PREFIX>:socketio`) so two deployments never cross.

The hook is the smallest one: Rasa's `blueprint()` creates the `AsyncServer`; right after it
the manager is swapped (`set_server`, as `AsyncServer.__init__` would do) and, once the server
runs, initialised, so each instance listens on the channel before its first client arrives.

Two changes to python-socketio's manager:
- messages on the channel are JSON, not pickle (python-socketio 5.8 unpickles whatever arrives
  on the channel, so anyone able to publish to Redis could run code in Rasa);
- if Redis cannot be reached (or nobody listens, as just after Redis restarted), an emit is
  delivered to this instance's own sockets instead of being dropped: the answer to a citizen's
  message goes out over the socket the message came in on, which is on this instance (while
  Redis is down, citizens get an apology: README "Production mode").

credentials (written by the stack, stack/credentials.py):
    channels.socketio.SocketIOChannel:
      user_message_evt: user_uttered
      bot_message_evt: bot_uttered
      session_persistence: true
      burst: 20                                # per session and per socket
      per_minute: 60
      redis_url: redis://127.0.0.1:6379/0      # production mode only
      redis_channel: gov:socketio
"""

from __future__ import annotations

import json
import logging
from typing import Any, AsyncIterator, Awaitable, Callable, Dict

from rasa.core.channels.channel import InputChannel, UserMessage
from rasa.core.channels.socketio import SocketIOInput, SocketIOOutput
from redis.exceptions import RedisError
from sanic import Blueprint
from socketio import AsyncRedisManager, AsyncServer

from channels.conversation_keys import ConversationKeys
from channels.limits import SenderRateLimit, refusal
from channels.rest import MAX_BODY_BYTES, clean_text

logger = logging.getLogger(__name__)


class _QuietLogger(logging.LoggerAdapter):
    """python-socketio logs one INFO line per message on the channel: those go to DEBUG."""

    def info(self, msg: Any, *args: Any, **kwargs: Any) -> None:
        self.debug(msg, *args, **kwargs)


class RedisQueueManager(AsyncRedisManager):
    """AsyncRedisManager with JSON on the channel and local delivery when Redis is down."""

    def __init__(self, url: str, channel: str) -> None:
        super().__init__(url, channel=channel, logger=_QuietLogger(logger, {}),
                         redis_options={"socket_connect_timeout": 3})

    async def _publish(self, data: Dict[str, Any]) -> Any:
        payload = json.dumps(data, ensure_ascii=False)
        problem = "nobody listens on the channel"  # e.g. just after Redis restarted
        for attempt in range(2):
            try:
                if attempt:
                    self._redis_connect()
                receivers = await self.redis.publish(self.channel, payload)
                if receivers:
                    return receivers
                break
            except RedisError as error:
                problem = f"Redis unreachable: {error}"
        logger.warning("%s; delivering %s to this instance's sockets only", problem,
                       data.get("method"))
        handlers = {"emit": self._handle_emit, "disconnect": self._handle_disconnect,
                    "close_room": self._handle_close_room}
        if data.get("method") in handlers and self.server is not None:
            await handlers[data["method"]](data)
        return None

    async def _listen(self) -> AsyncIterator[Dict[str, Any]]:
        async for message in super()._listen():
            try:
                data = json.loads(message)
            except (ValueError, UnicodeDecodeError):
                logger.warning("ignored a message on %s that is not JSON", self.channel)
                continue
            if isinstance(data, dict):  # dicts are used as they are, never unpickled
                yield data


class SocketIOChannel(SocketIOInput):
    @classmethod
    def name(cls) -> str:
        return "socketio"  # conversations' latest channel stays "socketio"

    @classmethod
    def from_credentials(cls, credentials: Dict[str, Any] | None) -> InputChannel:
        credentials = dict(credentials or {})
        redis_url = credentials.pop("redis_url", None) or None
        redis_channel = credentials.pop("redis_channel", None) or "socketio"
        limits = SenderRateLimit.from_credentials(
            {key: credentials.pop(key, None) for key in ("burst", "per_minute")})
        channel = super().from_credentials(credentials)
        channel.redis_url, channel.redis_channel = redis_url, redis_channel
        channel.limits = limits
        return channel

    def __init__(self, *args: Any, redis_url: str | None = None,
                 redis_channel: str = "socketio", limits: SenderRateLimit | None = None,
                 **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.redis_url, self.redis_channel = redis_url, redis_channel
        self.limits = limits or SenderRateLimit()
        self.keys = ConversationKeys(self.name())
        # The session each socket connected to this instance proved (sockets live on one
        # instance, so this is per process by nature; the keys themselves are not).
        self._owned: Dict[str, str] = {}

    def blueprint(self, on_new_message: Callable[[UserMessage], Awaitable[Any]]) -> Blueprint:
        socketio_webhook = super().blueprint(on_new_message)
        self.sio.eio.max_http_buffer_size = MAX_BODY_BYTES
        self._own_sessions(self.sio, on_new_message)
        if not self.redis_url:
            return socketio_webhook
        sio = self.sio
        manager = RedisQueueManager(self.redis_url, self.redis_channel)
        manager.set_server(sio)
        sio.manager = manager

        @socketio_webhook.listener("after_server_start")
        async def listen_to_the_channel(*_: Any) -> None:
            if not sio.manager_initialized:  # else the first connection does it
                sio.manager_initialized = True
                manager.initialize()

        logger.info("Socket.IO emits go through Redis channel %s", self.redis_channel)
        return socketio_webhook

    def _own_sessions(self, sio: AsyncServer,
                      on_new_message: Callable[[UserMessage], Awaitable[Any]]) -> None:
        """Replace Rasa's session_request, user_uttered and disconnect handlers."""

        @sio.on("session_request", namespace=self.namespace)
        async def session_request(sid: str, data: Any = None, *_: Any) -> None:
            asked = data if isinstance(data, dict) else {}
            session_id, key = asked.get("session_id"), asked.get("session_key")
            if not self.keys.holds(session_id, key):  # a new page, or someone else's id
                session_id, key = self.keys.issue()
            # Before any await: a user_uttered right behind this request sees the session.
            previous = self._owned.get(sid)
            if previous and previous != session_id:
                sio.leave_room(sid, previous, namespace=self.namespace)
            self._owned[sid] = session_id
            sio.enter_room(sid, session_id, namespace=self.namespace)
            await sio.emit("session_confirm", {"session_id": session_id, "session_key": key},
                           room=sid, namespace=self.namespace)

        @sio.on("disconnect", namespace=self.namespace)
        async def disconnect(sid: str, *_: Any) -> None:
            self._owned.pop(sid, None)

        @sio.on(self.user_message_evt, namespace=self.namespace)
        async def handle_message(sid: str, data: Any = None, *_: Any) -> None:
            data = data if isinstance(data, dict) else {}
            text, session_id = data.get("message"), self._owned.get(sid)
            if not isinstance(text, str):
                return await self._refuse(sio, sid, "bad_request", "")
            if session_id is None or data.get("session_id") != session_id:
                return await self._refuse(sio, sid, "not_your_session", text)
            refused = self.limits.check(session_id, text) or (
                None if self.limits.allow(f"socket {sid}") else "too_many")
            if refused:
                return await self._refuse(sio, sid, refused, text)
            metadata = data.get(self.metadata_key)
            await on_new_message(UserMessage(
                clean_text(text), SocketIOOutput(sio, self.bot_message_evt), session_id,
                input_channel=self.name(),
                metadata=metadata if isinstance(metadata, dict) else None))

    async def _refuse(self, sio: AsyncServer, sid: str, key: str, text: str) -> None:
        """Tell this socket only, the way the page shows bot messages."""
        await sio.emit(self.bot_message_evt, {"text": refusal(key, text), "error": key},
                       room=sid, namespace=self.namespace)
