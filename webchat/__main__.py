"""`python -m webchat --port 8080 --rasa-url http://127.0.0.1:5005`

`--frame-ancestors` lists the sites allowed to embed the page, e.g. "https://www.example.gov.cn";
the default `*` lets any site use /embed.js. The stack passes GOV_WEBCHAT_FRAME_ANCESTORS.

`--voice-url` is where the voice page (/voice) posts recordings; the default is the Rasa
server's voice channel, `<rasa-url>/webhooks/voice/webhook`. In production mode point it at the
balancer: voice turns are plain HTTP requests, so any Rasa instance can take them.

`--action-url` and `--speech-url` are asked, with Rasa, by `GET /readyz` (webchat/readiness.py),
which the pages poll before they let citizens type or speak.
"""

from __future__ import annotations

import argparse

from aiohttp import web

from common import logs
from webchat.app import VOICE_WEBHOOK_PATH, create_app


def main() -> None:
    parser = argparse.ArgumentParser(description="Serve the citizen web chat page.")
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=8080)
    parser.add_argument("--rasa-url", default="http://127.0.0.1:5005")
    parser.add_argument("--frame-ancestors", default="*")
    parser.add_argument("--voice-url", default=None,
                        help=f"the voice channel (default: <rasa-url>{VOICE_WEBHOOK_PATH})")
    parser.add_argument("--action-url", default=None, help="the action server, for /readyz")
    parser.add_argument("--speech-url", default=None, help="the speech service, for /readyz")
    args = parser.parse_args()
    logs.configure("webchat")
    app = create_app(args.rasa_url, args.frame_ancestors, args.voice_url, args.action_url,
                     args.speech_url)
    web.run_app(app, host=args.host, port=args.port, print=None)


if __name__ == "__main__":
    main()
