"""The staff workspace pages: sign-in, handoff queue, audit log, accounts.

Every page needs a signed-in member whose role grants the page's permission; every form
POST carries the session's CSRF token. Pages are Jinja2 templates with autoescaping, in the
member's language.
"""

from __future__ import annotations

import asyncio
import hmac
import secrets
from collections.abc import Awaitable, Callable
from functools import wraps
from pathlib import Path

import aiohttp_jinja2
import jinja2
from aiohttp import web

from bot.links import safe_link
from staff.accounts import ROLES, AccountError, authenticate, create_user, list_users, update_user
from staff.api import MAX_REPLY_CHARS, resume_conversation, send_staff_reply
from staff.audit import as_csv, entries, record
from staff.config import StaffSettings
from staff.i18n import LANGUAGE_COOKIE, language_of, translate
from staff.sessions import SignedIn, current_session, end_session, start_session
from staff.settings_page import settings_sections
from storage.handoffs import CLOSED, TAKEN, list_handoffs, set_status, taken_handoff

SESSION_COOKIE = "gov_staff_session"
LOGIN_CSRF_COOKIE = "gov_staff_login"
TEMPLATES = Path(__file__).resolve().parent / "templates"
Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]
STAFF = web.RequestKey("staff", SignedIn | None)


def setup_templates(app: web.Application) -> None:
    aiohttp_jinja2.setup(app, loader=jinja2.FileSystemLoader(TEMPLATES),
                         autoescape=jinja2.select_autoescape(default=True),
                         filters={"safe_link": safe_link})  # href only from `bot.links`


def render(template: str, request: web.Request, context: dict,
           status: int = 200) -> web.Response:
    """A page in the member's language, with who is signed in and their CSRF token."""
    return aiohttp_jinja2.render_template(template, request,
                                          {**_context(request), **context}, status=status)


def _context(request: web.Request) -> dict:
    language = language_of(request)
    signed_in: SignedIn | None = request.get(STAFF)
    return {"lang": language, "t": lambda key: translate(key, language),
            "me": signed_in.member if signed_in else None,
            "csrf": signed_in.csrf_token if signed_in else ""}


def _secure(request: web.Request) -> bool:
    mode = StaffSettings().secure_cookies
    forwarded = request.headers.get("X-Forwarded-Proto", "") == "https"
    return mode == "always" or (mode == "auto" and (request.secure or forwarded))


@web.middleware
async def pages_middleware(request: web.Request, handler: Handler) -> web.StreamResponse:
    """Who is signed in; CSRF on every form POST; security headers on every page."""
    if request.path.startswith("/api/"):
        return await handler(request)
    token = request.cookies.get(SESSION_COOKIE)
    request[STAFF] = await asyncio.to_thread(current_session, token)
    if request.method == "POST" and request.path != "/login":
        form = await request.post()
        expected = request[STAFF].csrf_token if request[STAFF] else ""
        if not expected or not hmac.compare_digest(str(form.get("csrf_token", "")), expected):
            return message_page(request, "csrf", 403)
    response = await handler(request)
    response.headers.setdefault(
        "Content-Security-Policy",
        "default-src 'self'; frame-ancestors 'none'; form-action 'self'; base-uri 'none'")
    response.headers.setdefault("X-Content-Type-Options", "nosniff")
    response.headers.setdefault("Referrer-Policy", "same-origin")
    response.headers.setdefault("Cache-Control", "no-store")
    return response


def message_page(request: web.Request, key: str, status: int) -> web.Response:
    return render("message.html", request, {"key": key}, status=status)


def requires(permission: str) -> Callable[[Handler], Handler]:
    """Signed-out visitors go to the sign-in page; signed-in ones without the role get 403."""
    def decorate(handler: Handler) -> Handler:
        @wraps(handler)
        async def guarded(request: web.Request) -> web.StreamResponse:
            signed_in: SignedIn | None = request.get(STAFF)
            if signed_in is None:
                raise web.HTTPSeeOther("/login")
            if not signed_in.member.can(permission):
                return message_page(request, "forbidden", 403)
            return await handler(request)
        return guarded
    return decorate


# --- sign-in --------------------------------------------------------------------------------

async def login_page(request: web.Request) -> web.Response:
    return _login_form(request, error=None)


def _login_form(request: web.Request, error: str | None, status: int = 200) -> web.Response:
    token = secrets.token_urlsafe(24)
    response = render(
        "login.html", request, {"error": error, "login_csrf": token}, status=status)
    response.set_cookie(LOGIN_CSRF_COOKIE, token, httponly=True, samesite="Strict",
                        secure=_secure(request), path="/login")
    return response


async def login(request: web.Request) -> web.Response:
    form = await request.post()
    expected = request.cookies.get(LOGIN_CSRF_COOKIE, "")
    if not expected or not hmac.compare_digest(str(form.get("login_csrf", "")), expected):
        return _login_form(request, "csrf", 403)
    try:
        member = await asyncio.to_thread(authenticate, str(form.get("username", "")),
                                         str(form.get("password", "")))
    except AccountError as refusal:
        return _login_form(request, refusal.key, 401)
    token = await asyncio.to_thread(start_session, member)
    response = web.HTTPSeeOther("/")
    response.set_cookie(SESSION_COOKIE, token, httponly=True, samesite="Strict",
                        secure=_secure(request), path="/")
    response.del_cookie(LOGIN_CSRF_COOKIE, path="/login")
    raise response


