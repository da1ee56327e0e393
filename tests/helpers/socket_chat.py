"""A Socket.IO client doing what the web chat page does, for the tests."""

from __future__ import annotations

import asyncio

import socketio


class Citizen:
    """The web chat page's side of Socket.IO: on every (re)connection a session_request with
    the session id and key the channel issued (none at first), then user_uttered / bot_uttered.
    `session` may start as someone else's {session_id, session_key}, as an attacker would."""

    def __init__(self, transports: list[str] | None = None, reconnection: bool = False,
                 session: dict | None = None) -> None:
        self.client = socketio.AsyncClient(reconnection=reconnection, reconnection_delay=0.5,
                                           reconnection_delay_max=2)
        self.transports = transports
        self.session: dict = dict(session or {})
        self.inbox: asyncio.Queue = asyncio.Queue()
        self.messages: list[dict] = []  # every bot_uttered, as received
        self.confirmed = asyncio.Event()
        self.connects = 0
        self.disconnected = asyncio.Event()
        self.client.on("bot_uttered", self._uttered)
        self.client.on("session_confirm", self._confirmed)
        self.client.on("connect", self._connected)
        self.client.on("disconnect", lambda *_: self.disconnected.set())

    @property
    def session_id(self) -> str:
        return self.session["session_id"]

    def _uttered(self, data: dict) -> None:
        self.messages.append(data)
        self.inbox.put_nowait(data.get("text"))

    def _confirmed(self, data: dict) -> None:
        self.session = {"session_id": data["session_id"], "session_key": data["session_key"]}
        self.confirmed.set()

    async def _connected(self) -> None:
        self.connects += 1
        self.confirmed.clear()
        await self.client.emit("session_request", self.session)

    async def connect(self, url: str) -> None:
        await self.client.connect(url, socketio_path="/socket.io", wait_timeout=30,
                                  transports=self.transports)
        await asyncio.wait_for(self.confirmed.wait(), 15)

    async def send(self, text: str, session_id: str | None = None) -> None:
        await self.client.emit("user_uttered", {
            "message": text, "session_id": session_id or self.session_id})

    async def say(self, text: str) -> list[str]:
        await self.send(text)
        return await self.replies()

    async def replies(self, first_within: float = 60) -> list[str]:
        batch = [await asyncio.wait_for(self.inbox.get(), first_within)]
        while True:  # a turn may carry several messages
            try:
                batch.append(await asyncio.wait_for(self.inbox.get(), 1.0))
            except asyncio.TimeoutError:
                return batch

    async def close(self) -> None:
        await self.client.disconnect()
