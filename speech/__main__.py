"""`python -m speech --host H --port P`: run the speech service (started by `make run`)."""

from __future__ import annotations

import argparse

from aiohttp import web

from common import logs
from speech.service import create_app


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=8082)
    args = parser.parse_args()
    logs.configure("speech")
    web.run_app(create_app(), host=args.host, port=args.port, print=None)


if __name__ == "__main__":
    main()
