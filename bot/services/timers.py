"""Fire durable timers at their moment, exactly once, including those missed while down.

Each kind has one handler. A handler receives the timer and the unit of work in which it
makes its state change; the timer is marked done in that same unit of work, so a crash
either leaves both undone (it fires again after restart) or both done (never twice).
Whatever the handler wants to *say* (Telegram messages) it returns as a callable that
runs after the commit.
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable
from datetime import datetime
from typing import Any

from bot.domain.clock import Clock
from bot.domain.timers import Timer
from bot.services.ports import UnitOfWork, UnitOfWorkFactory

log = logging.getLogger(__name__)

AfterCommit = Callable[[], Awaitable[None]] | None
TimerHandler = Callable[[Timer, UnitOfWork, datetime], Awaitable[AfterCommit]]
ArmCallback = Callable[[datetime], None]


class TimerService:
    def __init__(self, uow: UnitOfWorkFactory, clock: Clock) -> None:
        self._uow = uow
        self._clock = clock
        self._handlers: dict[str, TimerHandler] = {}
        self._arm: ArmCallback | None = None

    def on(self, kind: str, handler: TimerHandler) -> None:
        self._handlers[kind] = handler

    def set_arm_callback(self, arm: ArmCallback) -> None:
        """How to be woken at a moment (the JobQueue in production; tests drive fire_due)."""
        self._arm = arm

    async def scheduled(self, due_at: datetime) -> None:
        """Call after committing a new timer, so the wake-up moves earlier if needed."""
        if self._arm is not None:
            self._arm(due_at)

    async def rearm(self) -> None:
        async with self._uow() as uow:
            next_due = await uow.timers.next_due_at()
        if next_due is not None and self._arm is not None:
            self._arm(next_due)

    async def fire_due(self, now: datetime | None = None) -> int:
        """Run every timer due by `now` (late ones at once); return how many fired."""
        fired = 0
        while True:
            moment = now or self._clock.now()
            async with self._uow() as uow:
                batch = await uow.timers.due(moment)
            if not batch:
                break
            for timer in batch:
                if await self._fire(timer, moment):
                    fired += 1
            if len(batch) < 200:
                break
        await self.rearm()
        return fired

    async def _fire(self, timer: Timer, now: datetime) -> bool:
        handler = self._handlers.get(timer.kind)
        after: AfterCommit = None
        try:
            async with self._uow() as uow:
                if handler is None:
                    log.error("no handler for timer kind %s (timer %s)", timer.kind, timer.id)
                    await uow.timers.finish(timer.id, now, "no_handler")
                    return False
                if not await uow.timers.finish(timer.id, now, "fired"):
                    return False
                after = await handler(timer, uow, now)
        except Exception:
            log.exception("timer %s (%s #%s) failed; it stays pending", timer.id, timer.kind,
                          timer.ref_id)
            return False
        if after is not None:
            try:
                await after()
            except Exception:
                log.exception("after-commit step of timer %s (%s) failed", timer.id, timer.kind)
        return True

    async def pending(self, kind_prefix: str = "", ref_id: int | None = None) -> list[Timer]:
        async with self._uow() as uow:
            return await uow.timers.pending(kind_prefix, ref_id)

    async def ensure(self, kind: str, ref_id: int, due_at: datetime) -> datetime:
        """At start: one pending timer of this kind (whatever the restarts); its moment."""
        async with self._uow() as uow:
            pending = await uow.timers.pending(kind, ref_id)
            if pending:
                return pending[0].due_at
            await uow.timers.add(kind, ref_id, due_at)
        await self.scheduled(due_at)
        return due_at

    @staticmethod
    async def add(uow: UnitOfWork, kind: str, ref_id: int, due_at: datetime,
                  payload: dict[str, Any] | None = None) -> bool:
        """Schedule within a use case's unit of work (a timer handler's own, for the next run)."""
        return await uow.timers.add(kind, ref_id, due_at, payload)
