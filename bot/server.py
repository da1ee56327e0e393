"""`python -m bot.server run …` — Rasa's own command line, with the project's safety nets
installed first (bot/resilience.py). The stack starts the Rasa server this way."""

from __future__ import annotations

from rasa.__main__ import main

from bot.resilience import install

if __name__ == "__main__":
    install()
    main()
