"""The balancer's Socket.IO proxying against two tiny aiohttp upstreams: WebSockets relayed
both ways on one upstream each, closes passed on with their codes, failover when an instance
refuses connections, and long-polling kept on the instance holding the engine.io session.
Each runs against the built-in balancer (services/balancer.py) and against HAProxy with the
shipped deploy/haproxy/haproxy.cfg (skipped where Debian's haproxy is not installed)."""

from __future__ import annotations

import asyncio
import json
import os
import shutil
import subprocess
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager

import aiohttp
import pytest
from aiohttp import web

from common.settings import PROJECT_ROOT
from fakes.server import free_port
from services.balancer import create_balancer

WS_PATH = "/socket.io/?EIO=4&transport=websocket"
POLL_PATH = "/socket.io/?EIO=4&transport=polling"


class Upstream:
    """An instance: greets each WebSocket with its name, echoes frames tagged with it, closes
    with code 4000 when asked; answers engine.io-like polling handshakes with a session id and
    later polls with the name (400 for a session it does not hold)."""

    def __init__(self, name: str) -> None:
        self.name, self.port = name, free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.closes: list[int | None] = []
        self.headers: list[dict[str, str]] = []
        self.sessions: set[str] = set()
        self.runner: web.AppRunner | None = None
        self.open: list[asyncio.BaseTransport] = []
        self.turns: list[tuple[str | None, int]] = []  # (X-Request-ID, body length) received
        self.deaths = [0]  # turns still to drop unanswered (a list shared between instances)

    async def websocket(self, request: web.Request) -> web.StreamResponse:
        self.headers.append(dict(request.headers))
        self.open.append(request.transport)
        ws = web.WebSocketResponse()
        await ws.prepare(request)
        await ws.send_str(f"hello from {self.name}")
        async for message in ws:
            if message.type == aiohttp.WSMsgType.TEXT and message.data == "close please":
                await ws.close(code=4000, message=b"asked to")
            elif message.type == aiohttp.WSMsgType.TEXT:
                await ws.send_str(f"{self.name}:{message.data}")
            elif message.type == aiohttp.WSMsgType.BINARY:
                await ws.send_bytes(self.name.encode() + b":" + message.data)
        self.closes.append(ws.close_code)
        return ws

    async def socketio(self, request: web.Request) -> web.StreamResponse:
        if request.headers.get("Upgrade", "").lower() == "websocket":
            sid = request.query.get("sid")
            if sid and sid not in self.sessions:
                return web.json_response({"code": 1}, status=400)
            return await self.websocket(request)
        sid = request.query.get("sid")
        if sid is None:
            sid = f"{self.name}-{len(self.sessions)}"
            self.sessions.add(sid)
            return web.Response(text="0" + json.dumps({"sid": sid, "upgrades": ["websocket"]}))
        if sid not in self.sessions:
            return web.json_response({"code": 1, "message": "Session ID unknown"}, status=400)
        body = await request.text()
        return web.Response(text=f"{self.name} {request.method} {body}".strip())

    async def turn(self, request: web.Request) -> web.StreamResponse:
        """A Rasa turn; dropped unanswered after reading it while `deaths` says so, as an
        instance killed mid-turn."""
        body = await request.read()
        self.turns.append((request.headers.get("X-Request-ID"), len(body)))
        if self.deaths[0] > 0:
            self.deaths[0] -= 1
            request.transport.abort()
            raise asyncio.CancelledError
        return web.json_response([{"text": self.name}])

    async def start(self) -> None:
        app = web.Application(client_max_size=1 << 20)
        app.router.add_route("*", "/socket.io/", self.socketio)
        app.router.add_post("/webhooks/rest/webhook", self.turn)
        app.router.add_get("/readyz", lambda _: web.json_response({"ready": True}))
        self.runner = web.AppRunner(app, shutdown_timeout=0.5)
        await self.runner.setup()
        await web.TCPSite(self.runner, "127.0.0.1", self.port).start()

    async def stop(self) -> None:
        """Like a killed process: connections dropped without a close frame, port closed."""
        for transport in self.open:
            if transport is not None and not transport.is_closing():
                transport.abort()
        if self.runner is not None:
            await self.runner.cleanup()
            self.runner = None


