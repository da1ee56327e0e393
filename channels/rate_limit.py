"""Per-sender rate limits: the channels' message limits and the action server's ticket limit.

No Rasa imports: the channels use it inside Rasa, the actions in the action server.
"""

from __future__ import annotations

import time
from collections import OrderedDict


class SenderRateLimit:
    """A token bucket per sender (the least recently seen senders are forgotten first)."""

    def __init__(self, burst: int, per_minute: float, max_senders: int = 100_000) -> None:
        self.burst, self.rate, self.max_senders = burst, per_minute / 60.0, max_senders
        self._buckets: OrderedDict[str, tuple[float, float]] = OrderedDict()

    def allow(self, sender: str) -> bool:
        now = time.monotonic()
        tokens, last = self._buckets.pop(sender, (float(self.burst), now))
        tokens = min(self.burst, tokens + (now - last) * self.rate)
        allowed = tokens >= 1
        self._buckets[sender] = (tokens - 1 if allowed else tokens, now)
        while len(self._buckets) > self.max_senders:
            self._buckets.popitem(last=False)
        return allowed
