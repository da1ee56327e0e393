"""A small load balancer for production mode: round robin over identical instances, and a
request whose instance is down is retried on the next one, so a citizen never notices one Rasa
or action server going away. `python -m services.balancer --port 5005 --upstream URL …`

Health: an instance that refuses a connection, or fails its health check (`--health-path`,
every `--health-interval` s; two failures in a row) is out of service: it gets no requests
until a health check passes again — a restarted Rasa instance only once its model is loaded.
If every instance is out, each is still tried in turn. One log line per change.

Plain HTTP (the REST channel, messaging webhooks, the action-server webhook, Rasa's API) goes
round robin, request by request. Socket.IO (`/socket.io/`, the web chat page) is proxied too:

- A WebSocket is one upstream connection for its whole life: the upgrade goes to the next
  instance in turn (the next one again if that one refuses the connection), then frames are
  relayed both ways until either side closes; the close (and its code) is passed on to the
  other side. When the instance dies, the browser sees the socket close, reconnects through
  the balancer, lands on a live instance and asks for its session again: conversations are
  keyed by the page's session id and live in PostgreSQL, so the citizen carries on.
- Long-polling (the fallback transport, and the first requests of a client that upgrades
  later) is a series of requests for one engine.io session, which exists in one process only:
  they must all reach that process. The handshake (a request without `sid`) goes round robin;
  the balancer reads the session id from the instance's answer and sends every later request
  carrying that `sid` — polls, posts and the WebSocket upgrade — to the same instance. A `sid`
  it does not know (forgotten after 2 minutes unused, or its instance gone) gets engine.io's
  own "Session ID unknown" (400), and the client starts a new session on a live instance.

  Why by session and not by a hash of the client address (nginx `ip_hash`): many citizens
  reach a government site from behind one address (an office, a carrier's NAT), and ip_hash
  would put them all on one instance; a dead instance's clients would keep hashing to it; and
  adding an instance would move everyone's sessions. The price is a table of live sessions in
  the balancer, so with several balancers in front of the same instances a client has to stay
  with one balancer (one balancer tier here, or ip_hash at the tier in front of it).

A request is re-sent whole to the next instance when its instance refuses the connection or
drops it unanswered (killed mid-turn), with the same `X-Request-ID` on every attempt (the
balancer's own, replacing any the client sent): Rasa answers a turn it had already handled
from the stored conversation instead of handling it twice (common/request_ids.py).

Delivery across instances is not the balancer's job: a reply may be produced by any instance
(a staff reply arrives through Rasa's API on whichever instance the balancer picks), and the
Socket.IO channel publishes it through Redis to the instance holding the citizen's socket
(channels/socketio.py).
"""

from __future__ import annotations

import argparse
import asyncio
import itertools
import logging
import re
import time
from collections import OrderedDict
from collections.abc import AsyncIterator

import aiohttp
from aiohttp import web

from common import logs
from common.request_ids import HEADER as REQUEST_ID
from common.request_ids import new_request_id

logger = logging.getLogger("services.balancer")  # not "__main__" when run with -m
UPSTREAMS = web.AppKey("upstreams", list)
CLIENT = web.AppKey("client", aiohttp.ClientSession)
WS_CLIENT = web.AppKey("ws_client", aiohttp.ClientSession)
TURN = web.AppKey("turn", itertools.count)
HOP_BY_HOP = {"connection", "keep-alive", "proxy-authenticate", "proxy-authorization", "te",
              "trailers", "transfer-encoding", "upgrade", "host", "content-length"}
MAX_BODY = 2 * 1024 * 1024
SOCKETIO_PREFIX = "/socket.io/"
HANDSHAKE_SECONDS = 15
# engine.io's own answer to a request for a session it does not hold
SESSION_UNKNOWN = {"code": 1, "message": "Session ID unknown"}
# close codes that say "no close frame came" and may not be sent on: the instance went away
UNSENDABLE_CLOSE = {None, 1005, 1006, 1015}
_SID = re.compile(rb'"sid"\s*:\s*"([^"]+)"')


