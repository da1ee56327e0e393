"""Health, readiness and Prometheus metrics for the Rasa server.

Put in place by bot/patches.py before Rasa starts: `add_routes` adds to Rasa's Sanic app
`/healthz` (the process answers), `/readyz` (a model is loaded and can answer; 503 until then)
and `/metrics` (Prometheus text). Turns, their latency, NLU fallbacks and errors are counted per
channel where every channel meets: Rasa's agent (REST, Socket.IO, WeChat, Telegram), so a
turn's time includes waiting for the conversation's lock and a failed lock store counts as an
error. Each turn is also one log line (`turn`, with a keyed hash of the sender, the channel,
`latency_ms` and `outcome`; common/logs.py).
"""

from __future__ import annotations

import functools
import logging
import time
from contextlib import contextmanager
from typing import Any, Iterator

from prometheus_client import CONTENT_TYPE_LATEST, Counter, Histogram, generate_latest
from rasa.core.processor import MessageProcessor
from sanic import response
from sanic.request import Request

from common.logs import sender_hash

logger = logging.getLogger(__name__)

TURNS = Counter("gov_turns_total", "Citizen messages handled", ["channel"])
ERRORS = Counter("gov_turn_errors_total", "Citizen messages that failed", ["channel"])
FALLBACKS = Counter("gov_fallbacks_total",
                    "Messages not understood (nlu_fallback) or off-topic (out_of_scope)",
                    ["channel", "intent"])
FALLBACK_INTENTS = ("nlu_fallback", "out_of_scope")
LATENCY = Histogram("gov_turn_seconds", "Time from a citizen's message to the bot's answer",
                    ["channel"], buckets=(0.05, 0.1, 0.2, 0.35, 0.5, 0.75, 1, 1.5, 2, 3, 5, 10))


def _channel(message: Any) -> str:
    return (getattr(message, "input_channel", None) or "unknown")[:32]


@contextmanager
def measured_turn(message: Any) -> Iterator[None]:
    """Around `Agent.handle_message`: the turn counted, timed and logged, a failure counted
    as an error (and raised on)."""
    channel, started, outcome = _channel(message), time.perf_counter(), "error"
    try:
        yield
        outcome = "ok"
    except Exception:
        ERRORS.labels(channel).inc()
        raise
    finally:
        seconds = time.perf_counter() - started
        TURNS.labels(channel).inc()
        LATENCY.labels(channel).observe(seconds)
        logger.info("turn", extra={
            "sender": sender_hash(getattr(message, "sender_id", None) or ""),
            "channel": channel, "latency_ms": round(seconds * 1000, 1), "outcome": outcome})


def fallbacks_counted(log: Any) -> Any:
    """For `MessageProcessor.log_message`: messages not understood are counted per channel."""

    @functools.wraps(log)
    async def log_message(self: MessageProcessor, message: Any, *args: Any, **kwargs: Any) -> Any:
        tracker = await log(self, message, *args, **kwargs)
        intent = (tracker.latest_message.intent or {}).get("name") if tracker else None
        if intent in FALLBACK_INTENTS:
            FALLBACKS.labels(_channel(message), intent).inc()
        return tracker

    return log_message


def add_routes(app: Any) -> None:
    """/healthz, /readyz and /metrics on Rasa's Sanic app."""

    async def healthz(_: Request) -> Any:
        return response.json({"status": "ok"})

    async def readyz(request: Request) -> Any:
        agent = getattr(request.app.ctx, "agent", None)
        ready = bool(agent and agent.is_ready())
        return response.json({"ready": ready}, status=200 if ready else 503)

    async def metrics(_: Request) -> Any:
        return response.raw(generate_latest(), content_type=CONTENT_TYPE_LATEST)

    app.add_route(healthz, "/healthz", methods=["GET"])
    app.add_route(readyz, "/readyz", methods=["GET"])
    app.add_route(metrics, "/metrics", methods=["GET"])

