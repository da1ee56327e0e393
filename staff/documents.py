"""Knowledge-base pages: list, upload a draft, preview its chunks, try a question against
it, publish, compare versions, roll back, unpublish. Same `knowledge_base` code as the CLI."""

from __future__ import annotations

import asyncio
import datetime as dt
from pathlib import PurePath

from aiohttp import web

from knowledge_base.config import KnowledgeBaseSettings
from knowledge_base.documents import DocumentError
from knowledge_base.parsers import SUPPORTED_SUFFIXES
from knowledge_base.service import KnowledgeBase
from knowledge_base.workflow import Workflow
from staff.audit import record
from staff.i18n import language_of
from staff.insights import analytics, mark_handled, question_texts, unanswered_groups
from staff.web import STAFF, message_page, render, requires
from storage.seed import load_yaml

WORKFLOW = web.AppKey("workflow", Workflow)
CHANGES = web.AppKey("changes", asyncio.Lock)  # one publish / rollback at a time
EDITABLE_SUFFIXES = {".md", ".txt"}
METADATA_FIELDS = ("id", "title", "language", "department", "source", "effective_date",
                   "expires", "superseded_by")


def _departments() -> list[dict]:
    return load_yaml("departments.yml")["departments"]


def _department_names() -> dict[str, dict[str, str]]:
    """Department id -> {"zh": name, "en": name}, for showing names instead of ids."""
    return {department["id"]: department["name"] for department in _departments()}


def _status(metadata, today: dt.date) -> str:
    if metadata.superseded_by:
        return "superseded"
    return "current" if metadata.is_current(today) else "expired"


@requires("view")
async def document_list(request: web.Request) -> web.Response:
    workflow, query = request.app[WORKFLOW], request.query
    today = dt.date.today()
    rows = [{"metadata": stored.metadata, "status": _status(stored.metadata, today),
             "draft": False} for stored in await asyncio.to_thread(workflow.kb.list)]
    rows += [{"metadata": stored.metadata, "status": "draft", "draft": True}
             for stored in await asyncio.to_thread(workflow.drafts.list)]
    text = query.get("q", "").strip().lower()
    rows = [row for row in rows
            if (not text or text in row["metadata"].id.lower()
                or text in row["metadata"].title.lower())
            and query.get("department", "") in ("", row["metadata"].department)
            and query.get("language", "") in ("", row["metadata"].language)
            and query.get("status", "") in ("", row["status"])]
    return render("documents.html", request, {"rows": rows, "query": query,
                                              "departments": _departments(),
                                              "names": _department_names()})


@requires("draft")
async def new_document(request: web.Request) -> web.Response:
    return render("document_new.html", request, {"departments": _departments(),
                                                 "suffixes": sorted(SUPPORTED_SUFFIXES)})


@requires("draft")
async def upload_draft(request: web.Request) -> web.StreamResponse:
    form = await request.post()
    upload, written = form.get("file"), str(form.get("content", ""))
    limit = request.app[WORKFLOW].kb.settings.max_file_bytes + 1
    if isinstance(upload, web.FileField) and upload.filename:
        # only the suffix of the browser's file name is used: no path ever comes from it
        filename = "upload" + PurePath(upload.filename).suffix.lower()
        data = upload.file.read(limit)
    elif written.strip():  # written in the page: Markdown
        filename, data = "page.md", written.replace("\r\n", "\n").encode()[:limit]
    else:
        return await _upload_error(request, "no_file")
    metadata = {name: str(form.get(name, "")).strip() for name in METADATA_FIELDS}
    metadata = {name: value for name, value in metadata.items() if value}
    if filename == "page.md" and "title" not in metadata:
        heading = next((line[2:].strip() for line in written.splitlines()
                        if line.startswith("# ")), "")
        metadata["title"] = heading or metadata.get("id", "")
    try:
        document = await asyncio.to_thread(request.app[WORKFLOW].save_draft, filename, data,
                                           metadata or None)
    except DocumentError as refusal:
        return await _upload_error(request, refusal.message(language_of(request)))
    await asyncio.to_thread(record, request[STAFF].member.username, "document.draft",
                            document.id)
    raise web.HTTPSeeOther(f"/documents/drafts/{document.id}")


async def _upload_error(request: web.Request, error: str) -> web.Response:
    return render("document_new.html", request, {
        "departments": _departments(), "suffixes": sorted(SUPPORTED_SUFFIXES),
        "error": error}, status=400)


