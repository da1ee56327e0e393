"""`GET /readyz` on the web page's server: can citizens chat yet, and talk?

Rasa's own `/status` needs the API token, and the pages answer seconds before Rasa has loaded
its model. This endpoint asks the services the pages depend on (Rasa's `/readyz`: a model is
loaded; the action server's and the speech service's health checks) and says, without any
address or secret:

    {"ready": true, "chat": true, "voice": false,
     "services": {"rasa": true, "actions": true, "speech": false}}

`chat` (Rasa and the action server answer) decides the status: 200, else 503. `voice` also
needs the speech service. The web chat and voice pages poll it and say "starting…" until then.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator

import aiohttp
from aiohttp import web

CHECK_SECONDS = 2.0
HEALTH_URLS = web.AppKey("readiness_urls", dict)  # service name -> URL answering 200 when ready
CLIENT = web.AppKey("readiness_client", aiohttp.ClientSession)


def health_urls(rasa_url: str, action_url: str | None,
                speech_url: str | None) -> dict[str, str]:
    """What to ask: Rasa always; the action server and speech service where configured."""
    urls = {"rasa": rasa_url.rstrip("/") + "/readyz"}
    if action_url:
        urls["actions"] = action_url.rstrip("/") + "/health"
    if speech_url:
        urls["speech"] = speech_url.rstrip("/") + "/healthz"
    return urls


async def _answers(client: aiohttp.ClientSession, url: str) -> bool:
    try:
        async with client.get(url, allow_redirects=False) as response:
            return response.status == 200
    except (aiohttp.ClientError, asyncio.TimeoutError, OSError):
        return False


async def readyz(request: web.Request) -> web.Response:
    urls: dict[str, str] = request.app[HEALTH_URLS]
    answers = await asyncio.gather(*(_answers(request.app[CLIENT], url) for url in urls.values()))
    services = dict(zip(urls, answers, strict=True))
    chat = services["rasa"] and services.get("actions", True)
    voice = chat and services.get("speech", True)
    return web.json_response({"ready": chat, "chat": chat, "voice": voice, "services": services},
                             status=200 if chat else 503, headers={"Cache-Control": "no-store"})


async def client(app: web.Application) -> AsyncIterator[None]:
    """One HTTP client for the app's lifetime (cleanup context)."""
    async with aiohttp.ClientSession(
            timeout=aiohttp.ClientTimeout(total=CHECK_SECONDS)) as session:
        app[CLIENT] = session
        yield


def install(app: web.Application, rasa_url: str, action_url: str | None,
            speech_url: str | None) -> None:
    app[HEALTH_URLS] = health_urls(rasa_url, action_url, speech_url)
    app.cleanup_ctx.append(client)
    app.router.add_get("/readyz", readyz)
