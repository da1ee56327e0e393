"""Staff keep the knowledge base current through the workspace: draft, preview, try, publish,
compare, roll back, unpublish; permissions per role; hostile uploads change nothing."""

from __future__ import annotations

import io
import re
import zipfile

import pytest

from helpers.staff import csrf_of, sign_in
from knowledge_base.config import KnowledgeBaseSettings
from knowledge_base.search import Searcher
from knowledge_base.service import KnowledgeBase
from knowledge_base.store import DocumentStore
from knowledge_base.workflow import Workflow

POLICY = """---
id: um-kite-festival-zh
title: 风筝节摊位办理指南
language: zh
department: urban_management
effective_date: 2026-03-01
---
# 风筝节摊位办理指南

## 收费
风筝节期间临时摊位费每天{fee}元，在“滨江通”App缴纳。

## 申请时间
每年3月1日至3月15日在线申请，名额有限，先到先得。
"""


def upload(browser, url: str, name: str, data: bytes, **fields: str):
    token = csrf_of(browser.get(f"{url}/documents/new").text)
    return browser.post(f"{url}/documents/drafts", data={"csrf_token": token, **fields},
                        files={"file": (name, data)})


def published_ids() -> set[str]:
    settings = KnowledgeBaseSettings()
    return {doc.metadata.id for doc in DocumentStore(settings.documents_dir,
                                                     settings.max_file_bytes).list()}


def test_draft_preview_try_publish_compare_and_roll_back(workspace):
    editor, publisher = sign_in(workspace, "editor.one"), sign_in(workspace, "publisher.one")
    page = upload(editor, workspace, "kite.md", POLICY.format(fee="三十五").encode())
    assert page.url.endswith("/documents/drafts/um-kite-festival-zh")
    assert "临时摊位费每天三十五元" in page.text and "申请时间" in page.text  # chunk preview
    trial = editor.get(f"{workspace}/documents/drafts/um-kite-festival-zh",
                       params={"q": "风筝节摊位一天多少钱"})
    assert trial.text.index("三十五元") < trial.text.index("分段预览") if "分段预览" in \
        trial.text else "三十五元" in trial.text
    assert "um-kite-festival-zh" not in published_ids()

    # editors draft, publishers publish
    token = csrf_of(editor.get(f"{workspace}/documents/drafts/um-kite-festival-zh").text)
    assert editor.post(f"{workspace}/documents/drafts/um-kite-festival-zh/publish",
                       data={"csrf_token": token}).status_code == 403
    token = csrf_of(publisher.get(f"{workspace}/documents/drafts/um-kite-festival-zh").text)
    done = publisher.post(f"{workspace}/documents/drafts/um-kite-festival-zh/publish",
                          data={"csrf_token": token})
    assert done.status_code == 200 and done.url.endswith("/documents/um-kite-festival-zh")
    assert "um-kite-festival-zh" in published_ids()
    hits = Searcher(KnowledgeBaseSettings()).search("风筝节摊位费多少钱", "zh", 3)
    assert hits and hits[0].doc_id == "um-kite-festival-zh"

    # a second version, compared and then rolled back
    token = csrf_of(editor.get(f"{workspace}/documents/um-kite-festival-zh").text)
    editor.post(f"{workspace}/documents/um-kite-festival-zh/edit", data={"csrf_token": token})
    upload(editor, workspace, "kite.md", POLICY.format(fee="四十").encode())
    token = csrf_of(publisher.get(f"{workspace}/documents/drafts/um-kite-festival-zh").text)
    publisher.post(f"{workspace}/documents/drafts/um-kite-festival-zh/publish",
                   data={"csrf_token": token})
    diff = publisher.get(f"{workspace}/documents/um-kite-festival-zh",
                         params={"old": 1, "new": 2}).text
    assert "-风筝节期间临时摊位费每天三十五元" in diff and "+风筝节期间临时摊位费每天四十元" in diff
    token = csrf_of(diff)
    publisher.post(f"{workspace}/documents/um-kite-festival-zh/rollback",
                   data={"csrf_token": token, "version": "1"})
    workflow = Workflow(KnowledgeBase(KnowledgeBaseSettings()))
    assert [v.number for v in workflow.versions("um-kite-festival-zh")] == [1, 2, 3]
    assert "三十五元" in workflow.kb.show("um-kite-festival-zh").sections[0].text

    # and taken down
    token = csrf_of(publisher.get(f"{workspace}/documents/um-kite-festival-zh").text)
    publisher.post(f"{workspace}/documents/um-kite-festival-zh/unpublish",
                   data={"csrf_token": token})
    assert "um-kite-festival-zh" not in published_ids()
    audit = sign_in(workspace, "admin.one").get(f"{workspace}/audit.csv").text
    for action in ("document.draft", "document.publish", "document.rollback",
                   "document.unpublish"):
        assert action in audit


def docx_bomb() -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        archive.writestr("word/document.xml", b"0" * (60 * 1024 * 1024))
    return buffer.getvalue()


