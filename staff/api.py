"""Staff JSON API for conversations handed over by the assistant.

GET  /api/handoffs?status=waiting|taken|closed|all   the queue, with masked transcripts
POST /api/handoffs/{id}/take   {"staff": "li.na"}     a member of staff takes a conversation
POST /api/handoffs/{id}/reply  {"staff": …, "text": …}  a message to the citizen (taken only)
POST /api/handoffs/{id}/close                         done: the assistant answers again
POST /api/tickets/{reference}/reassign {"staff": …, "department": id}  pass a ticket to another
     department; audited, and kept (masked) as a routing example for the next training

Every call needs `Authorization: Bearer <GOV_STAFF_API_TOKEN>`. Errors are JSON in the
caller's language (Accept-Language zh → Chinese, otherwise English).
"""

from __future__ import annotations

import asyncio
import hmac
import logging
from collections.abc import Awaitable, Callable

import aiohttp
from aiohttp import web

from routing.examples import record_reassignment
from staff.audit import record
from staff.i18n import language_of, translate
from storage.handoffs import (
    CLOSED,
    TAKEN,
    HandoffEntry,
    list_handoffs,
    set_status,
    taken_handoff,
)
from storage.tickets import Reassignment, reassign_ticket

logger = logging.getLogger(__name__)

API_TOKEN = web.AppKey("api_token", str)
RASA_URL = web.AppKey("rasa_url", str)
RASA_TOKEN = web.AppKey("rasa_token", str)
HTTP = web.AppKey("http", aiohttp.ClientSession)
STATUSES = {"waiting", "taken", "closed", "all"}

def error(request: web.Request, status: int, key: str) -> web.Response:
    return web.json_response({"error": key, "message": translate(key, language_of(request))},
                             status=status)


@web.middleware
async def require_token(request: web.Request,
                        handler: Callable[[web.Request], Awaitable[web.StreamResponse]]
                        ) -> web.StreamResponse:
    if request.path.startswith("/api/"):
        supplied = request.headers.get("Authorization", "").removeprefix("Bearer ").strip()
        if not supplied or not hmac.compare_digest(supplied.encode(),
                                                   request.app[API_TOKEN].encode()):
            return error(request, 401, "unauthorized")
    return await handler(request)


def _handoff_id(request: web.Request) -> int | None:
    try:
        return int(request.match_info["id"])
    except ValueError:
        return None


async def handoffs(request: web.Request) -> web.Response:
    status = request.query.get("status", "waiting")
    if status not in STATUSES:
        return error(request, 400, "bad_status")
    entries = await asyncio.to_thread(list_handoffs, None if status == "all" else status)
    return web.json_response({"handoffs": [entry.as_json() for entry in entries]})


async def _transition(request: web.Request, status: str,
                      staff: str | None) -> HandoffEntry | web.Response:
    """The updated entry, or the error response to send."""
    handoff_id = _handoff_id(request)
    if handoff_id is None:
        return error(request, 400, "bad_id")
    try:
        return await asyncio.to_thread(set_status, handoff_id, status, staff)
    except KeyError:
        return error(request, 404, "not_found")
    except ValueError:
        return error(request, 409, "conflict")


async def take(request: web.Request) -> web.Response:
    try:
        body = await request.json()
    except ValueError:
        body = None
    staff = body.get("staff") if isinstance(body, dict) else None
    if not isinstance(staff, str) or not 0 < len(staff.strip()) <= 120:
        return error(request, 400, "bad_body")
    result = await _transition(request, TAKEN, staff.strip())
    return result if isinstance(result, web.Response) else web.json_response(result.as_json())


async def close(request: web.Request) -> web.Response:
    result = await _transition(request, CLOSED, None)
    if isinstance(result, web.Response):
        return result
    if not await resume_conversation(request.app, result.conversation_id):
        return error(request, 502, "resume_failed")
    return web.json_response(result.as_json())


MAX_REPLY_CHARS = 2000


