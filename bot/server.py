"""`python -m bot.server run …` — Rasa's own command line, with the project's additions
installed first: an apology when the action server is down (bot/resilience.py), and health,
readiness and Prometheus metrics (bot/observability.py). The stack starts Rasa this way."""

from __future__ import annotations

from rasa.__main__ import main

from bot import observability, resilience

if __name__ == "__main__":
    resilience.install()
    observability.install()
    main()
