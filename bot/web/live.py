"""Live updates for open console pages: one watcher, many listeners (server-sent events).

Tickets change from everywhere (chat, buttons, timers, the console itself), so rather than
teach every writer to publish, one task reads a change mark (the newest ticket event's id:
every change records an event) once a second while anyone listens, and wakes the listeners
when it moves. One indexed read a second, however many screens are open.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Awaitable, Callable

log = logging.getLogger(__name__)

POLL_SECONDS = 1.0


class ChangeFeed:
    """Watches one change mark while anyone listens and wakes every listener when it moves."""

    def __init__(
        self, read_mark: Callable[[], Awaitable[object]], poll_seconds: float = POLL_SECONDS
    ) -> None:
        self._read_mark = read_mark
        self._poll = poll_seconds
        self._listeners: set[asyncio.Event] = set()
        self._task: asyncio.Task[None] | None = None

    def listen(self) -> asyncio.Event:
        """An event set whenever tickets change; call `leave` with it when done."""
        event = asyncio.Event()
        self._listeners.add(event)
        if self._task is None or self._task.done():
            self._task = asyncio.create_task(self._watch(), name="console-change-feed")
        return event

    def leave(self, event: asyncio.Event) -> None:
        """Stop waking `event` (its page went away); the watcher stops with the last listener."""
        self._listeners.discard(event)

    async def _watch(self) -> None:
        mark = await self._read_mark()
        while self._listeners:
            await asyncio.sleep(self._poll)
            try:
                current = await self._read_mark()
            except Exception:
                log.exception("console change feed could not read the change mark")
                continue
            if current != mark:
                mark = current
                for event in list(self._listeners):
                    event.set()

    async def close(self) -> None:
        """Forget every listener and stop the watcher (the console stops)."""
        self._listeners.clear()
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
