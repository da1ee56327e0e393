"""A small HTTP load balancer for production mode: round robin over identical instances, and a
request whose instance is down is retried on the next one, so a citizen never notices one Rasa
or action server going away. `python -m stack.balancer --port 5005 --upstream URL …`

Plain HTTP only (the REST channel, messaging webhooks, the action-server webhook, Rasa's API).
Socket.IO sessions live in one Rasa process, so the web chat page connects to a single Rasa
instance (see README "Production mode"); a balancer with sticky sessions (nginx ip_hash) can
take that role across machines.
"""

from __future__ import annotations

import argparse
import itertools
import logging
from collections.abc import AsyncIterator

import aiohttp
from aiohttp import web

from stack import logs

logger = logging.getLogger("stack.balancer")  # not "__main__" when run with -m
UPSTREAMS = web.AppKey("upstreams", list)
CLIENT = web.AppKey("client", aiohttp.ClientSession)
TURN = web.AppKey("turn", itertools.count)
HOP_BY_HOP = {"connection", "keep-alive", "proxy-authenticate", "proxy-authorization", "te",
              "trailers", "transfer-encoding", "upgrade", "host", "content-length"}
MAX_BODY = 2 * 1024 * 1024


async def forward(request: web.Request) -> web.StreamResponse:
    upstreams: list[str] = request.app[UPSTREAMS]
    start = next(request.app[TURN])
    body = await request.read()
    headers = {k: v for k, v in request.headers.items() if k.lower() not in HOP_BY_HOP}
    for offset in range(len(upstreams)):
        upstream = upstreams[(start + offset) % len(upstreams)]
        try:
            async with request.app[CLIENT].request(
                    request.method, upstream + request.path_qs, data=body, headers=headers,
                    allow_redirects=False) as reply:
                payload = await reply.read()
                kept = {k: v for k, v in reply.headers.items() if k.lower() not in HOP_BY_HOP
                        and k.lower() != "content-encoding"}
                return web.Response(status=reply.status, body=payload, headers=kept)
        except (aiohttp.ClientConnectionError, aiohttp.ServerDisconnectedError):
            logger.warning("%s is not answering; trying the next instance", upstream)
    return web.json_response({"error": "unavailable",
                              "message": "服务暂时不可用，请稍后再试。 / The service is "
                                         "temporarily unavailable; please try again."},
                             status=503)


async def _client(app: web.Application) -> AsyncIterator[None]:
    timeout = aiohttp.ClientTimeout(total=120, sock_connect=3)
    async with aiohttp.ClientSession(timeout=timeout, auto_decompress=False) as client:
        app[CLIENT] = client
        yield


def create_balancer(upstreams: list[str]) -> web.Application:
    if not upstreams:
        raise ValueError("the balancer needs at least one upstream")
    app = web.Application(client_max_size=MAX_BODY)
    app[UPSTREAMS] = [url.rstrip("/") for url in upstreams]
    app[TURN] = itertools.count()
    app.cleanup_ctx.append(_client)
    app.router.add_route("*", "/{tail:.*}", forward)
    return app


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--upstream", action="append", required=True)
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
    web.run_app(create_balancer(args.upstream), host=args.host, port=args.port, print=None,
                **options)


if __name__ == "__main__":
    main()
