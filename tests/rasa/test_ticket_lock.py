"""A message waiting behind a turn whose Rasa instance was killed gets served, even when its
own ticket expires while it waits (bot/ticket_lock.py)."""

from __future__ import annotations

import asyncio
import time

import pytest
from rasa.core.lock_store import InMemoryLockStore, LockStore

from bot import patches

LIFETIME = 0.5  # seconds; production mode uses 15


async def wait_behind_a_dead_turn(store: LockStore) -> float:
    """A ticket nobody will ever finish (its instance was killed), then a message for the same
    conversation issued just after it: both expire in the same update of the lock."""
    store.issue_ticket("citizen", LIFETIME)
    started = time.monotonic()
    async with store.lock("citizen", lock_lifetime=LIFETIME, wait_time_in_seconds=0.6):
        pass
    return time.monotonic() - started


def test_rasa_alone_waits_forever_behind_a_dead_turn():
    """The failure this module mends, shown on Rasa's own lock (runs before the patch is
    installed in this process)."""
    if getattr(LockStore.lock, "_gov_patch", None):
        pytest.skip("the patch is already installed in this process")
    with pytest.raises(asyncio.TimeoutError):
        asyncio.run(asyncio.wait_for(wait_behind_a_dead_turn(InMemoryLockStore()), timeout=3))


def test_the_waiting_message_is_served_once_the_dead_turn_expires():
    patches.install("lock")
    store = InMemoryLockStore()
    waited = asyncio.run(asyncio.wait_for(wait_behind_a_dead_turn(store), timeout=10))
    assert waited < 5
    assert store.get_lock("citizen") is None  # cleaned up under the ticket it ended with


def test_messages_still_take_turns():
    patches.install("lock")
    store, order = InMemoryLockStore(), []

    async def message(name: str, hold: float) -> None:
        async with store.lock("citizen", lock_lifetime=30, wait_time_in_seconds=0.05):
            order.append(f"{name} in")
            await asyncio.sleep(hold)
            order.append(f"{name} out")

    async def both() -> None:
        first = asyncio.create_task(message("first", 0.3))
        await asyncio.sleep(0.05)
        await asyncio.gather(first, message("second", 0))

    asyncio.run(both())
    assert order == ["first in", "first out", "second in", "second out"]
