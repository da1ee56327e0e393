"""`python -m services.action_server --actions actions --port 5055` — rasa_sdk's own command line
(same arguments), logging the project's way (stack/logs.py) instead of coloredlogs, and served
from the process that loaded the actions. The stack starts the action server this way in both
run modes.

rasa_sdk 3.21 imports the actions (sentence encoder, knowledge-base index, routing classifier:
~400 MB) in its main process and then has Sanic spawn a worker process that imports them all
again to serve requests, so every action server held two copies and took twice as long to
load. Here the main process serves itself (`Sanic.serve_single`); with one worker that is all
Sanic's worker manager did, less the copy. More action servers are more processes (production
mode, `GOV_ACTION_INSTANCES`).

Only Rasa may run actions: the server listens on GOV_ACTION_HOST (loopback by default) and
refuses every request but `GET /health` that does not carry the action token
(`services/action_token.py`; Rasa sends it from endpoints.yml).
"""

from __future__ import annotations

from typing import Any

from services.action_token import require_action_token
from stack import logs
from stack.settings import Settings

SERVICE = "action-server"
SANIC_LOGGERS = ("sanic.root", "sanic.error", "sanic.access", "sanic.server",
                 "sanic.websockets")
_original_create_app: list[Any] = []


def install() -> None:
    """rasa_sdk installs coloredlogs and then cuts Sanic's loggers off from the root logger;
    route both back through ours; serve from this process."""
    import rasa_sdk.__main__
    from rasa_sdk import endpoint, utils

    logs.claim_coloredlogs()
    logs.call_after(utils, "update_sanic_log_level", lambda: logs.route_to_root(*SANIC_LOGGERS))
    if not _original_create_app:
        _original_create_app.append(endpoint.create_app_for_serve)
        endpoint.create_app_for_serve = create_app_for_serve
    rasa_sdk.__main__.run = run_single_process


def create_app_for_serve(*args: Any, **kwargs: Any) -> Any:
    """rasa_sdk's app factory, with logging set up first (also right if Sanic calls it in a
    worker process of its own)."""
    from rasa_sdk import endpoint, utils

    logs.configure(SERVICE)
    logs.claim_coloredlogs()
    utils.update_sanic_log_level()  # as in the main process: Sanic's own lines at ERROR
    logs.route_to_root(*SANIC_LOGGERS)
    build = _original_create_app[0] if _original_create_app else endpoint.create_app_for_serve
    app = build(*args, **kwargs)
    require_action_token(app, Settings().action_token())
    return app


def run_single_process(action_executor: Any, port: int, cors_origins: Any = "*",
                       ssl_certificate: str | None = None, ssl_keyfile: str | None = None,
                       ssl_password: str | None = None, auto_reload: bool = False,
                       endpoints: str | None = None, keep_alive_timeout: int | None = None,
                       ) -> None:
    """`rasa_sdk.endpoint.run` (same arguments, same app, same address) in one process."""
    from rasa_sdk import endpoint
    from rasa_sdk.constants import DEFAULT_ENDPOINTS_PATH, DEFAULT_KEEP_ALIVE_TIMEOUT
    from sanic import Sanic

    app = create_app_for_serve(
        action_executor, cors_origins=cors_origins, auto_reload=auto_reload,
        endpoints=endpoints or DEFAULT_ENDPOINTS_PATH,
        keep_alive_timeout=keep_alive_timeout or DEFAULT_KEEP_ALIVE_TIMEOUT)
    ssl_config = endpoint.create_ssl_config(ssl_certificate, ssl_keyfile, ssl_password)
    app.prepare(host=Settings().action_host, port=port, ssl=ssl_config,
                single_process=True, motd=False)
    Sanic.serve_single(primary=app)


def main() -> None:
    logs.configure(SERVICE)
    install()
    from rasa_sdk.__main__ import main as rasa_sdk_main

    rasa_sdk_main()


if __name__ == "__main__":
    main()
