"""Staff accounts: argon2 password hashes, roles, lockout after repeated failed sign-ins."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from sqlalchemy import select

from staff.audit import record
from staff.config import StaffSettings
from storage.clock import as_utc, utc_now
from storage.database import sessions
from storage.models import StaffUser

ROLES = ("editor", "publisher", "admin")
# What each role may do; a role includes everything of the roles before it.
PERMISSIONS = {
    "editor": {"view", "draft", "handoff"},
    "publisher": {"publish"},
    "admin": {"accounts"},
}
_hasher = PasswordHasher()
# Verified against when the username is unknown, so both cases take the same time.
_DUMMY_HASH = _hasher.hash("not a real password, only for timing")


class AccountError(ValueError):
    """A bilingual, user-facing refusal."""

    def __init__(self, key: str) -> None:
        super().__init__(key)
        self.key = key


@dataclass(frozen=True)
class StaffMember:
    id: int
    username: str
    display_name: str
    role: str
    active: bool

    def can(self, permission: str) -> bool:
        granted: set[str] = set()
        for role in ROLES[: ROLES.index(self.role) + 1]:
            granted |= PERMISSIONS[role]
        return permission in granted


def member_of(user: StaffUser) -> StaffMember:
    return StaffMember(user.id, user.username, user.display_name or user.username, user.role,
                       user.active)


def check_password_rules(password: str) -> None:
    if len(password) < StaffSettings().min_password_length or password.strip() != password:
        raise AccountError("weak_password")


def create_user(username: str, password: str, role: str, display_name: str = "",
                actor: str = "cli", url: str | None = None) -> StaffMember:
    username = username.strip().lower()
    if not username or len(username) > 64 or not username.replace(".", "").replace(
            "_", "").replace("-", "").isalnum():
        raise AccountError("bad_username")
    if role not in ROLES:
        raise AccountError("bad_role")
    check_password_rules(password)
    with sessions(url).begin() as session:
        if session.scalar(select(StaffUser).where(StaffUser.username == username)):
            raise AccountError("user_exists")
        user = StaffUser(username=username, display_name=display_name.strip()[:120],
                         password_hash=_hasher.hash(password), role=role)
        session.add(user)
        session.flush()
        member = member_of(user)
    record(actor, "account.create", username, f"role={role}", url=url)
    return member


def authenticate(username: str, password: str, url: str | None = None) -> StaffMember:
    """The member, or AccountError("bad_login") for every failure: unknown name, wrong password,
    locked or deactivated account. Each attempt verifies exactly one password hash (a dummy one
    for unknown names), so neither the answer nor its timing tells which names exist. The real
    reason is counted and audited."""
    settings = StaffSettings()
    username = username.strip().lower()[:64]
    now = utc_now()
    with sessions(url).begin() as session:
        user = session.scalar(select(StaffUser).where(StaffUser.username == username))
        matches = _password_matches(user.password_hash if user else _DUMMY_HASH, password)
        if user is None:
            outcome = "bad_login"
        elif user.locked_until and as_utc(user.locked_until) > now:
            outcome = "locked"
        elif matches and user.active:
            outcome = "ok"
            user.failed_logins, user.locked_until = 0, None
            if _hasher.check_needs_rehash(user.password_hash):
                user.password_hash = _hasher.hash(password)
        else:
            outcome = "bad_login" if user.active else "inactive"
            user.failed_logins += 1
            if user.failed_logins >= settings.max_failed_logins:
                user.locked_until = now + dt.timedelta(minutes=settings.lockout_minutes)
                user.failed_logins = 0
                outcome = "locked"
        member = member_of(user) if outcome == "ok" and user else None
    record(username or "-", "login" if member else f"login.{outcome}", username, url=url)
    if member is None:
        raise AccountError("bad_login")
    return member


def _password_matches(stored_hash: str, password: str) -> bool:
    try:
        return _hasher.verify(stored_hash, password)
    except (VerificationError, InvalidHashError):
        return False


def list_users(url: str | None = None) -> list[StaffMember]:
    with sessions(url)() as session:
        return [member_of(user) for user in session.scalars(select(StaffUser)
                                                          .order_by(StaffUser.username))]


def update_user(username: str, actor: str, role: str | None = None,
                active: bool | None = None, url: str | None = None) -> StaffMember:
    if role is not None and role not in ROLES:
        raise AccountError("bad_role")
    with sessions(url).begin() as session:
        user = session.scalar(select(StaffUser).where(StaffUser.username == username))
        if user is None:
            raise AccountError("no_such_user")
        if username == actor and (role not in (None, "admin") or active is False):
            raise AccountError("not_yourself")  # an admin cannot lock themselves out
        changes = []
        if role is not None and role != user.role:
            user.role = role
            changes.append(f"role={role}")
        if active is not None and active != user.active:
            user.active = active
            changes.append(f"active={active}")
        member = member_of(user)
    if changes:
        record(actor, "account.update", username, ", ".join(changes), url=url)
    return member
