"""Blocking work in an action — a database read or write, a knowledge-base search, the router —
runs in a worker thread, never on the action server's event loop: while one action waited for
PostgreSQL or encoded a question, every other conversation's actions would wait too. Every
action awaits such a call through `off_loop`, so a call made on the loop stands out."""

from __future__ import annotations

import asyncio
from typing import Callable, ParamSpec, TypeVar

P = ParamSpec("P")
R = TypeVar("R")


async def off_loop(function: Callable[P, R], /, *args: P.args, **kwargs: P.kwargs) -> R:
    """`function(*args, **kwargs)` in a worker thread (asyncio's default executor)."""
    return await asyncio.to_thread(function, *args, **kwargs)
