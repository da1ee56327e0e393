"""One way to log for every process the stack starts: readable text for `make run`, one JSON
object per line for `make run-production` (log collectors), personal data masked in both.

    GOV_LOG_FORMAT  text | json   (default text; production mode sets json)
    GOV_LOG_LEVEL   DEBUG | INFO | WARNING | ERROR   (default INFO)

`configure(service)` is the first thing each entry point does (services/rasa_server.py for
Rasa, services/action_server.py, webchat, staff, services/balancer.py). A JSON line has `time`
(ISO-8601, UTC), `level`, `logger`, `message`, `service` (GOV_SERVICE_NAME, set per process by
stack/services.py), `pid`, `exception` when there is one, and every `extra=` field, e.g.

    logger.info("turn", extra={"sender": sender_hash(sender_id), "channel": "rest",
                               "latency_ms": 113.7})

The message, the exception text and the extra fields go through common.privacy's masking, so an
ID-card or phone number that reaches a log line comes out as "[ID ****1234]".

Standard library only: the Rasa server imports this on Python 3.10 in Rasa's environment, the
other services on 3.11 in theirs.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import logging
import sys
from datetime import datetime, timezone
from functools import lru_cache
from typing import Any, TextIO

from common.privacy import mask_sensitive, masked
from common.registry import setting

FORMATS = ("text", "json")
# What every LogRecord carries; anything else on a record came in through `extra=`.
_STANDARD = set(vars(logging.LogRecord("", 0, "", 0, "", (), None))) | {
    "message", "asctime", "taskName"}


def log_format() -> str:
    value = setting("GOV_LOG_FORMAT").strip().lower()
    return value if value in FORMATS else "text"


def level_name() -> str:
    value = setting("GOV_LOG_LEVEL").strip().upper()
    return value if isinstance(logging.getLevelName(value), int) else "INFO"


def service_name(default: str) -> str:
    return setting("GOV_SERVICE_NAME") or default


def _timestamp(record: logging.LogRecord) -> str:
    moment = datetime.fromtimestamp(record.created, tz=timezone.utc)
    return moment.isoformat(timespec="milliseconds").replace("+00:00", "Z")


def _extras(record: logging.LogRecord) -> dict[str, Any]:
    return {key: masked(value) for key, value in vars(record).items()
            if key not in _STANDARD and not key.startswith("_")}


class _Masking(logging.Formatter):
    def __init__(self, service: str) -> None:
        super().__init__()
        self.service = service

    def exception_text(self, record: logging.LogRecord) -> str | None:
        if record.exc_info and not record.exc_text:
            record.exc_text = self.formatException(record.exc_info)
        text = record.exc_text
        if record.stack_info:
            text = f"{text}\n{self.formatStack(record.stack_info)}" if text else \
                self.formatStack(record.stack_info)
        return mask_sensitive(text) if text else None


class JsonFormatter(_Masking):
    """One JSON object per record, on one line (newlines inside are escaped)."""

    def format(self, record: logging.LogRecord) -> str:
        entry: dict[str, Any] = {
            "time": _timestamp(record),
            "level": record.levelname,
            "logger": record.name,
            "message": mask_sensitive(record.getMessage()),
            "service": self.service,
            "pid": record.process,
        }
        for key, value in _extras(record).items():
            entry.setdefault(key, value)
        exception = self.exception_text(record)
        if exception:
            entry["exception"] = exception
        return json.dumps(entry, ensure_ascii=False, default=str)


class TextFormatter(_Masking):
    """`2026-11-23T15:04:48.123Z INFO     rasa-server bot.observability - turn channel="rest"`"""

    # Loggers whose extra fields only repeat their message (aiohttp's access log).
    REPEATING = ("aiohttp.access",)

    def format(self, record: logging.LogRecord) -> str:
        line = (f"{_timestamp(record)} {record.levelname:<8} {self.service} {record.name} - "
                f"{mask_sensitive(record.getMessage())}")
        extras = {} if record.name in self.REPEATING else _extras(record)
        fields = " ".join(f"{key}={json.dumps(value, ensure_ascii=False, default=str)}"
                          for key, value in extras.items())
        exception = self.exception_text(record)
        return "\n".join(filter(None, [f"{line} {fields}" if fields else line, exception]))


def formatter(service: str, fmt: str | None = None) -> logging.Formatter:
    return (JsonFormatter if (fmt or log_format()) == "json" else TextFormatter)(service)


class _Handler(logging.StreamHandler):
    """Ours: recognised when configure() runs again, so there is only ever one."""


def _is_console(handler: logging.Handler) -> bool:
    return isinstance(handler, logging.StreamHandler) and not isinstance(
        handler, logging.FileHandler) and getattr(handler, "stream", None) in (
        sys.stderr, sys.stdout, sys.__stderr__, sys.__stdout__)


_current: dict[str, Any] = {}


def configure(service: str, *, stream: TextIO | None = None) -> logging.Handler:
    """Send every log record of this process, at GOV_LOG_LEVEL and above, to stderr in
    GOV_LOG_FORMAT; warnings and uncaught exceptions too. Safe to call again (libraries that
    set up logging their own way are brought back with `adopt()`)."""
    name = service_name(service)
    handler = _Handler(stream or sys.stderr)
    handler.setFormatter(formatter(name))
    root = logging.getLogger()
    for old in list(root.handlers):
        if isinstance(old, _Handler) or _is_console(old):
            root.removeHandler(old)
    root.addHandler(handler)
    # Pinned: importing numpy.distutils (TensorFlow does, while Rasa loads a model) sets the
    # root logger to WARNING through setuptools' distutils log, which silenced every INFO line.
    logging.Logger.setLevel(root, level_name())
    root.setLevel = _keep_level  # type: ignore[method-assign]
    _current.update(service=name, handler=handler)
    logging.captureWarnings(True)
    sys.excepthook = _log_uncaught
    adopt()
    return handler


def _keep_level(_: int | str) -> None:
    """The root logger's setLevel once configure() has run: GOV_LOG_LEVEL stays in force."""


