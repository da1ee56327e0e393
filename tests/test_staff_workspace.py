"""The staff workspace over real HTTP against a real database: every permission boundary
(each role, signed out, missing CSRF token, another member's session), sign-in lockout,
the handoff queue pages, the audit log and its export, and the first-admin CLI."""

from __future__ import annotations

import os
import re
import subprocess
import sys

import pytest
import requests
from argon2 import PasswordHasher
from sqlalchemy import create_engine, update
from sqlalchemy.orm import Session

from helpers.staff import PASSWORD, csrf_of, sign_in
from staff.accounts import update_user
from storage.handoffs import enqueue, list_handoffs
from storage.migrate import upgrade
from storage.models import StaffUser


@pytest.mark.parametrize(("path", "allowed"), [
    ("/", {"editor", "publisher", "admin"}),
    ("/handoffs", {"editor", "publisher", "admin"}),
    ("/audit", {"publisher", "admin"}),
    ("/audit.csv", {"publisher", "admin"}),
    ("/accounts", {"admin"}),
    ("/settings", {"admin"}),
])
def test_each_role_sees_only_its_pages(workspace, path, allowed):
    anonymous = requests.get(f"{workspace}{path}", allow_redirects=False)
    assert anonymous.status_code == 303 and anonymous.headers["Location"] == "/login"
    for role in ("editor", "publisher", "admin"):
        response = sign_in(workspace, f"{role}.one").get(f"{workspace}{path}")
        assert response.status_code == (200 if role in allowed else 403), (role, path)


def test_sign_in_is_bilingual_and_sets_a_hardened_cookie(workspace):
    page = requests.get(f"{workspace}/login", headers={"Accept-Language": "zh-CN"})
    assert "登录" in page.text and "用户名" in page.text
    assert "Sign in" in requests.get(f"{workspace}/login").text
    browser = requests.Session()
    token = re.search(r'name="login_csrf" value="([^"]+)"',
                      browser.get(f"{workspace}/login").text).group(1)
    response = browser.post(f"{workspace}/login", allow_redirects=False, data={
        "login_csrf": token, "username": "editor.one", "password": PASSWORD})
    cookie = response.headers["Set-Cookie"]
    assert "HttpOnly" in cookie and "SameSite=Strict" in cookie
    assert "Content-Security-Policy" in browser.get(f"{workspace}/").headers


def _refused_sign_in(workspace: str, username: str, password: str) -> tuple[int, str]:
    """Status and page of a sign-in attempt, with the fresh per-page token taken out."""
    browser = requests.Session()
    token = re.search(r'name="login_csrf" value="([^"]+)"',
                      browser.get(f"{workspace}/login").text).group(1)
    response = browser.post(f"{workspace}/login", allow_redirects=False, data={
        "login_csrf": token, "username": username, "password": password})
    return response.status_code, re.sub(r'name="login_csrf" value="[^"]+"', "", response.text)


def test_wrong_passwords_lock_the_account(workspace):
    for _ in range(3):
        _refused_sign_in(workspace, "editor.one", "wrong password!!")
    # now even the right password is refused, until the lock expires
    status, _page = _refused_sign_in(workspace, "editor.one", PASSWORD)
    assert status == 401
    assert sign_in(workspace, "editor.one").get(f"{workspace}/", allow_redirects=False) \
        .status_code == 303
    with Session(create_engine(os.environ["GOV_DATABASE_URL"])) as session:
        session.execute(update(StaffUser).values(locked_until=None))
        session.commit()
    assert sign_in(workspace, "editor.one").get(f"{workspace}/").status_code == 200