@pytest.mark.parametrize(("name", "data", "fields"), [
    ("../../../etc/passwd.md", POLICY.format(fee="1").encode(), {"id": "../../etc/passwd"}),
    ("policy.docx", docx_bomb(), {"id": "x-bomb", "title": "t", "language": "en",
                                  "department": "health"}),
    ("scan.pdf", b"\x89PNG\r\n\x1a\n" + b"\0" * 2000, {"id": "x-png", "title": "t",
                                                      "language": "en", "department": "health"}),
    ("huge.pdf", b"%PDF-1.4\n" + b"0" * (21 * 1024 * 1024), {"id": "x-huge"}),
    ("tool.exe", b"MZ\x90\x00", {"id": "x-exe"}),
])
def test_hostile_uploads_are_refused_and_change_nothing(workspace, name, data, fields):
    editor = sign_in(workspace, "editor.one")
    response = upload(editor, workspace, name, data, **fields)
    assert response.status_code in (400, 413)
    assert Workflow(KnowledgeBase(KnowledgeBaseSettings())).drafts.list() == []
    assert published_ids() == set()


@pytest.mark.parametrize("source", ["javascript:alert(document.cookie)", " JaVaScRiPt:alert(1)",
                                    "data:text/html;base64,PHNjcmlwdD4=", "vbscript:msgbox(1)"])
def test_a_source_that_is_not_a_web_mail_or_phone_link_is_refused(workspace, source):
    """In the form field or in the file's front matter, in the member's language."""
    editor = sign_in(workspace, "editor.one")
    in_file = POLICY.format(fee="1").replace("language: zh\n", f"language: zh\nsource: {source}\n")
    for language, words in (("zh-CN", "来源必须是 http(s)、mailto 或 tel 链接"),
                            ("en", "source must be an http(s), mailto or tel link")):
        editor.headers["Accept-Language"] = language
        for response in (upload(editor, workspace, "kite.md", POLICY.format(fee="1").encode(),
                                source=source),
                         upload(editor, workspace, "kite.md", in_file.encode())):
            assert response.status_code == 400 and words in response.text
            assert 'href="javascript' not in response.text.lower()
    assert Workflow(KnowledgeBase(KnowledgeBaseSettings())).drafts.list() == []
    assert published_ids() == set()


def test_document_pages_need_sign_in_and_csrf(workspace):
    import requests

    assert requests.get(f"{workspace}/documents", allow_redirects=False).status_code == 303
    editor = sign_in(workspace, "editor.one")
    response = editor.post(f"{workspace}/documents/drafts",
                           files={"file": ("kite.md", POLICY.format(fee="1").encode())})
    assert response.status_code == 403
    listing = editor.get(f"{workspace}/documents", params={"status": "draft"})
    assert listing.status_code == 200 and "um-kite-festival-zh" not in listing.text


def test_unanswered_questions_grouped_and_linked_to_a_document(workspace):
    from knowledge_base.records import record_feedback, record_unanswered, unanswered_summary

    for text in ("风筝节摊位怎么申请", "风筝节的摊位在哪里申请", "how do I get a boat licence"):
        record_unanswered(text, "zh" if "风" in text else "en", "rest", 0.2, None)
    record_feedback("x#1", "x", False, "风筝节的摊位怎么申请啊", "zh", "rest")  # poorly rated
    editor = sign_in(workspace, "editor.one")
    page = editor.get(f"{workspace}/unanswered")
    assert page.status_code == 200
    counts = [int(n) for n in re.findall(r"(?:Times asked|提问次数): (\d+)", page.text)]
    assert counts[0] >= 2 and sum(counts) == 4  # the kite questions group together
    first_ids = re.search(r'name="ids" value="([^"]+)"', page.text).group(1)
    token = csrf_of(page.text)
    refused = editor.post(f"{workspace}/unanswered/handled",
                          data={"csrf_token": token, "ids": first_ids, "doc_id": "no-such-doc"})
    assert refused.status_code == 400
    upload(editor, workspace, "kite.md", POLICY.format(fee="三十五").encode())
    publisher = sign_in(workspace, "publisher.one")
    token = csrf_of(publisher.get(f"{workspace}/documents/drafts/um-kite-festival-zh").text)
    publisher.post(f"{workspace}/documents/drafts/um-kite-festival-zh/publish",
                   data={"csrf_token": token})
    token = csrf_of(editor.get(f"{workspace}/unanswered").text)
    done = editor.post(f"{workspace}/unanswered/handled", data={
        "csrf_token": token, "ids": first_ids, "doc_id": "um-kite-festival-zh"})
    assert done.status_code == 200
    remaining = sum(row.count for row in unanswered_summary())
    linked = first_ids.split(",")
    assert "f:1" in linked and remaining == 3 - sum(key.startswith("u:") for key in linked)


def test_analytics_page(workspace, tmp_path, monkeypatch):
    editor = sign_in(workspace, "editor.one")
    page = editor.get(f"{workspace}/analytics")
    assert page.status_code == 200 and ("Analytics" in page.text or "统计" in page.text)


