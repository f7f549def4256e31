"""Fire durable timers at their moment, exactly once, including those missed while down.

Each kind has one handler. A handler receives the timer and the unit of work in which it
makes its state change; the timer is marked done in that same unit of work, so a crash
either leaves both undone (it fires again after restart) or both done (never twice).
Whatever the handler wants to *say* (Telegram messages) it returns as a callable that
runs after the commit.

Recurring jobs (the daily digest, the weekly report, repeating notices) are timers too,
through one mechanism, `recurring`: when a run fires, the next run of its schedule is added
in the same transaction, so the pending row *is* the stored state a restart resumes from —
a crash can neither lose the next run nor make one happen twice.
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable
from datetime import datetime
from typing import Any

from bot.domain.clock import Clock
from bot.domain.schedule import Schedule
from bot.domain.timers import Timer
from bot.services.ports import UnitOfWork, UnitOfWorkFactory

log = logging.getLogger(__name__)

AfterCommit = Callable[[], Awaitable[None]] | None
TimerHandler = Callable[[Timer, UnitOfWork, datetime], Awaitable[AfterCommit]]
ArmCallback = Callable[[datetime], None]
# A recurring timer's subject's schedule, read when a run fires (None: it was stopped).
ScheduleOf = Callable[[UnitOfWork, int], Awaitable[Schedule | None]]
# Like TimerHandler, also told the next run already stored (None: the schedule has ended).
RecurringHandler = Callable[[Timer, UnitOfWork, datetime, datetime | None], Awaitable[AfterCommit]]


class TimerService:
    """Durable timers: handlers by kind, run when due, and the callback that arms the one wake-up
    for the earliest.
    """

    def __init__(self, uow: UnitOfWorkFactory, clock: Clock) -> None:
        self._uow = uow
        self._clock = clock
        self._handlers: dict[str, TimerHandler] = {}
        self._arm: ArmCallback | None = None

    def on(self, kind: str, handler: TimerHandler) -> None:
        """Run `handler` for every due timer of `kind`."""
        self._handlers[kind] = handler

    def recurring(
        self, kind: str, schedule: Schedule | ScheduleOf, handler: RecurringHandler
    ) -> None:
        """Timers of `kind` re-arm themselves from a schedule: a fixed one (the digest, the
        weekly report) or each subject's own, read when it fires (a notice's).

        When one fires, the next run of its schedule (`Schedule.run_after`: runs
        missed while down are skipped) is stored in the same transaction that marks this one
        done (the timer's own unit of work), then `handler` runs in it. Start a subject with
        `add` (notices) or `keep_running`.
        """

        async def fire(timer: Timer, uow: UnitOfWork, now: datetime) -> AfterCommit:
            current = (
                schedule if isinstance(schedule, Schedule) else await schedule(uow, timer.ref_id)
            )
            if current is None:
                return None
            following = current.run_after(timer.due_at, now)
            if following is not None:
                await uow.timers.add(kind, timer.ref_id, following)
            return await handler(timer, uow, now, following)

        self.on(kind, fire)

    async def keep_running(self, kind: str, schedule: Schedule, ref_id: int = 0) -> datetime:
        """At start: exactly one pending run of `schedule` for (kind, ref); returns its moment.

        A pending run the schedule still has stays, even one missed while the bot was down
        (it fires late, once), so a restart neither repeats nor skips a run. Any other (the
        configured schedule changed) is replaced by the schedule's next run after now.
        """
        now = self._clock.now()
        async with self._uow() as uow:
            pending = [t for t in await uow.timers.pending(kind, ref_id) if t.kind == kind]
            kept = next((t for t in pending if schedule.has_run_at(t.due_at)), None)
            for timer in pending:
                if timer is not kept:
                    await uow.timers.finish(timer.id, now, "rescheduled")
            if kept is not None:
                return kept.due_at
            due = schedule.run_after(now, now)
            if due is None:
                raise ValueError(f"{kind}: the schedule {schedule.source!r} has no run after now")
            await uow.timers.add(kind, ref_id, due)
        await self.scheduled(due)
        return due

    def set_arm_callback(self, arm: ArmCallback) -> None:
        """How to be woken at a moment (the JobQueue in production; tests drive fire_due)."""
        self._arm = arm

    async def scheduled(self, due_at: datetime) -> None:
        """Call after committing a new timer, so the wake-up moves earlier if needed."""
        if self._arm is not None:
            self._arm(due_at)

    async def rearm(self) -> None:
        """Arm the wake-up for the earliest pending timer (after timers were added or cancelled)."""
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
            log.exception(
                "timer %s (%s #%s) failed; it stays pending", timer.id, timer.kind, timer.ref_id
            )
            return False
        if after is not None:
            try:
                await after()
            except Exception:
                log.exception("after-commit step of timer %s (%s) failed", timer.id, timer.kind)
        return True

    async def pending(self, kind_prefix: str = "", ref_id: int | None = None) -> list[Timer]:
        """Timers not yet done, by kind prefix and optionally reference, earliest first."""
        async with self._uow() as uow:
            return await uow.timers.pending(kind_prefix, ref_id)

    @staticmethod
    async def add(
        uow: UnitOfWork,
        kind: str,
        ref_id: int,
        due_at: datetime,
        payload: dict[str, Any] | None = None,
    ) -> bool:
        """Schedule within a use case's unit of work (a timer handler's own, for the next run)."""
        return await uow.timers.add(kind, ref_id, due_at, payload)
