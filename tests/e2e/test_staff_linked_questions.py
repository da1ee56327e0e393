"""The staff loop on the running stack: a question the assistant could not answer is linked by
staff to a document in the workspace, the draft with that question is published, and the
running assistant then answers the question from that document."""

from __future__ import annotations

import re
import time
import uuid

import requests

from helpers import response_texts
from helpers.chat import RestConversation
from helpers.knowledge import stack_reload_seconds
from staff.accounts import create_user

PASSWORD = "publisher passphrase 2026"
POLICY = """---
id: {doc_id}
title: 湖滨风筝节摊位办理指南
language: zh
department: urban_management
effective_date: 2026-03-01
---
# 湖滨风筝节摊位办理指南

## 收费
风筝节期间临时摊位费每天三十五元，在“滨江通”App缴纳。

## 申请时间
每年3月1日至3月15日在线申请，名额有限，先到先得。
"""
# Nothing in the document's words says so; staff know the festival is the answer.
QUESTION = "这个春天周末带孩子去哪里玩比较热闹"


def csrf_of(html: str) -> str:
    return re.search(r'name="csrf_token" value="([^"]+)"', html).group(1)


def signed_in(url: str, username: str) -> requests.Session:
    browser = requests.Session()
    token = re.search(r'name="login_csrf" value="([^"]+)"',
                      browser.get(f"{url}/login").text).group(1)
    browser.post(f"{url}/login", data={"login_csrf": token, "username": username,
                                       "password": PASSWORD}, allow_redirects=False)
    return browser


def publish(browser: requests.Session, url: str, doc_id: str) -> None:
    page = browser.get(f"{url}/documents/drafts/{doc_id}")
    done = browser.post(f"{url}/documents/drafts/{doc_id}/publish",
                        data={"csrf_token": csrf_of(page.text)})
    assert done.status_code == 200 and f"/documents/{doc_id}" in done.url


def test_a_linked_question_is_answered_by_the_running_assistant_after_publish(stack):
    url = stack.settings.staff_url
    username = f"pub{uuid.uuid4().hex[:6]}"
    create_user(username, PASSWORD, "publisher", "Publisher Li",
                url=f"sqlite:///{stack.settings.state_dir / 'gov.db'}")
    doc_id = f"um-kite-stalls-{uuid.uuid4().hex[:6]}-zh"
    staff = signed_in(url, username)
    form = staff.get(f"{url}/documents/new")
    staff.post(f"{url}/documents/drafts", data={"csrf_token": csrf_of(form.text)},
               files={"file": ("kites.md", POLICY.format(doc_id=doc_id).encode())})
    publish(staff, url, doc_id)
    time.sleep(stack_reload_seconds() + 1)

    citizen = RestConversation(stack.settings.rasa_url)
    assert response_texts("utter_kb_no_answer", "zh")[0] in citizen.texts(QUESTION)

    page = staff.get(f"{url}/unanswered").text
    group = next(part for part in page.split('<section class="card">') if QUESTION in part)
    ids = re.search(r'name="ids" value="([^"]+)"', group).group(1)
    linked = staff.post(f"{url}/unanswered/handled",
                        data={"csrf_token": csrf_of(page), "ids": ids, "doc_id": doc_id})
    assert linked.status_code == 200
    publish(staff, url, doc_id)
    time.sleep(stack_reload_seconds() + 1)

    answer = RestConversation(stack.settings.rasa_url).say(QUESTION)[0]["text"]
    assert "《湖滨风筝节摊位办理指南》" in answer
