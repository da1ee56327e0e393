"""The staff service: workspace pages for people, a token-protected JSON API for tools."""

from __future__ import annotations

from collections.abc import AsyncIterator

import aiohttp
from aiohttp import web

from knowledge_base.config import KnowledgeBaseSettings
from staff.api import API_TOKEN, HTTP, RASA_TOKEN, RASA_URL, add_api_routes
from staff.documents import add_document_routes
from staff.web import add_page_routes

# Room for the largest document upload the knowledge base accepts, plus the form around it.
MAX_REQUEST_BYTES = KnowledgeBaseSettings().max_file_bytes + 1024 * 1024


async def healthz(request: web.Request) -> web.Response:
    return web.json_response({"status": "ok"})


async def _http_client(app: web.Application) -> AsyncIterator[None]:
    """One HTTP client for talking to Rasa (resuming conversations), closed on shutdown."""
    async with aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=10)) as session:
        app[HTTP] = session
        yield


def create_app(api_token: str, rasa_url: str, rasa_token: str) -> web.Application:
    if not api_token:
        raise ValueError("the staff API needs a token")
    app = web.Application(client_max_size=MAX_REQUEST_BYTES)
    app[API_TOKEN], app[RASA_URL], app[RASA_TOKEN] = api_token, rasa_url, rasa_token
    app.cleanup_ctx.append(_http_client)
    app.router.add_get("/healthz", healthz)
    add_api_routes(app)
    add_page_routes(app)
    add_document_routes(app)
    return app
