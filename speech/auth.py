"""The speech service serves the voice and WeChat channels and nobody else.

Every call but `GET /healthz` must carry the speech token in the X-Speech-Token header;
without it the service refuses before reading the audio or starting a synthesis, so a stranger
on the network can neither spend its CPU nor use it as a free recogniser. The token is per
installation (`Settings.speech_token`: GOV_SPEECH_TOKEN or `<state>/speech-service.token`) and
reaches the Rasa processes and the service through their environment, never a command line.
"""

from __future__ import annotations

import hmac
from typing import Awaitable, Callable

from aiohttp import web

HEADER = "X-Speech-Token"
OPEN = (("GET", "/healthz"),)
REFUSALS = {
    401: ("missing_token", "缺少语音服务令牌：语音服务只为助手的语音渠道服务。",
          "The speech token is missing: this service serves only the assistant's channels."),
    403: ("wrong_token", "语音服务令牌不正确。", "The speech token is wrong."),
}


def token_headers(token: str) -> dict[str, str]:
    """The header a client of the speech service sends."""
    return {HEADER: token}


def require_token(token: str) -> Callable:
    """aiohttp middleware refusing every request but the health check without `token`."""
    if not token:
        raise ValueError("the speech service needs a token (GOV_SPEECH_TOKEN)")

    @web.middleware
    async def check(request: web.Request,
                    handler: Callable[[web.Request], Awaitable[web.StreamResponse]]
                    ) -> web.StreamResponse:
        if (request.method, request.path) not in OPEN:
            supplied = request.headers.get(HEADER, "")
            if not supplied:
                return _refusal(401)
            if not hmac.compare_digest(supplied.encode(), token.encode()):
                return _refusal(403)
        return await handler(request)

    return check


def _refusal(status: int) -> web.Response:
    key, zh, en = REFUSALS[status]
    return web.json_response({"error": key, "detail": f"{zh} {en}"}, status=status)
