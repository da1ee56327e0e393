"""`python -m staff --port 8081 --rasa-url http://127.0.0.1:5005` — the staff API.

Tokens come from the environment: GOV_STAFF_API_TOKEN (else var/staff-api.token) for callers,
GOV_RASA_API_TOKEN for resuming conversations in Rasa."""

from __future__ import annotations

import argparse

from aiohttp import web

from common import logs
from common.registry import setting
from common.settings import Settings
from staff.app import create_app


def main() -> None:
    settings = Settings()
    parser = argparse.ArgumentParser(description="Serve the staff API.")
    parser.add_argument("--host", default=settings.host)
    parser.add_argument("--port", type=int, default=settings.staff_port)
    parser.add_argument("--rasa-url", default=settings.rasa_url)
    args = parser.parse_args()
    logs.configure("staff")
    app = create_app(settings.staff_api_token(), args.rasa_url, setting("GOV_RASA_API_TOKEN") or "")
    web.run_app(app, host=args.host, port=args.port, print=None)


if __name__ == "__main__":
    main()
