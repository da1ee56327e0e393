"""`bin/staff create-admin --username NAME` — accounts from the command line.

The first administrator can only be created here (there is no default password): the
password is read from the terminal, or from standard input with --password-stdin.
"""

from __future__ import annotations

import argparse
import getpass
import os
import sys

from common.registry import setting
from staff.accounts import ROLES, AccountError, create_user, list_users
from staff.i18n import translate


def _language() -> str:
    chosen = setting("GOV_STAFF_LANGUAGE") or os.environ.get("LANG", "")
    return "zh" if chosen.lower().startswith("zh") else "en"


def _password(from_stdin: bool) -> str:
    if from_stdin:
        return sys.stdin.readline().rstrip("\n")
    first = getpass.getpass("Password / 密码: ")
    if first != getpass.getpass("Again / 再输一次: "):
        raise SystemExit("passwords differ / 两次输入的密码不一致")
    return first


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="bin/staff", description=__doc__)
    commands = parser.add_subparsers(dest="command", required=True)
    for name, help_text in (("create-admin", "create an administrator"),
                            ("create-user", "create an account with a role")):
        command = commands.add_parser(name, help=help_text)
        command.add_argument("--username", required=True)
        command.add_argument("--name", default="", help="display name")
        command.add_argument("--password-stdin", action="store_true")
        if name == "create-user":
            command.add_argument("--role", choices=ROLES, required=True)
    commands.add_parser("list", help="list accounts")
    args = parser.parse_args(argv)
    language = _language()
    if args.command == "list":
        for member in list_users():
            state = "" if member.active else " (inactive)"
            print(f"{member.username}\t{member.role}\t{member.display_name}{state}")
        return 0
    role = "admin" if args.command == "create-admin" else args.role
    try:
        member = create_user(args.username, _password(args.password_stdin), role, args.name,
                             actor="cli")
    except AccountError as refusal:
        print(translate(refusal.key, language), file=sys.stderr)
        return 2
    print(f"{translate('accounts.created', language)} {member.username} ({member.role})")
    return 0


if __name__ == "__main__":
    sys.exit(main())