def adopt() -> None:
    """After a library configured logging its own way (Sanic's console handlers, Rasa's and
    rasa_sdk's `propagate = False`, coloredlogs): console output goes through our one handler,
    log files the libraries opened keep being written but in our (masked) format."""
    handler = _current.get("handler")
    if handler is None:
        return
    root = logging.getLogger()
    if type(root) is not logging.RootLogger:
        # numpy.distutils.log turns the root logger into its own class, which print()s
        # records instead of handing them to handlers (TensorFlow imports it).
        root.__class__ = logging.RootLogger
    loggers = [root] + [item for item in list(logging.root.manager.loggerDict.values())
                        if isinstance(item, logging.Logger)]
    for each in loggers:
        for old in list(each.handlers):
            if old is handler:
                continue
            if _is_console(old):
                each.removeHandler(old)
                each.propagate = True
            elif isinstance(old, logging.FileHandler):
                old.setFormatter(handler.formatter)
    if handler not in root.handlers:
        root.addHandler(handler)


def route_to_root(*names: str) -> None:
    """Loggers a library cut off from the root (`propagate = False`) log through ours again."""
    for name in names:
        logging.getLogger(name).propagate = True
    adopt()


def _log_uncaught(kind: type[BaseException], error: BaseException, trace: Any) -> None:
    if issubclass(kind, KeyboardInterrupt):
        sys.__excepthook__(kind, error, trace)
        return
    logging.getLogger("uncaught").critical("the process stopped on an uncaught exception",
                                          exc_info=(kind, error, trace))


@lru_cache(maxsize=1)
def _sender_key() -> bytes:
    from common.secrets import persistent_secret
    from common.settings import default_state_dir

    return persistent_secret(default_state_dir() / "log-hash.key").encode()


def sender_hash(sender_id: str) -> str:
    """A short keyed hash of a conversation id: the same conversation has the same hash in the
    log of every process sharing the state folder (the key is `log-hash.key` there), yet a
    phone-number-like id cannot be recovered from it by trying all numbers."""
    digest = hmac.new(_sender_key(), sender_id.encode(), hashlib.sha256).hexdigest()
    return digest[:16]
