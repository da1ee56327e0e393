"""Rasa's own ways of logging, brought into the project's one format (common/logs.py: text or
JSON, personal data masked): coloredlogs, its `--log-file` handler, Sanic's console handlers
and `propagate = False` on its loggers, structlog's renderers, and what Rasa prints on the
console (`print_warning` and friends). These are the replacements; bot/patches.py puts them in
place before Rasa sets up its logging.
"""

from __future__ import annotations

import logging
from typing import Any

from common import logs

SERVICE = "rasa-server"
SANIC_LOGGERS = ("sanic.root", "sanic.error", "sanic.access", "sanic.server")


def configure_again(*_: Any, **__: Any) -> None:
    """For `coloredlogs.install`: our handler again instead of coloredlogs' own."""
    logs.configure(SERVICE)


def file_log_in_our_format() -> None:
    """After Rasa's `configure_file_logging`: its `--log-file` is written in our format, masked."""
    logs.adopt()


def sanic_through_ours() -> None:
    """After Rasa's `update_sanic_log_level`: Sanic's loggers log through the root again."""
    logs.route_to_root(*SANIC_LOGGERS)


def print_color(*args: Any, color: str) -> None:
    """For `rasa.shared.utils.cli.print_color`: a log line instead of a coloured print."""
    from rasa.shared.utils.io import bcolors

    levels = {bcolors.FAIL: logging.ERROR, bcolors.WARNING: logging.WARNING}
    logging.getLogger("rasa.cli").log(levels.get(color, logging.INFO),
                                      " ".join(str(arg) for arg in args))


def structlog_to_logging(_: Any, __: str, event: dict[str, Any]) -> Any:
    """Last structlog processor: hand Rasa's structlog events to the standard logging module as
    message + `fields` (instead of a JSON or console string of their own), so they come out in
    the project's format and masked like every other line."""
    event = dict(event)
    event.pop("level", None)
    exc_info = event.pop("exc_info", None)
    message = str(event.pop("event", ""))
    kwargs: dict[str, Any] = {"extra": {"fields": event}} if event else {}
    if exc_info:
        kwargs["exc_info"] = exc_info
    return (message,), kwargs


def structlog_through_logging() -> None:
    """After Rasa's configure_structlog: our last processor instead of its renderers."""
    import structlog

    renderers = (structlog.dev.ConsoleRenderer, structlog.processors.JSONRenderer)
    kept = [processor for processor in structlog.get_config()["processors"]
            if not isinstance(processor, renderers)
            and processor is not structlog.processors.dict_tracebacks]
    structlog.configure(processors=[*kept, structlog_to_logging])
