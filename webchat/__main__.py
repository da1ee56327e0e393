"""`python -m webchat --port 8080 --rasa-url http://127.0.0.1:5005`"""

from __future__ import annotations

import argparse

from aiohttp import web

from webchat.app import create_app


def main() -> None:
    parser = argparse.ArgumentParser(description="Serve the citizen web chat page.")
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=8080)
    parser.add_argument("--rasa-url", default="http://127.0.0.1:5005")
    args = parser.parse_args()
    web.run_app(create_app(args.rasa_url), host=args.host, port=args.port, print=None)


if __name__ == "__main__":
    main()
