"""The actions' start-up work, run by the action server before it serves (services/
action_server.py, from a Sanic `before_server_start` listener), never at import: importing an
action module (tests, tools, rasa_sdk's package scan) loads no model and starts no thread.

- The knowledge base's sentence encoder and current index load now, not on a citizen's time
  (the first question would wait for them).
- Then the department router trains in a background thread: without delaying start-up (nor
  competing with the loading above for the CPU), and done before most citizens' first
  request.
"""

from __future__ import annotations

import logging
import threading

logger = logging.getLogger(__name__)
_lock = threading.Lock()
_started: list[bool] = []


def start() -> None:
    """Do the start-up work once; calling it again does nothing."""
    with _lock:
        if _started:
            return
        _started.append(True)
    from actions import knowledge
    from routing.classifier import default_router

    knowledge.warm_up()
    threading.Thread(target=default_router, name="routing-warm-up", daemon=True).start()