@requires("view")
async def draft_page(request: web.Request) -> web.Response:
    workflow, doc_id = request.app[WORKFLOW], request.match_info["doc_id"]
    try:
        draft = await asyncio.to_thread(workflow.draft, doc_id)
        chunks = await asyncio.to_thread(workflow.preview_chunks, doc_id)
    except DocumentError:
        return message_page(request, "not_found", 404)
    question = request.query.get("q", "").strip()[:500]
    trial = await asyncio.to_thread(workflow.try_question, doc_id, question) if question else []
    editable = draft.path.suffix in EDITABLE_SUFFIXES
    source = draft.path.read_text(encoding="utf-8", errors="replace") if editable else ""
    return render("draft.html", request, {"draft": draft.metadata, "chunks": chunks,
                                          "question": question, "trial": trial,
                                          "editable": editable, "source": source,
                                          "names": _department_names()})


@requires("draft")
async def edit_draft_questions(request: web.Request) -> web.StreamResponse:
    """Save the questions the draft answers (one per line)."""
    workflow, doc_id = request.app[WORKFLOW], request.match_info["doc_id"]
    form = await request.post()
    questions = str(form.get("questions", "")).replace("\r\n", "\n").splitlines()
    try:
        await asyncio.to_thread(workflow.set_questions, doc_id, questions)
    except DocumentError as refusal:
        return render("message.html", request, {
            "key": "conflict", "detail": refusal.message(language_of(request))}, status=400)
    await asyncio.to_thread(record, request[STAFF].member.username, "document.questions",
                            doc_id, f"{len([q for q in questions if q.strip()])} questions")
    raise web.HTTPSeeOther(f"/documents/drafts/{doc_id}")


@requires("draft")
async def edit_draft_text(request: web.Request) -> web.StreamResponse:
    """Save the text edited in the page as the draft's new content (Markdown / plain text)."""
    workflow, doc_id = request.app[WORKFLOW], request.match_info["doc_id"]
    form = await request.post()
    try:
        draft = await asyncio.to_thread(workflow.draft, doc_id)
    except DocumentError:
        return message_page(request, "not_found", 404)
    if draft.path.suffix not in EDITABLE_SUFFIXES:
        return message_page(request, "conflict", 409)
    text = str(form.get("content", "")).replace("\r\n", "\n")
    metadata = {**draft.metadata.to_mapping(), "id": doc_id}
    try:
        await asyncio.to_thread(workflow.save_draft, draft.path.name, text.encode(), metadata)
    except DocumentError as refusal:
        return render("message.html", request, {
            "key": "conflict", "detail": refusal.message(language_of(request))}, status=400)
    await asyncio.to_thread(record, request[STAFF].member.username, "document.edit_text", doc_id)
    raise web.HTTPSeeOther(f"/documents/drafts/{doc_id}")


async def _change(request: web.Request, action: str, work, done_url: str) -> web.StreamResponse:
    """Run a change to the knowledge base (one at a time), audit it, then go to `done_url`."""
    doc_id = request.match_info["doc_id"]
    try:
        async with request.app[CHANGES]:
            detail = await asyncio.to_thread(work, doc_id)
    except DocumentError as refusal:
        return render("message.html", request, {"key": "conflict",
                                                "detail": refusal.message(language_of(request))},
                      status=409)
    await asyncio.to_thread(record, request[STAFF].member.username, action, doc_id,
                            str(detail or ""))
    raise web.HTTPSeeOther(done_url.format(doc_id=doc_id))


@requires("publish")
async def publish_draft(request: web.Request) -> web.StreamResponse:
    staff = request[STAFF].member.username
    return await _change(request, "document.publish",
                         lambda doc_id: f"version {request.app[WORKFLOW].publish(doc_id, staff)}",
                         "/documents/{doc_id}")


@requires("draft")
async def discard_draft(request: web.Request) -> web.StreamResponse:
    return await _change(request, "document.discard", request.app[WORKFLOW].discard_draft,
                         "/documents")


@requires("draft")
async def edit_published(request: web.Request) -> web.StreamResponse:
    return await _change(request, "document.edit", request.app[WORKFLOW].draft_from_published,
                         "/documents/drafts/{doc_id}")


@requires("publish")
async def unpublish(request: web.Request) -> web.StreamResponse:
    return await _change(request, "document.unpublish", request.app[WORKFLOW].unpublish,
                         "/documents")


