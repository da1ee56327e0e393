"""`python -m webchat --port 8080 --rasa-url http://127.0.0.1:5005`

`--frame-ancestors` lists the sites allowed to embed the page, e.g. "https://www.example.gov.cn";
the default `*` lets any site use /embed.js. The stack passes GOV_WEBCHAT_FRAME_ANCESTORS.
"""

from __future__ import annotations

import argparse

from aiohttp import web

from webchat.app import create_app


def main() -> None:
    parser = argparse.ArgumentParser(description="Serve the citizen web chat page.")
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=8080)
    parser.add_argument("--rasa-url", default="http://127.0.0.1:5005")
    parser.add_argument("--frame-ancestors", default="*")
    args = parser.parse_args()
    app = create_app(args.rasa_url, args.frame_ancestors)
    web.run_app(app, host=args.host, port=args.port, print=None)


if __name__ == "__main__":
    main()