async def send_staff_reply(app: web.Application, conversation_id: str, text: str) -> bool:
    """Put the text in the conversation's `staff_reply` slot and run action_staff_reply with
    the citizen's latest channel as output (web chat, Telegram, WeChat push the message; a
    REST client sees it in the conversation history)."""
    base = f"{app[RASA_URL]}/conversations/{conversation_id}"
    params = {"token": app[RASA_TOKEN]}
    slot = {"event": "slot", "name": "staff_reply", "value": text[:MAX_REPLY_CHARS]}
    try:
        async with app[HTTP].post(f"{base}/tracker/events", params=params, json=slot) as reply:
            if reply.status != 200:
                return False
        async with app[HTTP].post(f"{base}/execute", json={"name": "action_staff_reply"},
                                  params={**params, "output_channel": "latest"}) as reply:
            return reply.status == 200
    except aiohttp.ClientError:
        logger.exception("could not deliver a staff reply to %s", conversation_id)
        return False


async def reply(request: web.Request) -> web.Response:
    handoff_id = _handoff_id(request)
    try:
        body = await request.json()
    except ValueError:
        body = None
    text = body.get("text") if isinstance(body, dict) else None
    staff = body.get("staff") if isinstance(body, dict) else None
    if handoff_id is None:
        return error(request, 400, "bad_id")
    if not isinstance(text, str) or not text.strip() or len(text) > MAX_REPLY_CHARS \
            or not isinstance(staff, str) or not staff.strip():
        return error(request, 400, "bad_reply")
    entry = await asyncio.to_thread(taken_handoff, handoff_id)
    if entry is None:
        return error(request, 409, "conflict")
    if not await send_staff_reply(request.app, entry.conversation_id, text.strip()):
        return error(request, 502, "reply_failed")
    return web.json_response({"sent": True})


async def resume_conversation(app: web.Application, conversation_id: str) -> bool:
    """Hand the conversation back to the assistant: Rasa's `resume` event, then a listen so
    the citizen's next message starts a fresh turn (messages written while paused stay in the
    history but are not answered)."""
    url = f"{app[RASA_URL]}/conversations/{conversation_id}/tracker/events"
    events = [{"event": "resume"}, {"event": "action", "name": "action_listen"}]
    try:
        async with app[HTTP].post(url, params={"token": app[RASA_TOKEN]}, json=events) as reply:
            return reply.status == 200
    except aiohttp.ClientError:
        logger.exception("could not resume conversation %s", conversation_id)
        return False


async def reassign(request: web.Request) -> web.Response:
    try:
        body = await request.json()
    except ValueError:
        body = None
    staff = body.get("staff") if isinstance(body, dict) else None
    department = body.get("department") if isinstance(body, dict) else None
    if not isinstance(staff, str) or not 0 < len(staff.strip()) <= 120 \
            or not isinstance(department, str) or not 0 < len(department) <= 64:
        return error(request, 400, "bad_reassign")
    try:
        moved = await asyncio.to_thread(reassign_ticket, request.match_info["reference"],
                                        department)
    except KeyError:
        return error(request, 404, "not_found")
    except ValueError:
        return error(request, 400, "bad_department")
    await asyncio.to_thread(record_reassignment_everywhere, moved, staff.strip())
    return web.json_response({"reference": moved.reference, "department": moved.department,
                              "previous": moved.previous})


def record_reassignment_everywhere(moved: Reassignment, staff: str) -> None:
    """The audit log, and the routing example used at the next training (both masked)."""
    record(staff, "ticket.reassign", moved.reference, f"{moved.previous} -> {moved.department}")
    record_reassignment(moved.text, moved.department, moved.previous, moved.reference, staff)


def add_api_routes(app: web.Application) -> None:
    app.middlewares.append(require_token)
    app.router.add_get("/api/handoffs", handoffs)
    app.router.add_post("/api/handoffs/{id}/take", take)
    app.router.add_post("/api/handoffs/{id}/close", close)
    app.router.add_post("/api/handoffs/{id}/reply", reply)
    app.router.add_post("/api/tickets/{reference}/reassign", reassign)