@requires("publish")
async def roll_back(request: web.Request) -> web.StreamResponse:
    form = await request.post()
    staff = request[STAFF].member.username
    try:
        version = int(str(form.get("version", "")))
    except ValueError:
        return message_page(request, "not_found", 404)
    workflow = request.app[WORKFLOW]
    return await _change(
        request, "document.rollback",
        lambda doc_id: f"version {version} -> {workflow.roll_back(doc_id, version, staff)}",
        "/documents/{doc_id}")


@requires("view")
async def document_page(request: web.Request) -> web.Response:
    workflow, doc_id = request.app[WORKFLOW], request.match_info["doc_id"]
    stored = await asyncio.to_thread(workflow.kb.store.get, doc_id)
    versions = await asyncio.to_thread(workflow.versions, doc_id)
    if stored is None and not versions:
        return message_page(request, "not_found", 404)
    diff = []
    try:
        old, new = int(request.query.get("old", 0)), int(request.query.get("new", 0))
        if old and new:
            diff = await asyncio.to_thread(workflow.diff, doc_id, old, new)
    except (ValueError, DocumentError):
        return message_page(request, "not_found", 404)
    return render("document.html", request, {
        "doc_id": doc_id, "metadata": stored.metadata if stored else None,
        "versions": versions, "diff": diff,
        "has_draft": workflow.drafts.get(doc_id) is not None, "names": _department_names()})


@requires("view")
async def unanswered(request: web.Request, notice: str | None = None,
                     error: str | None = None, status: int = 200,
                     draft: str | None = None) -> web.Response:
    groups = await asyncio.to_thread(unanswered_groups)
    return render("unanswered.html", request, {"groups": groups, "notice": notice,
                                               "error": error, "draft": draft}, status=status)


@requires("draft")
async def mark_unanswered_handled(request: web.Request) -> web.Response:
    form = await request.post()
    doc_id = str(form.get("doc_id", "")).strip()
    ids = [part.strip() for part in str(form.get("ids", "")).split(",") if part.strip()]
    if not ids or await asyncio.to_thread(request.app[WORKFLOW].kb.store.get, doc_id) is None:
        return await unanswered.__wrapped__(request, error="unanswered.no_document", status=400)
    # The linked questions become the document's own questions, in a draft to publish.
    texts = await asyncio.to_thread(question_texts, ids)
    try:
        async with request.app[CHANGES]:
            await asyncio.to_thread(request.app[WORKFLOW].add_questions, doc_id, texts)
    except DocumentError as refusal:
        return await unanswered.__wrapped__(request, error=refusal.message(language_of(request)),
                                            status=400)
    count = await asyncio.to_thread(mark_handled, ids, doc_id)
    await asyncio.to_thread(record, request[STAFF].member.username, "unanswered.handled",
                            doc_id, f"{count} questions; {len(texts)} added to the draft")
    return await unanswered.__wrapped__(request, notice="unanswered.marked", draft=doc_id)


@requires("view")
async def analytics_page(request: web.Request) -> web.Response:
    report = await asyncio.to_thread(analytics)
    return render("analytics.html", request, {"report": report})


async def _workflow(app: web.Application):
    app[WORKFLOW] = Workflow(KnowledgeBase(KnowledgeBaseSettings()))
    app[CHANGES] = asyncio.Lock()
    yield


def add_document_routes(app: web.Application) -> None:
    app.cleanup_ctx.append(_workflow)
    app.router.add_get("/documents", document_list)
    app.router.add_get("/documents/new", new_document)
    app.router.add_post("/documents/drafts", upload_draft)
    app.router.add_get("/documents/drafts/{doc_id}", draft_page)
    app.router.add_post("/documents/drafts/{doc_id}/publish", publish_draft)
    app.router.add_post("/documents/drafts/{doc_id}/discard", discard_draft)
    app.router.add_post("/documents/drafts/{doc_id}/text", edit_draft_text)
    app.router.add_post("/documents/drafts/{doc_id}/questions", edit_draft_questions)
    app.router.add_get("/documents/{doc_id}", document_page)
    app.router.add_post("/documents/{doc_id}/edit", edit_published)
    app.router.add_post("/documents/{doc_id}/rollback", roll_back)
    app.router.add_post("/documents/{doc_id}/unpublish", unpublish)
    app.router.add_get("/unanswered", unanswered)
    app.router.add_post("/unanswered/handled", mark_unanswered_handled)
    app.router.add_get("/analytics", analytics_page)