class SessionRoutes:
    """engine.io session id → the instance holding it, learned from the handshakes' answers.
    A session not asked about for `idle` seconds is forgotten (a polling client asks at least
    every ping interval, 25 s; an upgraded one needs its route only for the upgrade)."""

    def __init__(self, idle: float = 120.0, limit: int = 200_000) -> None:
        self.idle, self.limit = idle, limit
        self._routes: OrderedDict[str, tuple[str, float]] = OrderedDict()

    def learn(self, sid: str, upstream: str) -> None:
        now = time.monotonic()
        self._routes[sid] = (upstream, now)
        self._routes.move_to_end(sid)
        while self._routes:
            _, seen = next(iter(self._routes.values()))
            if now - seen <= self.idle and len(self._routes) <= self.limit:
                break
            self._routes.popitem(last=False)

    def find(self, sid: str) -> str | None:
        upstream, seen = self._routes.get(sid, (None, 0.0))
        if upstream is None or time.monotonic() - seen > self.idle:
            self._routes.pop(sid, None)
            return None
        self.learn(sid, upstream)
        return upstream

    def forget(self, sid: str) -> None:
        self._routes.pop(sid, None)

    def __len__(self) -> int:
        return len(self._routes)


class Health:
    """Which instances are in service. Out of service: refused a connection (at once), or
    failed `fall` health checks in a row; back with one passing check. Without health checks
    an instance is tried again `retry_after` seconds after it refused."""

    def __init__(self, upstreams: list[str], path: str | None, fall: int = 2,
                 retry_after: float = 5.0) -> None:
        self.upstreams, self.path, self.fall, self.retry_after = upstreams, path, fall, \
            retry_after
        self._out: dict[str, float] = {}  # upstream → since when
        self._failed_checks: dict[str, int] = {}

    def in_service(self, upstream: str) -> bool:
        since = self._out.get(upstream)
        if since is not None and self.path is None \
                and time.monotonic() - since > self.retry_after:
            self.back(upstream)
        return upstream not in self._out

    def order(self, candidates: list[str]) -> list[str]:
        """The candidates in service, in their order; all of them if none is."""
        return [u for u in candidates if self.in_service(u)] or candidates

    def out(self, upstream: str, reason: str) -> None:
        if upstream not in self._out:
            self._out[upstream] = time.monotonic()
            logger.warning("%s out of service: %s", upstream, reason,
                           extra={"upstream": upstream, "in_service": self.count()})

    def back(self, upstream: str) -> None:
        self._failed_checks.pop(upstream, None)
        since = self._out.pop(upstream, None)
        if since is not None:
            logger.info("%s back in service after %.1f s", upstream, time.monotonic() - since,
                        extra={"upstream": upstream, "in_service": self.count()})

    def checked(self, upstream: str, passed: bool, reason: str = "") -> None:
        if passed:
            self.back(upstream)
            return
        failures = self._failed_checks[upstream] = self._failed_checks.get(upstream, 0) + 1
        if failures >= self.fall:
            self.out(upstream, f"health check failed ({reason})")

    def count(self) -> int:
        return sum(u not in self._out for u in self.upstreams)


HEALTH = web.AppKey("health", Health)
HEALTH_INTERVAL = web.AppKey("health_interval", float)


async def _check_health(app: web.Application) -> AsyncIterator[None]:
    """Probe every instance's health path every interval, in the background."""
    health = app[HEALTH]

    async def probe(upstream: str) -> None:
        try:
            async with app[CLIENT].get(upstream + health.path,
                                       timeout=aiohttp.ClientTimeout(total=3)) as reply:
                await reply.read()
                health.checked(upstream, reply.status == 200, f"HTTP {reply.status}")
        except (aiohttp.ClientError, asyncio.TimeoutError) as error:
            health.checked(upstream, False, type(error).__name__)

    async def loop() -> None:
        while True:
            await asyncio.gather(*(probe(u) for u in health.upstreams))
            await asyncio.sleep(app[HEALTH_INTERVAL])

    task = asyncio.create_task(loop()) if health.path else None
    yield
    if task is not None:
        task.cancel()


SESSIONS = web.AppKey("sessions", SessionRoutes)
SOCKETS = web.AppKey("sockets", set)  # the open client-side WebSockets, closed at shutdown


def _in_turn(request: web.Request) -> list[str]:
    """Every instance in service, starting with the next one in the round."""
    upstreams: list[str] = request.app[UPSTREAMS]
    start = next(request.app[TURN])
    return request.app[HEALTH].order(
        [upstreams[(start + i) % len(upstreams)] for i in range(len(upstreams))])


