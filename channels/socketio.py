"""Rasa's Socket.IO channel (what the web chat page talks to), able to span several Rasa
instances.

Without `redis_url` (embedded mode, `make run`) this is exactly Rasa's `SocketIOInput`.

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
      redis_url: redis://127.0.0.1:6379/0      # production mode only
      redis_channel: gov:socketio
"""

from __future__ import annotations

import json
import logging
from typing import Any, AsyncIterator, Awaitable, Callable, Dict

from rasa.core.channels.channel import InputChannel, UserMessage
from rasa.core.channels.socketio import SocketIOInput
from redis.exceptions import RedisError
from sanic import Blueprint
from socketio import AsyncRedisManager

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
        channel = super().from_credentials(credentials)
        channel.redis_url, channel.redis_channel = redis_url, redis_channel
        return channel

    def __init__(self, *args: Any, redis_url: str | None = None,
                 redis_channel: str = "socketio", **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.redis_url, self.redis_channel = redis_url, redis_channel

    def blueprint(self, on_new_message: Callable[[UserMessage], Awaitable[Any]]) -> Blueprint:
        socketio_webhook = super().blueprint(on_new_message)
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