@asynccontextmanager
async def builtin(a: Upstream, b: Upstream) -> AsyncIterator[str]:
    runner = web.AppRunner(create_balancer([a.url, b.url]))
    await runner.setup()
    port = free_port()
    await web.TCPSite(runner, "127.0.0.1", port).start()
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        await runner.cleanup()


HAPROXY_CFG = PROJECT_ROOT / "deploy" / "haproxy" / "haproxy.cfg"


def haproxy_environment(host: str, rasa_port: int, action_port: int, rasa: list[str],
                        actions: list[str]) -> dict[str, str]:
    """The variables deploy/haproxy/haproxy.cfg reads ("host:port" per instance)."""
    return {**os.environ, "GOV_HOST": host, "GOV_RASA_PORT": str(rasa_port),
            "GOV_ACTION_PORT": str(action_port),
            **{f"GOV_RASA_{i + 1}": url for i, url in enumerate(rasa)},
            **{f"GOV_ACTION_{i + 1}": url for i, url in enumerate(actions)}}


@asynccontextmanager
async def haproxy(a: Upstream, b: Upstream) -> AsyncIterator[str]:
    """HAProxy with the shipped configuration, `a` and `b` as the Rasa instances."""
    port = free_port()
    hosts = [u.url.removeprefix("http://") for u in (a, b)]
    process = subprocess.Popen(
        ["haproxy", "-db", "-f", str(HAPROXY_CFG)], stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        env=haproxy_environment("127.0.0.1", port, free_port(), hosts, hosts))
    try:
        async with aiohttp.ClientSession() as client:
            for _ in range(100):
                try:
                    async with client.get(f"http://127.0.0.1:{port}/readyz"):
                        break
                except aiohttp.ClientConnectionError:
                    await asyncio.sleep(0.05)
        yield f"http://127.0.0.1:{port}"
    finally:
        process.terminate()
        process.wait(10)


@pytest.fixture(params=["builtin", "haproxy"])
def balanced(request):
    if request.param == "haproxy" and not shutil.which("haproxy"):
        pytest.skip("haproxy is not installed (make test installs Debian's when root)")
    return builtin if request.param == "builtin" else haproxy


def scenario(test: Callable[[Upstream, Upstream], Awaitable[None]], *,
             start_b: bool = True) -> None:
    async def run() -> None:
        a, b = Upstream("a"), Upstream("b")
        await a.start()
        if start_b:
            await b.start()
        try:
            await test(a, b)
        finally:
            await a.stop()
            await b.stop()

    asyncio.run(asyncio.wait_for(run(), 60))


async def _eventually(check: Callable[[], bool], seconds: float = 5) -> bool:
    for _ in range(int(seconds / 0.05)):
        if check():
            return True
        await asyncio.sleep(0.05)
    return check()


def test_websocket_frames_go_both_ways_on_one_upstream_per_connection(balanced):
    async def test(a: Upstream, b: Upstream) -> None:
        async with balanced(a, b) as url, aiohttp.ClientSession() as client:
            names = []
            for _ in range(4):
                async with client.ws_connect(url + WS_PATH,
                                             headers={"Origin": "https://gov.example"}) as ws:
                    greeting = await ws.receive_str(timeout=5)
                    name = greeting.rsplit(" ", 1)[1]
                    names.append(name)
                    for text in ("你好", "second"):  # every frame to the same instance
                        await ws.send_str(text)
                        assert await ws.receive_str(timeout=5) == f"{name}:{text}"
                    await ws.send_bytes(b"\x00\x01")
                    assert await ws.receive_bytes(timeout=5) == name.encode() + b":\x00\x01"
            assert sorted(names) == ["a", "a", "b", "b"]  # round robin, connection by connection
            assert all(h.get("Origin") == "https://gov.example" for h in a.headers + b.headers)

    scenario(test)