def _unavailable() -> web.Response:
    return web.json_response({"error": "unavailable",
                              "message": "服务暂时不可用，请稍后再试。 / The service is "
                                         "temporarily unavailable; please try again."},
                             status=503)


async def _proxy(request: web.Request, candidates: list[str], *,
                 keep_encoding: bool = False) -> tuple[web.Response, str | None]:
    """The first candidate that answers; the answer and who gave it (None: nobody did)."""
    body = await request.read()
    headers = {k: v for k, v in request.headers.items()
               if k.lower() not in HOP_BY_HOP and k.lower() != REQUEST_ID.lower()}
    headers[REQUEST_ID] = new_request_id()  # the same on every attempt below
    for upstream in candidates:
        try:
            async with request.app[CLIENT].request(
                    request.method, upstream + request.path_qs, data=body, headers=headers,
                    allow_redirects=False) as reply:
                payload = await reply.read()
                kept = {k: v for k, v in reply.headers.items() if k.lower() not in HOP_BY_HOP
                        and (keep_encoding or k.lower() != "content-encoding")}
                return web.Response(status=reply.status, body=payload, headers=kept), upstream
        except (aiohttp.ClientConnectionError, aiohttp.ServerDisconnectedError) as error:
            request.app[HEALTH].out(upstream, type(error).__name__)
            logger.warning("%s is not answering; trying the next instance", upstream)
    return _unavailable(), None


async def forward(request: web.Request) -> web.StreamResponse:
    if request.path.startswith(SOCKETIO_PREFIX):
        return await socketio(request)
    response, _ = await _proxy(request, _in_turn(request))
    return response


async def socketio(request: web.Request) -> web.StreamResponse:
    """Socket.IO: a session's requests to the instance holding it, WebSockets relayed."""
    sessions = request.app[SESSIONS]
    sid = request.query.get("sid")
    if sid:
        upstream = sessions.find(sid)
        if upstream is None:
            return web.json_response(SESSION_UNKNOWN, status=400)
        candidates = [upstream]  # no failover: the session exists in that process only
    else:
        candidates = _in_turn(request)
    if request.method == "GET" and request.headers.get("Upgrade", "").lower() == "websocket":
        return await relay_websocket(request, candidates, sid)
    response, upstream = await _proxy(request, candidates, keep_encoding=True)
    if sid and response.status != 200:
        sessions.forget(sid)
    elif not sid and upstream and response.status == 200 \
            and "Content-Encoding" not in response.headers:
        found = _SID.search(response.body or b"")
        if found:
            sessions.learn(found.group(1).decode("ascii", "replace"), upstream)
    return response


async def relay_websocket(request: web.Request, candidates: list[str],
                          sid: str | None) -> web.StreamResponse:
    """One upstream WebSocket for this client's, frames relayed both ways until one closes."""
    headers = {k: v for k, v in request.headers.items()
               if k.lower() not in HOP_BY_HOP and not k.lower().startswith("sec-websocket-")}
    upstream_ws, upstream = None, None
    for upstream in candidates:
        try:
            upstream_ws = await asyncio.wait_for(request.app[WS_CLIENT].ws_connect(
                upstream + request.path_qs, headers=headers, max_msg_size=MAX_BODY),
                HANDSHAKE_SECONDS)
            break
        except aiohttp.WSServerHandshakeError as refused:  # the instance answered: its call
            if sid:
                request.app[SESSIONS].forget(sid)
            status = refused.status if refused.status >= 400 else 502
            return web.Response(status=status, text=refused.message or "refused")
        except (aiohttp.ClientConnectionError, asyncio.TimeoutError) as error:
            request.app[HEALTH].out(upstream, type(error).__name__)
            logger.warning("%s is not answering; trying the next instance", upstream)
    if upstream_ws is None:
        if sid:
            request.app[SESSIONS].forget(sid)
        return _unavailable()
    client_ws = web.WebSocketResponse(max_msg_size=MAX_BODY)
    try:
        await client_ws.prepare(request)
    except Exception:
        await upstream_ws.close()
        raise
    request.app[SOCKETS].add(client_ws)
    logger.info("websocket opened", extra={"upstream": upstream})
    try:
        closed_by = await _relay(client_ws, upstream_ws)
    finally:
        request.app[SOCKETS].discard(client_ws)
        await upstream_ws.close()
    logger.info("websocket closed", extra={
        "upstream": upstream, "closed_by": closed_by,
        "code": (upstream_ws if closed_by == "upstream" else client_ws).close_code})
    return client_ws