def test_every_failed_sign_in_looks_the_same_and_costs_one_hash(workspace, monkeypatch):
    """Unknown name, wrong password, locked account, deactivated account: the same status, the
    same page, and one password-hash verification each, so nothing tells which names exist."""
    for _ in range(3):
        _refused_sign_in(workspace, "editor.one", "wrong password!!")  # editor.one is locked
    update_user("publisher.one", "admin.one", active=False)
    verifications = []
    real_verify = PasswordHasher.verify

    def counted(self, stored, password):
        verifications.append(stored)
        return real_verify(self, stored, password)

    monkeypatch.setattr(PasswordHasher, "verify", counted)
    answers = {}
    for case, username, password in (("unknown", "no.such.member", PASSWORD),
                                      ("wrong password", "admin.one", "wrong password!!"),
                                      ("locked", "editor.one", PASSWORD),
                                      ("deactivated", "publisher.one", PASSWORD)):
        before = len(verifications)
        answers[case] = _refused_sign_in(workspace, username, password)
        assert len(verifications) == before + 1, case
    assert len(set(answers.values())) == 1, answers
    status, page = answers["unknown"]
    assert status == 401 and "Wrong username or password" in page


def test_login_without_its_csrf_token_is_refused(workspace):
    response = requests.post(f"{workspace}/login", data={
        "username": "admin.one", "password": PASSWORD}, allow_redirects=False)
    assert response.status_code == 403


def test_forms_need_the_sessions_own_csrf_token(workspace):
    admin = sign_in(workspace, "admin.one")
    other = sign_in(workspace, "publisher.one")
    form = {"username": "new.editor", "password": PASSWORD, "role": "editor"}
    assert admin.post(f"{workspace}/accounts", data=form).status_code == 403
    stolen = csrf_of(other.get(f"{workspace}/").text)  # another member's token
    assert admin.post(f"{workspace}/accounts", data={**form, "csrf_token": stolen}) \
        .status_code == 403
    own = csrf_of(admin.get(f"{workspace}/accounts").text)
    created = admin.post(f"{workspace}/accounts", data={**form, "csrf_token": own})
    assert created.status_code == 200 and "new.editor" in created.text


def test_editors_cannot_manage_accounts_even_with_a_valid_token(workspace):
    editor = sign_in(workspace, "editor.one")
    token = csrf_of(editor.get(f"{workspace}/").text)
    response = editor.post(f"{workspace}/accounts", data={
        "csrf_token": token, "username": "sneaky", "password": PASSWORD, "role": "admin"})
    assert response.status_code == 403
    assert "sneaky" not in sign_in(workspace, "admin.one").get(f"{workspace}/accounts").text


def test_sign_out_ends_the_session(workspace):
    editor = sign_in(workspace, "editor.one")
    token = csrf_of(editor.get(f"{workspace}/").text)
    cookie = editor.cookies.get("gov_staff_session")
    editor.post(f"{workspace}/logout", data={"csrf_token": token})
    replay = requests.get(f"{workspace}/", cookies={"gov_staff_session": cookie},
                          allow_redirects=False)
    assert replay.status_code == 303


def test_deactivated_members_lose_their_session(workspace):
    editor = sign_in(workspace, "editor.one")
    admin = sign_in(workspace, "admin.one")
    token = csrf_of(admin.get(f"{workspace}/accounts").text)
    admin.post(f"{workspace}/accounts/editor.one", data={"csrf_token": token, "role": "editor"})
    assert editor.get(f"{workspace}/", allow_redirects=False).status_code == 303


def test_admins_cannot_lock_themselves_out(workspace):
    admin = sign_in(workspace, "admin.one")
    token = csrf_of(admin.get(f"{workspace}/accounts").text)
    response = admin.post(f"{workspace}/accounts/admin.one",
                          data={"csrf_token": token, "role": "editor", "active": "on"})
    assert response.status_code == 400
    assert admin.get(f"{workspace}/accounts").status_code == 200


def test_handoff_queue_page_take_and_audit(workspace):
    enqueue("web-123", "socketio", "zh", "requested",
            [{"sender": "citizen", "text": "我的电话13812345678，帮我转人工", "at": "t"}])
    editor = sign_in(workspace, "editor.one")
    page = editor.get(f"{workspace}/handoffs")
    assert "13812345678" not in page.text and "****5678" in page.text
    entry = list_handoffs()[0]
    taken = editor.post(f"{workspace}/handoffs/{entry.id}/take",
                        data={"csrf_token": csrf_of(page.text)})
    assert taken.status_code == 200 and list_handoffs("taken")[0].taken_by == "editor.one"
    again = editor.post(f"{workspace}/handoffs/{entry.id}/take",
                        data={"csrf_token": csrf_of(page.text)})
    assert again.status_code == 409
    audit = sign_in(workspace, "publisher.one").get(f"{workspace}/audit.csv")
    assert audit.headers["Content-Type"].startswith("text/csv")
    assert re.search(r"editor\.one,handoff\.take,web-123", audit.text)
    assert "login.bad_login" in audit.text or "login," in audit.text


