"""The action server serves the Rasa server and nobody else.

Rasa sends the action token with every action call (`token` in endpoints.yml's
`action_endpoint`, which Rasa passes as the `token` query parameter); every request without it
— a direct POST to /webhook, the action list, any other path or method — is refused before
anything runs, with a JSON body saying why. Only `GET /health` stays open, and it says no more
than "ok". The token is per installation (`Settings.action_token`: GOV_ACTION_TOKEN or
`<state>/action-server.token`) and reaches Rasa through its environment, never a command line.
"""

from __future__ import annotations

import hmac
from typing import Any

from sanic import Sanic, response
from sanic.exceptions import SanicException
from sanic.request import Request
from sanic.response import HTTPResponse

TOKEN_PARAMETER = "token"  # Rasa's EndpointConfig default `token_name`
OPEN = (("GET", "/health"),)
# Rasa sends the whole conversation since the session started; far below Sanic's 100 MB, so a
# stranger cannot make the server read that much before being refused.
MAX_BODY_BYTES = 16 * 1024 * 1024
REFUSALS = {
    401: ("missing_token", "缺少动作服务器令牌：动作服务器只为 Rasa 服务器服务。",
          "The action token is missing: this action server serves only the Rasa server."),
    403: ("wrong_token", "动作服务器令牌不正确。", "The action token is wrong."),
    413: ("too_large", "请求太大。", "The request is too large."),
}


def refusal(status: int) -> HTTPResponse:
    key, zh, en = REFUSALS[status]
    return response.json({"error": key, "message": f"{zh} {en}"}, status=status)


def token_matches(supplied: str, expected: str) -> bool:
    return hmac.compare_digest(supplied.encode(), expected.encode())


def require_action_token(app: Sanic, token: str) -> None:
    """Refuse every request but the health check unless it carries `token`."""
    if not token:
        raise ValueError("the action server needs an action token")
    app.config.REQUEST_MAX_SIZE = MAX_BODY_BYTES

    async def check(request: Request) -> Any:
        if (request.method, request.path) in OPEN:
            return None
        supplied = request.args.get(TOKEN_PARAMETER)
        if not supplied:
            return refusal(401)
        return None if token_matches(supplied, token) else refusal(403)

    # Before rasa_sdk's CORS middleware, which answers preflight requests by itself.
    app.register_middleware(check, "request", priority=1000)
    # rasa_sdk's catch-all handler turns Sanic's own refusals (413, 405 …) into a 500 that
    # quotes the request; a refusal keeps its status.
    app.error_handler.add(SanicException, http_refusal)


async def http_refusal(request: Request, error: SanicException) -> HTTPResponse:
    status = getattr(error, "status_code", 500) or 500
    if status in REFUSALS:
        return refusal(status)
    return response.json({"error": f"http_{status}", "message": str(error)}, status=status)