async def _pump(source: web.WebSocketResponse | aiohttp.ClientWebSocketResponse,
                target: web.WebSocketResponse | aiohttp.ClientWebSocketResponse) -> None:
    try:
        async for message in source:
            if message.type == aiohttp.WSMsgType.TEXT:
                await target.send_str(message.data)
            elif message.type == aiohttp.WSMsgType.BINARY:
                await target.send_bytes(message.data)
            elif message.type == aiohttp.WSMsgType.ERROR:
                break
    except (ConnectionError, aiohttp.ClientError):  # the target went away meanwhile
        pass


async def _relay(client_ws: web.WebSocketResponse,
                 upstream_ws: aiohttp.ClientWebSocketResponse) -> str:
    """Relay until one side closes, close the other with the same code; who closed first."""
    up = asyncio.create_task(_pump(client_ws, upstream_ws))
    down = asyncio.create_task(_pump(upstream_ws, client_ws))
    try:
        done, _ = await asyncio.wait({up, down}, return_when=asyncio.FIRST_COMPLETED)
        if down in done:  # the instance closed, or died
            code = upstream_ws.close_code
            await client_ws.close(code=aiohttp.WSCloseCode.GOING_AWAY
                                  if code in UNSENDABLE_CLOSE else code)
        else:
            code = client_ws.close_code
            await upstream_ws.close(code=aiohttp.WSCloseCode.GOING_AWAY
                                    if code in UNSENDABLE_CLOSE else code)
        await asyncio.wait({up, down}, timeout=10)
        return "upstream" if down in done else "client"
    finally:
        for task in (up, down):
            task.cancel()


async def _client(app: web.Application) -> AsyncIterator[None]:
    timeout = aiohttp.ClientTimeout(total=120, sock_connect=3)
    # WebSockets live for hours: no total timeout; the handshake is bounded separately.
    ws_timeout = aiohttp.ClientTimeout(total=None, sock_connect=3)
    async with aiohttp.ClientSession(timeout=timeout, auto_decompress=False) as client, \
            aiohttp.ClientSession(timeout=ws_timeout) as ws_client:
        app[CLIENT], app[WS_CLIENT] = client, ws_client
        yield


async def _close_websockets(app: web.Application) -> None:
    for socket in list(app[SOCKETS]):
        await socket.close(code=aiohttp.WSCloseCode.GOING_AWAY, message=b"balancer stopping")


def create_balancer(upstreams: list[str], health_path: str | None = None,
                    health_interval: float = 2.0) -> web.Application:
    """Round robin over `upstreams`; with `health_path`, each is checked in the background."""
    if not upstreams:
        raise ValueError("the balancer needs at least one upstream")
    app = web.Application(client_max_size=MAX_BODY)
    app[UPSTREAMS] = [url.rstrip("/") for url in upstreams]
    app[HEALTH] = Health(app[UPSTREAMS], health_path)
    app[HEALTH_INTERVAL] = health_interval
    app[TURN] = itertools.count()
    app[SESSIONS] = SessionRoutes()
    app[SOCKETS] = set()
    app.cleanup_ctx.append(_client)
    app.cleanup_ctx.append(_check_health)
    app.on_shutdown.append(_close_websockets)
    app.router.add_route("*", "/{tail:.*}", forward)
    return app


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--upstream", action="append", required=True)
    parser.add_argument("--health-path", help="checked on every instance; 200 = in service")
    parser.add_argument("--health-interval", type=float, default=2.0)
    parser.add_argument("--no-access-log", action="store_true",
                        help="no line per request (the action balancer: Rasa logs every turn)")
    args = parser.parse_args()
    logs.configure("balancer")
    options = {"access_log": None} if args.no_access_log else {}
    try:  # libuv's event loop (installed for Sanic): ~15% less CPU per forwarded request
        import uvloop

        options["loop"] = uvloop.new_event_loop()
    except ImportError:
        pass
    web.run_app(create_balancer(args.upstream, args.health_path, args.health_interval),
                host=args.host, port=args.port, print=None,
                **options)


if __name__ == "__main__":
    main()
