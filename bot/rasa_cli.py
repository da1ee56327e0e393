"""Rasa's command line (`rasa train`, `rasa data validate`) without the warnings known not to
apply here (bot/expected_warnings.py): `python -m bot.rasa_cli train ...` takes the same
arguments as `rasa`. The stack trains this way."""

from __future__ import annotations

import sys

from bot import expected_warnings


def main(argv: list[str]) -> None:
    expected_warnings.install()
    from rasa.__main__ import main as rasa_main

    sys.argv = ["rasa", *argv]
    rasa_main()


if __name__ == "__main__":
    main(sys.argv[1:])
