"""Rasa's conversation lock, made to survive an instance killed mid-turn.

Rasa serialises the messages of one conversation with a ticket lock (rasa.core.lock_store):
each message takes a numbered ticket that expires after TICKET_LOCK_LIFETIME (15 s in
production mode, so a conversation whose instance was killed is free again soon), and waits
until its ticket is the lowest. Rasa 3.6 forgets that the waiting ticket expires too: when the
dead instance's ticket and the waiting one are removed in the same update, the lock is left
empty, "now serving" is 0, and the waiting message loops until its request is cancelled (a
citizen's turn hung for 111 s behind a killed instance). Here a message whose ticket expired
while it waited takes a new one at the end of the queue, and is cleaned up under that number.
Only `LockStore.lock` is replaced (by bot/patches.py); what it yields and raises is Rasa's.
"""

from __future__ import annotations

import asyncio
import logging
from contextlib import asynccontextmanager
from typing import AsyncGenerator

from rasa.core.lock import TicketLock
from rasa.core.lock_store import LOCK_LIFETIME, LockError, LockStore

logger = logging.getLogger(__name__)


@asynccontextmanager
async def requeueing_lock(self: LockStore, conversation_id: str,
                          lock_lifetime: float = LOCK_LIFETIME, wait_time_in_seconds: float = 1
                          ) -> AsyncGenerator[TicketLock, None]:
    """For `LockStore.lock`: Rasa's lock, where a ticket that expired while waiting queues
    again."""
    tickets = [self.issue_ticket(conversation_id, lock_lifetime)]
    try:
        yield await _acquire(self, conversation_id, tickets, lock_lifetime, wait_time_in_seconds)
    finally:
        self.cleanup(conversation_id, tickets[-1])


async def _acquire(store: LockStore, conversation_id: str, tickets: list[int],
                   lifetime: float, wait: float) -> TicketLock:
    """Rasa's wait loop, plus: a ticket that expired while waiting is replaced (appended to
    `tickets`, whose last one is ours)."""
    while True:
        lock = store.get_lock(conversation_id)
        if not lock:
            raise LockError(f"Could not acquire lock for conversation_id '{conversation_id}'.")
        if not lock.is_locked(tickets[-1]):
            return lock
        if all(ticket.number != tickets[-1] for ticket in lock.tickets):
            logger.warning("a message's place in its conversation's queue expired while it "
                           "waited (a killed instance's turn?); it queues again")
            tickets.append(store.issue_ticket(conversation_id, lifetime))
            continue
        await asyncio.sleep(wait)
        store.update_lock(conversation_id)
