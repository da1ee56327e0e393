"""`python -m stack.action_server --actions actions --port 5055` — rasa_sdk's own command line
(same arguments), logging the project's way (stack/logs.py) instead of coloredlogs. The stack
starts the action server this way in both run modes.

rasa_sdk serves from Sanic worker processes that are spawned, not forked: they inherit nothing
of the main process's logging set-up, so it is done again where each worker builds its app.
"""

from __future__ import annotations

from typing import Any

from stack import logs

SERVICE = "action-server"
SANIC_LOGGERS = ("sanic.root", "sanic.error", "sanic.access", "sanic.server",
                 "sanic.websockets")
_original_create_app: list[Any] = []


def install() -> None:
    """rasa_sdk installs coloredlogs and then cuts Sanic's loggers off from the root logger;
    route both back through ours, here and in every worker."""
    from rasa_sdk import endpoint, utils

    logs.claim_coloredlogs()
    logs.call_after(utils, "update_sanic_log_level", lambda: logs.route_to_root(*SANIC_LOGGERS))
    if not _original_create_app:
        _original_create_app.append(endpoint.create_app_for_serve)
        endpoint.create_app_for_serve = create_app_for_serve


def create_app_for_serve(*args: Any, **kwargs: Any) -> Any:
    """rasa_sdk's app factory, which Sanic calls (unpickled) in each worker process: set up
    logging there first."""
    from rasa_sdk import endpoint, utils

    logs.configure(SERVICE)
    logs.claim_coloredlogs()
    utils.update_sanic_log_level()  # as in the main process: Sanic's own lines at ERROR
    logs.route_to_root(*SANIC_LOGGERS)
    build = _original_create_app[0] if _original_create_app else endpoint.create_app_for_serve
    return build(*args, **kwargs)


def main() -> None:
    logs.configure(SERVICE)
    install()
    from rasa_sdk.__main__ import main as rasa_sdk_main

    rasa_sdk_main()


if __name__ == "__main__":
    main()
