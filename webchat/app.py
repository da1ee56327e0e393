"""aiohttp application factory for the web chat page."""

from __future__ import annotations

import json
from collections.abc import MutableMapping
from pathlib import Path
from urllib.parse import urlsplit

from aiohttp import web

from webchat import readiness

STATIC_DIR = Path(__file__).resolve().parent / "static"
SOCKET_IO_CLIENT = (
    Path(__file__).resolve().parent
    / "node_modules" / "socket.io-client" / "dist" / "socket.io.min.js"
)
RASA_URL = web.AppKey("rasa_url", str)
FRAME_ANCESTORS = web.AppKey("frame_ancestors", str)
VOICE_URL = web.AppKey("voice_url", str)
VOICE_WEBHOOK_PATH = "/webhooks/voice/webhook"


async def index(request: web.Request) -> web.FileResponse:
    """The chat page. Its policy allows scripts, styles and images from this server only (no
    inline code) and connections to the Rasa server's Socket.IO endpoint alone, so even markup
    that got into an answer could run nothing."""
    rasa_origin = _origin(request.app[RASA_URL])
    return web.FileResponse(STATIC_DIR / "index.html", headers={
        "Content-Security-Policy": _page_policy(request, rasa_origin, _websocket(rasa_origin)),
    })


async def page_config(request: web.Request) -> web.Response:
    """Where the page's Socket.IO client should connect; injected so one build serves any host."""
    body = "window.GOV_CHAT_CONFIG = " + json.dumps({"socketUrl": request.app[RASA_URL]}) + ";"
    return web.Response(text=body, content_type="application/javascript")


async def voice_page(request: web.Request) -> web.FileResponse:
    """The simplified voice page. Its policy allows scripts, styles and media from this server
    only (the answers' audio arrives as data: URLs) and requests to the voice channel alone."""
    policy = _page_policy(request, _origin(request.app[VOICE_URL]),
                          media="media-src 'self' data: blob:")
    return web.FileResponse(STATIC_DIR / "voice.html", headers={
        "Content-Security-Policy": policy, "Permissions-Policy": "microphone=(self)",
    })


def _page_policy(request: web.Request, *connect: str, media: str = "") -> str:
    """The pages' Content-Security-Policy: everything from this server, no inline script or
    style, requests only to this server and `connect`, framed only where configured."""
    directives = ["default-src 'self'", "script-src 'self'", "style-src 'self'",
                  "img-src 'self' data:", media,
                  " ".join(["connect-src 'self'", *filter(None, connect)]),
                  "object-src 'none'", "base-uri 'none'", "form-action 'none'",
                  "frame-ancestors " + request.app[FRAME_ANCESTORS]]
    return "; ".join(filter(None, directives))


async def voice_config(request: web.Request) -> web.Response:
    """Where the voice page posts recordings: the Rasa server's voice channel (in production,
    the balancer in front of the Rasa instances, since a voice turn needs no sticky session)."""
    body = "window.GOV_VOICE_CONFIG = " + json.dumps({"voiceUrl": request.app[VOICE_URL]}) + ";"
    return web.Response(text=body, content_type="application/javascript")


def _origin(url: str) -> str:
    """scheme://host[:port] of an absolute URL; "" for a relative one (same origin as the page)."""
    parts = urlsplit(url)
    return f"{parts.scheme}://{parts.netloc}" if parts.scheme and parts.netloc else ""


def _websocket(origin: str) -> str:
    """ws(s):// form of an http(s) origin: a policy's http source does not cover WebSocket."""
    if origin.startswith(("http://", "https://")):
        return "ws" + origin[len("http"):]
    return ""


def default_voice_url(rasa_url: str) -> str:
    return rasa_url.rstrip("/") + VOICE_WEBHOOK_PATH


async def embed_script(request: web.Request) -> web.Response:
    """The one-tag embed for other sites: loaded cross-origin, so it says so (CORS) and is
    cached only briefly, letting a new version reach the embedding sites within minutes."""
    return web.Response(
        text=(STATIC_DIR / "embed.js").read_text(encoding="utf-8"),
        content_type="application/javascript", charset="utf-8",
        headers={"Access-Control-Allow-Origin": "*", "Cache-Control": "public, max-age=300"},
    )


async def socket_io_client(request: web.Request) -> web.FileResponse:
    if not SOCKET_IO_CLIENT.is_file():
        raise web.HTTPServiceUnavailable(
            text="socket.io client missing: run `make setup` (npm ci in webchat/)\n"
                 "缺少 socket.io 客户端：请运行 `make setup`（在 webchat/ 中执行 npm ci）"
        )
    return web.FileResponse(SOCKET_IO_CLIENT)


async def healthz(request: web.Request) -> web.Response:
    return web.json_response({"status": "ok"})


@web.middleware
async def security_headers(request: web.Request, handler) -> web.StreamResponse:
    """The page is meant to be framed by government sites (embed.js), so no X-Frame-Options;
    which sites may frame it is the CSP frame-ancestors list (`*` unless configured). Refusals
    (404, 405, 413) carry the same headers."""
    try:
        response = await handler(request)
    except web.HTTPException as refusal:
        _protect(request, refusal.headers)
        raise
    _protect(request, response.headers)
    return response


def _protect(request: web.Request, headers: MutableMapping[str, str]) -> None:
    headers.setdefault("X-Content-Type-Options", "nosniff")
    headers.setdefault("Referrer-Policy", "strict-origin-when-cross-origin")
    headers.setdefault("Content-Security-Policy",
                       "frame-ancestors " + request.app[FRAME_ANCESTORS])


def create_app(rasa_url: str, frame_ancestors: str = "*", voice_url: str | None = None,
               action_url: str | None = None, speech_url: str | None = None,
               ) -> web.Application:
    """The pages; `/readyz` asks Rasa, and the action server and speech service when their
    addresses are given (webchat/readiness.py)."""
    app = web.Application(client_max_size=64 * 1024, middlewares=[security_headers])
    app[RASA_URL] = rasa_url
    app[FRAME_ANCESTORS] = frame_ancestors
    app[VOICE_URL] = voice_url or default_voice_url(rasa_url)
    app.router.add_get("/", index)
    app.router.add_get("/config.js", page_config)
    app.router.add_get("/voice", voice_page)
    app.router.add_get("/voice-config.js", voice_config)
    app.router.add_get("/embed.js", embed_script)
    app.router.add_get("/vendor/socket.io.min.js", socket_io_client)
    app.router.add_get("/healthz", healthz)
    readiness.install(app, rasa_url, action_url, speech_url)
    app.router.add_static("/static/", STATIC_DIR)
    return app