def test_closes_are_passed_on_both_ways(balanced):
    async def test(a: Upstream, b: Upstream) -> None:
        async with balanced(a, b) as url, aiohttp.ClientSession() as client:
            ws = await client.ws_connect(url + WS_PATH)
            name = (await ws.receive_str(timeout=5)).rsplit(" ", 1)[1]
            upstream = a if name == "a" else b
            await ws.close(code=4001)  # the citizen leaves: the instance sees it, code and all
            assert await _eventually(lambda: upstream.closes == [4001]), upstream.closes

            ws = await client.ws_connect(url + WS_PATH)
            name = (await ws.receive_str(timeout=5)).rsplit(" ", 1)[1]
            await ws.send_str("close please")  # the instance closes: the client sees it
            message = await ws.receive(timeout=5)
            assert message.type == aiohttp.WSMsgType.CLOSE and message.data == 4000

    scenario(test)


def test_an_instance_that_dies_closes_its_clients_sockets(balanced):
    async def test(a: Upstream, b: Upstream) -> None:
        async with balanced(a, b) as url, aiohttp.ClientSession() as client:
            sockets = [await client.ws_connect(url + WS_PATH) for _ in range(2)]
            names = [(await ws.receive_str(timeout=5)).rsplit(" ", 1)[1] for ws in sockets]
            on_a = sockets[names.index("a")]
            await a.stop()
            message = await on_a.receive(timeout=10)
            assert message.type in (aiohttp.WSMsgType.CLOSE, aiohttp.WSMsgType.CLOSED)
            on_b = sockets[names.index("b")]  # the other instance's client is untouched
            await on_b.send_str("still here")
            assert await on_b.receive_str(timeout=5) == "b:still here"
            for _ in range(3):  # new connections find the live instance
                async with client.ws_connect(url + WS_PATH) as ws:
                    assert await ws.receive_str(timeout=5) == "hello from b"
            await on_b.close()

    scenario(test)


def test_websocket_fails_over_when_an_instance_refuses_connections(balanced):
    async def test(a: Upstream, b: Upstream) -> None:  # b never started: connection refused
        async with balanced(a, b) as url, aiohttp.ClientSession() as client:
            for _ in range(4):
                async with client.ws_connect(url + WS_PATH) as ws:
                    assert await ws.receive_str(timeout=5) == "hello from a"

    scenario(test, start_b=False)


def test_a_turn_dropped_unanswered_is_sent_again_whole_with_the_same_request_id(balanced):
    """An instance killed after reading a turn: the turn goes to the other one with its body
    and request id unchanged (Rasa answers a turn it already handled from the conversation,
    bot/retried_turns.py). The body is larger than HAProxy's default 16 kB buffer, as action
    calls are (they carry the conversation and the domain): HAProxy re-sends only what fits
    in one buffer. The id is the balancer's: a client cannot pass a turn off as an earlier one."""
    async def test(a: Upstream, b: Upstream) -> None:
        a.deaths = b.deaths = [1]
        body = {"sender": "citizen", "message": "长" * 20_000}  # 60 kB of UTF-8
        async with balanced(a, b) as url, aiohttp.ClientSession() as client:
            async with client.post(url + "/webhooks/rest/webhook", json=body,
                                   headers={"X-Request-ID": "chosen-by-the-client"}) as reply:
                assert reply.status == 200
                answered_by = (await reply.json())[0]["text"]
        turns = a.turns + b.turns
        assert len(turns) == 2 and {name for name, u in (("a", a), ("b", b)) if u.turns} \
            == {"a", "b"}, turns
        (first, first_size), (second, second_size) = turns
        assert first == second and first not in (None, "chosen-by-the-client")
        assert first_size == second_size == len(json.dumps(body).encode())
        assert answered_by in {"a", "b"}

    scenario(test)


async def open_polling_sessions(client: aiohttp.ClientSession, url: str, count: int) -> list[str]:
    """Open `count` Engine.IO long-polling sessions through the balancer; their sids."""
    sids = []
    for _ in range(count):
        async with client.get(url + POLL_PATH) as reply:
            sids.append(json.loads((await reply.text())[1:])["sid"])
    return sids


