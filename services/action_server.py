"""`python -m services.action_server --actions actions --port 5055` — rasa_sdk's action server,
with rasa_sdk's own arguments. The stack starts the action server this way in both run modes.

Three differences from `python -m rasa_sdk`, none of them a patch:
- **One process.** rasa_sdk 3.21 imports the actions (sentence encoder, knowledge-base index,
  routing classifier: ~400 MB) in its main process and then has Sanic spawn a worker process
  that imports them all again to serve requests, so every action server held two copies and
  took twice as long to load. Here the main process serves itself (`Sanic.serve_single`, same
  app from rasa_sdk's own factory, same address); with one worker that is all Sanic's worker
  manager did, less the copy. More action servers are more processes (production mode,
  `GOV_ACTION_INSTANCES`).
- **The project's logs** (common/logs.py) instead of coloredlogs: rasa_sdk's main, which
  installs coloredlogs, is not used; Sanic's loggers, which rasa_sdk cuts off from the root,
  log through ours.
- **Additions through rasa_sdk's plugin hook** (`attach_sanic_app_extensions`, registered by
  `bot.patches.install_sdk`, which first refuses an untested rasa_sdk): only Rasa may run
  actions — every request but `GET /health` without the action token is refused
  (services/action_token.py; Rasa sends the token from endpoints.yml); and the actions'
  start-up work (actions/startup.py) runs before the server serves, never at import.

The server listens on GOV_ACTION_HOST (loopback by default).
"""

from __future__ import annotations

import asyncio
import logging
import sys
from typing import Any

import pluggy

from bot import patches
from common import logs
from common.settings import Settings
from services.action_token import require_action_token

SERVICE = "action-server"
SANIC_LOGGERS = ("sanic.root", "sanic.error", "sanic.access", "sanic.server",
                 "sanic.websockets")
GRPC_REFUSED = ("gRPC 不在这里提供：动作服务器只通过 HTTP 为 Rasa 服务。 "
                "gRPC is not served here: the action server serves Rasa over HTTP only.")
hookimpl = pluggy.HookimplMarker("rasa_sdk")


@hookimpl
def attach_sanic_app_extensions(app: Any) -> None:
    """rasa_sdk's hook, called by its app factory: the token check on every request, and the
    actions' start-up work before the server serves."""
    require_action_token(app, Settings().action_token())
    app.register_listener(_start_actions, "before_server_start")


async def _start_actions(_: Any) -> None:
    from actions import startup

    await asyncio.to_thread(startup.start)


def main(argv: list[str] | None = None) -> None:
    logs.configure(SERVICE)
    patches.install_sdk(sys.modules[__name__])
    from rasa_sdk import utils
    from rasa_sdk.constants import APPLICATION_ROOT_LOGGER_NAME
    from rasa_sdk.endpoint import create_argument_parser
    from rasa_sdk.executor import ActionExecutor

    args = create_argument_parser().parse_args(argv)
    if args.grpc:
        raise SystemExit(GRPC_REFUSED)
    # What rasa_sdk's main sets up, less coloredlogs: its `--log-file` (in our format once
    # adopted) and Sanic's log level, with Sanic's loggers back on the root.
    utils.configure_file_logging(logging.getLogger(APPLICATION_ROOT_LOGGER_NAME), args.log_file,
                                 args.loglevel, args.logging_config_file)
    utils.update_sanic_log_level()
    logs.route_to_root(*SANIC_LOGGERS)
    executor = ActionExecutor()
    executor.register_package(args.actions_module or args.actions)
    serve(executor, args.port, args.cors, args.ssl_certificate, args.ssl_keyfile,
          args.ssl_password, args.auto_reload, args.endpoints)


def serve(action_executor: Any, port: int, cors_origins: Any = "*",
          ssl_certificate: str | None = None, ssl_keyfile: str | None = None,
          ssl_password: str | None = None, auto_reload: bool = False,
          endpoints: str | None = None) -> None:
    """`rasa_sdk.endpoint.run` (same arguments, same app, same address) in one process."""
    from rasa_sdk import endpoint
    from rasa_sdk.constants import DEFAULT_ENDPOINTS_PATH
    from sanic import Sanic

    app = endpoint.create_app_for_serve(action_executor, cors_origins=cors_origins,
                                        auto_reload=auto_reload,
                                        endpoints=endpoints or DEFAULT_ENDPOINTS_PATH)
    ssl_config = endpoint.create_ssl_config(ssl_certificate, ssl_keyfile, ssl_password)
    app.prepare(host=Settings().action_host, port=port, ssl=ssl_config,
                single_process=True, motd=False)
    Sanic.serve_single(primary=app)


if __name__ == "__main__":
    main()
