"""aiohttp application factory for the web chat page."""

from __future__ import annotations

import json
from pathlib import Path

from aiohttp import web

STATIC_DIR = Path(__file__).resolve().parent / "static"
SOCKET_IO_CLIENT = (
    Path(__file__).resolve().parent
    / "node_modules" / "socket.io-client" / "dist" / "socket.io.min.js"
)
RASA_URL = web.AppKey("rasa_url", str)


async def index(request: web.Request) -> web.FileResponse:
    return web.FileResponse(STATIC_DIR / "index.html")


async def page_config(request: web.Request) -> web.Response:
    """Where the page's Socket.IO client should connect; injected so one build serves any host."""
    body = "window.GOV_CHAT_CONFIG = " + json.dumps({"socketUrl": request.app[RASA_URL]}) + ";"
    return web.Response(text=body, content_type="application/javascript")


async def socket_io_client(request: web.Request) -> web.FileResponse:
    if not SOCKET_IO_CLIENT.is_file():
        raise web.HTTPServiceUnavailable(
            text="socket.io client missing: run `make setup` (npm ci in webchat/)\n"
                 "缺少 socket.io 客户端：请运行 `make setup`（在 webchat/ 中执行 npm ci）"
        )
    return web.FileResponse(SOCKET_IO_CLIENT)


async def healthz(request: web.Request) -> web.Response:
    return web.json_response({"status": "ok"})


def create_app(rasa_url: str) -> web.Application:
    app = web.Application(client_max_size=64 * 1024)
    app[RASA_URL] = rasa_url
    app.router.add_get("/", index)
    app.router.add_get("/config.js", page_config)
    app.router.add_get("/vendor/socket.io.min.js", socket_io_client)
    app.router.add_get("/healthz", healthz)
    app.router.add_static("/static/", STATIC_DIR)
    return app
