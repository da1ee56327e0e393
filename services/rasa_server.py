"""`python -m services.rasa_server run …` — Rasa's own command line, with the project's changes
to Rasa installed first (bot/patches.py, which also refuses an untested Rasa): the project's
logs (common/logs.py: text or JSON, personal data masked), health, readiness and Prometheus
metrics (bot/observability.py), an apology when the action server, the conversation store or
the lock store is down (bot/resilience.py), the fixes for what profiling found Rasa repeating
on every turn (bot/speedups.py), and message understanding in a worker thread so no turn holds
the event loop (bot/off_loop.py). The stack starts Rasa this way."""

from __future__ import annotations

import os
import sys

from bot import expected_warnings, patches
from common import logs
from common.registry import setting


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
    token = setting("GOV_RASA_API_TOKEN")
    if not token:
        raise SystemExit("--enable-api needs GOV_RASA_API_TOKEN in the environment")
    return [*argv, f"--auth-token={token}"]  # "=": tokens may start with "-"


def main() -> None:
    sys.argv = api_token_from_environment(sys.argv)
    _import_numpy_distutils_log()
    expected_warnings.install()  # before Rasa's imports raise any of them
    # Then, so that warnings raised while Rasa is imported are logged our way too.
    logs.configure("rasa-server")
    _import_skops_first()
    os.environ.setdefault("LOG_LEVEL", logs.level_name())  # Rasa's own level setting
    patches.install()
    from rasa.__main__ import main as rasa_main

    rasa_main()


if __name__ == "__main__":
    main()
