"""`python -m services.rasa_server run …` — Rasa's own command line, with the project's additions
installed first: the project's logs (stack/logs.py: text or JSON, personal data masked), health,
readiness and Prometheus metrics (bot/observability.py), and an apology when the action server,
the conversation store or the lock store is down (bot/resilience.py), the fixes for what
profiling found Rasa repeating on every turn (bot/speedups.py), and message understanding in a
worker thread so no turn holds the event loop (bot/off_loop.py). The stack starts Rasa this way."""

from __future__ import annotations

import logging
import os
import sys
from typing import Any

from stack import logs

SANIC_LOGGERS = ("sanic.root", "sanic.error", "sanic.access", "sanic.server")


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


def install_logging() -> None:
    """Keep our handler through Rasa's own set-up: coloredlogs, its `--log-file` handler,
    Sanic's console handlers and `propagate = False` on its loggers, structlog's renderers; and
    log what Rasa prints on the console (`print_warning` and friends) instead of printing it."""
    import rasa.__main__
    import rasa.core.utils
    import rasa.shared.utils.cli
    import rasa.utils.common
    from rasa.shared.utils.io import bcolors

    logs.claim_coloredlogs()
    logs.call_after(rasa.core.utils, "configure_file_logging", logs.adopt)
    logs.call_after(rasa.utils.common, "update_sanic_log_level",
                    lambda: logs.route_to_root(*SANIC_LOGGERS))
    logs.call_after(rasa.__main__, "configure_structlog", _structlog_through_logging)
    levels = {bcolors.FAIL: logging.ERROR, bcolors.WARNING: logging.WARNING}

    def print_color(*args: Any, color: str) -> None:
        logging.getLogger("rasa.cli").log(levels.get(color, logging.INFO),
                                          " ".join(str(arg) for arg in args))

    rasa.shared.utils.cli.print_color = print_color


def _structlog_through_logging() -> None:
    """After Rasa's configure_structlog: our last processor instead of its renderers."""
    import structlog

    renderers = (structlog.dev.ConsoleRenderer, structlog.processors.JSONRenderer)
    kept = [processor for processor in structlog.get_config()["processors"]
            if not isinstance(processor, renderers)
            and processor is not structlog.processors.dict_tracebacks]
    structlog.configure(processors=[*kept, structlog_to_logging])


def _import_numpy_distutils_log() -> None:
    """Importing numpy.distutils.log changes the root logger's class to one that print()s and
    sets it to WARNING; TensorFlow imports it while the model loads. Import it now, so that
    `logs.configure()` repairs both before Rasa logs anything."""
    import warnings

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        try:
            import numpy.distutils.log  # noqa: F401
        except ImportError:
            pass


def _import_skops_first() -> None:
    """skops, which Rasa uses to load the LogisticRegressionClassifier, builds its lists of
    trusted types when first imported by searching every loaded module for each numpy and
    scipy ufunc. After Rasa and TensorFlow (~6,000 modules) that took ~4 s of a Rasa server's
    start-up, alone on the CPU (over 40% of it in a profile); before them ~1 s, with the same
    lists."""
    try:
        import skops.io  # noqa: F401
    except ImportError:
        pass


def api_token_from_environment(argv: list[str]) -> list[str]:
    """Rasa takes its HTTP API token only as `--auth-token`, but a command line is readable by
    every user of the machine (/proc/<pid>/cmdline): the stack passes GOV_RASA_API_TOKEN in
    the environment and it is added here, to the arguments Rasa parses, which /proc never
    shows. `--enable-api` without a token is refused rather than serving an open API."""
    if "--enable-api" not in argv or any(arg.split("=")[0] in ("--auth-token", "-t")
                                         for arg in argv):
        return argv
    token = os.environ.get("GOV_RASA_API_TOKEN", "")
    if not token:
        raise SystemExit("--enable-api needs GOV_RASA_API_TOKEN in the environment")
    return [*argv, f"--auth-token={token}"]  # "=": tokens may start with "-"


def main() -> None:
    sys.argv = api_token_from_environment(sys.argv)
    _import_numpy_distutils_log()
    # Then, so that warnings raised while Rasa is imported are logged our way too.
    logs.configure("rasa-server")
    _import_skops_first()
    os.environ.setdefault("LOG_LEVEL", logs.level_name())  # Rasa's own level setting
    from rasa.__main__ import main as rasa_main

    from bot import observability, off_loop, resilience, speedups, ticket_lock

    install_logging()
    speedups.install()
    off_loop.install()
    observability.install()
    ticket_lock.install()
    resilience.install()  # after observability: its metrics see the failures it apologises for
    rasa_main()


if __name__ == "__main__":
    main()