def test_first_admin_only_from_the_cli(database_url, monkeypatch, tmp_path):
    monkeypatch.setenv("GOV_DATABASE_URL", database_url)
    upgrade(database_url)
    command = [sys.executable, "-m", "staff.cli", "create-admin", "--username", "chief",
               "--password-stdin"]
    weak = subprocess.run(command, input="short\n", capture_output=True, text=True)
    assert weak.returncode == 2 and "12" in weak.stderr
    made = subprocess.run(command, input=PASSWORD + "\n", capture_output=True, text=True)
    assert made.returncode == 0, made.stderr
    listing = subprocess.run([sys.executable, "-m", "staff.cli", "list"], capture_output=True,
                             text=True)
    assert "chief\tadmin" in listing.stdout


def test_sessions_expire_when_idle_and_are_touched_at_most_once_a_minute(database_url):
    """A page view does not write the session row each time, yet an idle session still ends
    after GOV_STAFF_IDLE_MINUTES (default 60) of no use."""
    import datetime as dt

    from sqlalchemy import select, update

    from staff.accounts import create_user
    from staff.sessions import current_session, start_session
    from storage.clock import as_utc, utc_now
    from storage.database import sessions
    from storage.models import StaffSession

    upgrade(database_url)
    member = create_user("clerk.idle", PASSWORD, "editor", url=database_url)
    token = start_session(member, database_url)

    def last_seen() -> dt.datetime:
        with sessions(database_url)() as session:
            return as_utc(session.scalars(select(StaffSession)).one().last_seen)

    def seen(minutes_ago: float) -> None:
        with sessions(database_url).begin() as session:
            session.execute(update(StaffSession).values(
                last_seen=utc_now() - dt.timedelta(minutes=minutes_ago)))

    seen(0.5)
    before = last_seen()
    assert current_session(token, database_url).member.username == "clerk.idle"
    assert last_seen() == before  # touched 30 s ago: no write
    seen(5)
    assert current_session(token, database_url) is not None
    assert utc_now() - last_seen() < dt.timedelta(seconds=30)  # written again
    seen(61)
    assert current_session(token, database_url) is None  # idle too long: signed out
    assert current_session(token, database_url) is None


def test_odd_methods_and_oversize_forms_are_refused_and_change_nothing(workspace):
    admin = sign_in(workspace, "admin.one")
    for method, path in (("PUT", "/login"), ("DELETE", "/accounts"), ("PATCH", "/"),
                         ("DELETE", "/accounts/editor.one"), ("PUT", "/handoffs")):
        assert admin.request(method, f"{workspace}{path}").status_code == 405, (method, path)
    # a sign-in form far beyond any real one is refused before it is read
    browser = requests.Session()
    token = re.search(r'name="login_csrf" value="([^"]+)"',
                      browser.get(f"{workspace}/login").text).group(1)
    huge = browser.post(f"{workspace}/login", allow_redirects=False, data={
        "login_csrf": token, "username": "admin.one", "password": "x" * (30 * 1024 * 1024)})
    assert huge.status_code == 413
    token = csrf_of(admin.get(f"{workspace}/accounts").text)
    created = admin.post(f"{workspace}/accounts", data={
        "csrf_token": token, "username": "flood", "password": PASSWORD, "role": "editor",
        "padding": "x" * (30 * 1024 * 1024)})
    assert created.status_code == 413
    assert "flood" not in admin.get(f"{workspace}/accounts").text
    assert admin.get(f"{workspace}/").status_code == 200  # still serving
