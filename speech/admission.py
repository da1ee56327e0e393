"""Fair turns at the recogniser: a few recordings decode at once, a few more wait in arrival
order, and anyone beyond that is told at once that the service is busy rather than left
waiting behind a queue that cannot move."""

from __future__ import annotations

import asyncio
from contextlib import asynccontextmanager
from typing import AsyncIterator


class Busy(Exception):
    """Every worker is decoding and the waiting line is full."""


class Admission:
    def __init__(self, workers: int, queue: int) -> None:
        self._slots = asyncio.Semaphore(max(1, workers))  # wakes waiters first come, first served
        self._capacity = max(1, workers) + max(0, queue)
        self._inside = 0

    @property
    def inside(self) -> int:
        """Recordings decoding or waiting."""
        return self._inside

    @asynccontextmanager
    async def turn(self) -> AsyncIterator[None]:
        """Hold a worker for the block; Busy if the line is full."""
        if self._inside >= self._capacity:
            raise Busy
        self._inside += 1
        try:
            async with self._slots:
                yield
        finally:
            self._inside -= 1