async def logout(request: web.Request) -> web.Response:
    signed_in: SignedIn | None = request.get(STAFF)
    await asyncio.to_thread(end_session, request.cookies.get(SESSION_COOKIE))
    if signed_in:
        await asyncio.to_thread(record, signed_in.member.username, "logout")
    response = web.HTTPSeeOther("/login")
    response.del_cookie(SESSION_COOKIE, path="/")
    raise response


async def switch_language(request: web.Request) -> web.Response:
    language = request.match_info["language"]
    response = web.HTTPSeeOther(request.headers.get("Referer") or "/")
    if language in ("zh", "en"):
        response.set_cookie(LANGUAGE_COOKIE, language, samesite="Lax", path="/")
    raise response


# --- pages ----------------------------------------------------------------------------------

@requires("view")
async def home(request: web.Request) -> web.Response:
    waiting = await asyncio.to_thread(list_handoffs)
    return render("home.html", request, {"waiting": len(waiting)})


@requires("handoff")
async def handoffs(request: web.Request) -> web.Response:
    waiting = await asyncio.to_thread(list_handoffs)
    taken = await asyncio.to_thread(list_handoffs, TAKEN)
    return render("handoffs.html", request,
                                          {"entries": waiting + taken})


@requires("handoff")
async def handoff_action(request: web.Request) -> web.StreamResponse:
    me = request[STAFF].member
    action = request.match_info["action"]
    try:
        handoff_id = int(request.match_info["id"])
        entry = await asyncio.to_thread(
            set_status, handoff_id, TAKEN if action == "take" else CLOSED, me.username)
    except KeyError:
        return message_page(request, "not_found", 404)
    except ValueError:
        return message_page(request, "conflict", 409)
    await asyncio.to_thread(record, me.username, f"handoff.{action}", entry.conversation_id)
    if action == "close":
        await resume_conversation(request.app, entry.conversation_id)
    raise web.HTTPSeeOther("/handoffs")


@requires("handoff")
async def handoff_reply(request: web.Request) -> web.StreamResponse:
    me = request[STAFF].member
    form = await request.post()
    text = str(form.get("text", "")).strip()
    try:
        handoff_id = int(request.match_info["id"])
    except ValueError:
        return message_page(request, "not_found", 404)
    entry = await asyncio.to_thread(taken_handoff, handoff_id)
    if entry is None:
        return message_page(request, "conflict", 409)
    if not text or len(text) > MAX_REPLY_CHARS:
        return message_page(request, "bad_reply", 400)
    if not await send_staff_reply(request.app, entry.conversation_id, text):
        return message_page(request, "reply_failed", 502)
    await asyncio.to_thread(record, me.username, "handoff.reply", entry.conversation_id, text)
    raise web.HTTPSeeOther("/handoffs")


@requires("publish")
async def audit(request: web.Request) -> web.Response:
    rows = await asyncio.to_thread(entries, request.query.get("actor") or None,
                                   request.query.get("action") or None)
    return render("audit.html", request, {"rows": rows})


@requires("publish")
async def audit_csv(request: web.Request) -> web.Response:
    rows = await asyncio.to_thread(entries, None, None, 100000)
    await asyncio.to_thread(record, request[STAFF].member.username, "audit.export")
    return web.Response(text=as_csv(rows), content_type="text/csv", headers={
        "Content-Disposition": 'attachment; filename="audit-log.csv"'})


@requires("accounts")
async def accounts(request: web.Request, notice: str | None = None,
                   error: str | None = None, status: int = 200) -> web.Response:
    users = await asyncio.to_thread(list_users)
    return render(
        "accounts.html", request,
        {"users": users, "roles": ROLES, "notice": notice, "error": error}, status=status)


@requires("accounts")
async def create_account(request: web.Request) -> web.Response:
    form = await request.post()
    try:
        await asyncio.to_thread(
            create_user, str(form.get("username", "")), str(form.get("password", "")),
            str(form.get("role", "")), str(form.get("display_name", "")),
            request[STAFF].member.username)
    except AccountError as refusal:
        return await accounts.__wrapped__(request, error=refusal.key, status=400)
    return await accounts.__wrapped__(request, notice="accounts.created")


@requires("accounts")
async def change_account(request: web.Request) -> web.Response:
    form = await request.post()
    try:
        await asyncio.to_thread(update_user, request.match_info["username"],
                                request[STAFF].member.username, str(form.get("role", "")),
                                form.get("active") == "on")
    except AccountError as refusal:
        return await accounts.__wrapped__(request, error=refusal.key, status=400)
    return await accounts.__wrapped__(request, notice="accounts.updated")


@requires("accounts")
async def settings_page(request: web.Request) -> web.Response:
    return render("settings.html", request,
                  {"sections": settings_sections(language_of(request))})


def add_page_routes(app: web.Application) -> None:
    app.middlewares.append(pages_middleware)
    setup_templates(app)
    app.router.add_get("/login", login_page)
    app.router.add_post("/login", login)
    app.router.add_post("/logout", logout)
    app.router.add_get("/lang/{language}", switch_language)
    app.router.add_get("/", home)
    app.router.add_get("/handoffs", handoffs)
    app.router.add_post("/handoffs/{id}/{action:take|close}", handoff_action)
    app.router.add_post("/handoffs/{id}/reply", handoff_reply)
    app.router.add_get("/audit", audit)
    app.router.add_get("/audit.csv", audit_csv)
    app.router.add_get("/accounts", accounts)
    app.router.add_get("/settings", settings_page)
    app.router.add_post("/accounts", create_account)
    app.router.add_post("/accounts/{username}", change_account)
    app.router.add_static("/static/", Path(__file__).resolve().parent / "static")