def test_documents_can_be_written_and_edited_in_the_page(workspace):
    editor = sign_in(workspace, "editor.one")
    token = csrf_of(editor.get(f"{workspace}/documents/new").text)
    page = editor.post(f"{workspace}/documents/drafts", data={
        "csrf_token": token, "content": "# Bee keeping permits\n\n## Fees\nThe permit is free.",
        "id": "ar-bee-keeping-en", "language": "en", "department": "agriculture_rural",
        "effective_date": "2026-01-01"})
    assert page.url.endswith("/documents/drafts/ar-bee-keeping-en") and "The permit is free." \
        in page.text
    edited = editor.post(f"{workspace}/documents/drafts/ar-bee-keeping-en/text", data={
        "csrf_token": csrf_of(page.text),
        "content": "# Bee keeping permits\n\n## Fees\nThe permit costs 10 yuan."})
    assert "The permit costs 10 yuan." in edited.text and "The permit is free." not in edited.text
    broken = editor.post(f"{workspace}/documents/drafts/ar-bee-keeping-en/text", data={
        "csrf_token": csrf_of(edited.text), "content": "   "})
    assert broken.status_code == 400
    assert "The permit costs 10 yuan." in editor.get(
        f"{workspace}/documents/drafts/ar-bee-keeping-en").text


def test_a_linked_question_becomes_the_documents_question_and_is_answered_once_published(
        workspace):
    """The loop: a question the assistant could not answer, linked by staff to a document,
    is added to that document's draft; after publishing, the assistant answers it from there."""
    from knowledge_base.records import record_unanswered
    from staff.audit import entries

    editor, publisher = sign_in(workspace, "editor.one"), sign_in(workspace, "publisher.one")
    upload(editor, workspace, "kite.md", POLICY.format(fee="三十五").encode())
    token = csrf_of(publisher.get(f"{workspace}/documents/drafts/um-kite-festival-zh").text)
    publisher.post(f"{workspace}/documents/drafts/um-kite-festival-zh/publish",
                   data={"csrf_token": token})
    # Nothing in the document's words says so; staff know the festival is the answer.
    question = "这个春天周末带孩子去哪里玩比较热闹"
    searcher = Searcher(KnowledgeBaseSettings())
    before = searcher.answer(question, "zh")
    assert not (before.answered and before.best.doc_id == "um-kite-festival-zh")
    record_unanswered(question, "zh", "rest", before.confidence, None)

    page = editor.get(f"{workspace}/unanswered")
    ids = re.search(r'name="ids" value="([^"]+)"', page.text).group(1)
    done = editor.post(f"{workspace}/unanswered/handled", data={
        "csrf_token": csrf_of(page.text), "ids": ids, "doc_id": "um-kite-festival-zh"})
    assert done.status_code == 200 and "/documents/drafts/um-kite-festival-zh" in done.text
    draft = editor.get(f"{workspace}/documents/drafts/um-kite-festival-zh")
    assert question in draft.text  # in the draft's questions, editable on its page
    searcher.refresh(force=True)
    assert searcher.answer(question, "zh").confidence == pytest.approx(before.confidence)

    token = csrf_of(publisher.get(f"{workspace}/documents/drafts/um-kite-festival-zh").text)
    published = publisher.post(f"{workspace}/documents/drafts/um-kite-festival-zh/publish",
                               data={"csrf_token": token})
    assert published.status_code == 200
    workflow = Workflow(KnowledgeBase(KnowledgeBaseSettings()))
    assert [v.number for v in workflow.versions("um-kite-festival-zh")] == [1, 2]
    assert workflow.kb.show("um-kite-festival-zh").metadata.questions == (question,)
    searcher.refresh(force=True)
    after = searcher.answer(question, "zh")
    assert after.answered and after.best.doc_id == "um-kite-festival-zh"
    # a passage of the document is quoted, never the linked question itself
    assert after.best.text != question and after.best.headings[-1] in ("收费", "申请时间")
    assert [e.action for e in entries(actor="editor.one")
            if e.target == "um-kite-festival-zh"].count("unanswered.handled") == 1


def test_staff_edit_a_drafts_questions(workspace):
    editor = sign_in(workspace, "editor.one")
    upload(editor, workspace, "kite.md", POLICY.format(fee="三十五").encode())
    page = editor.get(f"{workspace}/documents/drafts/um-kite-festival-zh")
    saved = editor.post(f"{workspace}/documents/drafts/um-kite-festival-zh/questions", data={
        "csrf_token": csrf_of(page.text), "questions": "风筝节摊位费多少\r\n\r\nkite stall fee"})
    assert saved.status_code == 200 and "kite stall fee" in saved.text
    drafts = Workflow(KnowledgeBase(KnowledgeBaseSettings())).drafts
    assert drafts.require("um-kite-festival-zh").metadata.questions == ("风筝节摊位费多少",
                                                                          "kite stall fee")
    too_long = editor.post(f"{workspace}/documents/drafts/um-kite-festival-zh/questions", data={
        "csrf_token": csrf_of(page.text), "questions": "长" * 2000})
    assert too_long.status_code == 400 and ("1000" in too_long.text)
