"""Handle several chats' updates at once, each chat's strictly in the order they came.

One at a time (PTB's default) leaves the bot idle whenever an update waits on the
database thread or on Telegram: most of a busy morning's handling time
(docs/performance.md). Fully concurrent handling would break what residents and heads
rely on within one chat: [办结] and then the closing note, a report and then its +1,
an edit after the message. So updates are queued per chat (per user where there is no
chat) and only different chats run side by side.

Two exceptions, both for floods (issue #13):
- an update that `is_urgent` (an emergency report) while its chat has a backlog does not
  queue behind it: it runs at once, beside the chat's queue and outside the cap;
- an update that the inbox recognises as a re-delivered copy is dropped, and every
  handled update is reported to the inbox (bot.inbox), which stores them before Telegram
  is told they arrived.
"""

from __future__ import annotations

import asyncio
import inspect
from collections.abc import Awaitable, Callable
from typing import Any, Protocol

from telegram import Update
from telegram.ext import BaseUpdateProcessor

# PTB's own bound, taken before ours: only a cap on waiting updates, never reached while
# getUpdates asks for at most 100 at a time and waits for them (bot.app).
_WAITING_CAP = 4096


def order_key(update: object) -> int | None:
    """Updates with the same key are handled one after another, in arrival order."""
    if not isinstance(update, Update):
        return None
    if update.effective_chat is not None:
        return update.effective_chat.id
    if update.effective_user is not None:
        return update.effective_user.id  # inline queries, inline-message buttons
    return None


class HandledUpdates(Protocol):
    """What the update processor needs of the inbox: drop
    re-delivered updates, mark handled ones.
    """

    def is_duplicate(self, update: object) -> bool:
        """Whether this update was stored before and has been seen already (Telegram re-delivered
        it).
        """

    def handled(self, update: object) -> None:
        """The update's handling finished."""


class _ChatQueue:
    __slots__ = ("lock", "waiting")

    def __init__(self) -> None:
        self.lock = asyncio.Lock()
        self.waiting = 0


class ChatOrderedUpdateProcessor(BaseUpdateProcessor):
    """At most `concurrent_chats` updates at once, never two of the same chat."""

    def __init__(self, concurrent_chats: int) -> None:
        super().__init__(_WAITING_CAP)
        if concurrent_chats < 1:
            raise ValueError("concurrent_chats must be at least 1")
        # Taken after the chat's turn has come, so that a chat with many queued updates
        # does not hold slots other chats could use.
        self._running = asyncio.BoundedSemaphore(concurrent_chats)
        self._queues: dict[int, _ChatQueue] = {}
        # Wired at start (bot.app), once the services exist.
        self.inbox: HandledUpdates | None = None
        self.is_urgent: Callable[[object], bool] = lambda _update: False

    async def initialize(self) -> None:
        """Nothing to set up: queues are made per chat on demand."""
        pass

    async def shutdown(self) -> None:
        """Nothing to tear down: queues empty as updates finish."""
        pass

    async def do_process_update(self, update: object, coroutine: Awaitable[Any]) -> None:
        """Handle `update` in its chat's turn, unless it is a re-delivered duplicate, then mark it
        handled.
        """
        inbox = self.inbox
        if inbox is not None and inbox.is_duplicate(update):
            if inspect.iscoroutine(coroutine):
                coroutine.close()
            return
        try:
            await self._in_turn(update, coroutine)
        finally:
            if inbox is not None:
                inbox.handled(update)

    async def _in_turn(self, update: object, coroutine: Awaitable[Any]) -> None:
        key = order_key(update)
        if key is None:
            async with self._running:
                await coroutine
            return
        queue = self._queues.get(key)
        if queue is not None and queue.waiting and self.is_urgent(update):
            # Asked only when the chat has a backlog: nothing to overtake otherwise.
            await coroutine
            return
        if queue is None:
            queue = self._queues[key] = _ChatQueue()
        queue.waiting += 1
        try:
            # asyncio.Lock serves waiters first come, first served: arrival order.
            async with queue.lock, self._running:
                await coroutine
        finally:
            queue.waiting -= 1
            if queue.waiting == 0:
                del self._queues[key]