def test_long_polling_stays_on_the_instance_holding_the_session(balanced):
    async def test(a: Upstream, b: Upstream) -> None:
        async with balanced(a, b) as url, aiohttp.ClientSession() as client:
            sids = await open_polling_sessions(client, url, 4)
            assert sorted(sid[0] for sid in sids) == ["a", "a", "b", "b"]
            for _ in range(3):  # whatever else goes through the balancer meanwhile
                for sid in sids:
                    async with client.get(f"{url}{POLL_PATH}&sid={sid}") as reply:
                        assert await reply.text() == f"{sid[0]} GET"
                    async with client.post(f"{url}{POLL_PATH}&sid={sid}", data="42") as reply:
                        assert await reply.text() == f"{sid[0]} POST 42"
            # the upgrade of a polling session goes to its instance too
            async with client.ws_connect(f"{url}/socket.io/?EIO=4&transport=websocket"
                                         f"&sid={sids[0]}") as ws:
                assert await ws.receive_str(timeout=5) == f"hello from {sids[0][0]}"
            async with client.get(f"{url}{POLL_PATH}&sid=never-issued") as reply:
                assert reply.status == 400 and (await reply.json())["code"] == 1

    scenario(test)


def test_a_session_whose_instance_died_is_refused_so_the_client_starts_again(balanced):
    async def test(a: Upstream, b: Upstream) -> None:
        async with balanced(a, b) as url, aiohttp.ClientSession() as client:
            sids = await open_polling_sessions(client, url, 2)
            on_a = next(sid for sid in sids if sid.startswith("a"))
            await a.stop()
            async with client.get(f"{url}{POLL_PATH}&sid={on_a}") as reply:
                assert reply.status >= 400
            async with client.get(f"{url}{POLL_PATH}&sid={on_a}") as reply:
                assert reply.status == 400  # forgotten: engine.io's "Session ID unknown"
            for _ in range(2):  # a new handshake lands on the live instance
                async with client.get(url + POLL_PATH) as reply:
                    assert json.loads((await reply.text())[1:])["sid"].startswith("b")

    scenario(test)


class Checked:
    """A plain HTTP instance answering with its name, whose health check can be failed."""

    def __init__(self, name: str) -> None:
        self.name, self.healthy, self.port = name, True, free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.runner: web.AppRunner | None = None

    async def start(self) -> None:
        app = web.Application()
        app.router.add_get("/health", lambda _: web.Response(status=200 if self.healthy
                                                             else 503))
        app.router.add_post("/webhook", lambda _: web.Response(text=self.name))
        self.runner = web.AppRunner(app, shutdown_timeout=0.5)
        await self.runner.setup()
        await web.TCPSite(self.runner, "127.0.0.1", self.port).start()

    async def stop(self) -> None:
        await self.runner.cleanup()


def test_an_instance_failing_its_health_check_gets_nothing_until_it_passes_again():
    async def run() -> None:
        a, b = Checked("a"), Checked("b")
        await a.start()
        await b.start()
        runner = web.AppRunner(create_balancer([a.url, b.url], "/health", 0.1))
        await runner.setup()
        url = f"http://127.0.0.1:{free_port()}"
        await web.TCPSite(runner, "127.0.0.1", int(url.rsplit(":", 1)[1])).start()

        async def names(count: int = 6) -> list[str]:
            async with aiohttp.ClientSession() as client:
                return [await (await client.post(url + "/webhook")).text()
                        for _ in range(count)]

        try:
            assert sorted(await names(4)) == ["a", "a", "b", "b"]
            a.healthy = False  # e.g. restarted, its model still loading
            await asyncio.sleep(0.5)
            assert await names() == ["b"] * 6
            a.healthy = True
            await asyncio.sleep(0.5)
            assert sorted(await names(4)) == ["a", "a", "b", "b"]
            await b.stop()  # killed: refused at once, and skipped from then on
            assert await names() == ["a"] * 6
            a.healthy = False  # nobody in service: still tried rather than refused
            await asyncio.sleep(0.5)
            assert await names(2) == ["a", "a"]
        finally:
            await runner.cleanup()
            await a.stop()

    asyncio.run(asyncio.wait_for(run(), 30))
