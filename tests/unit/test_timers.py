"""Recurring timers (the digest, the weekly report, repeating notices) on a real SQLite file.

Each "restart" is a new TimerService on the same database file, as after a process exit.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import UTC, datetime, time, timedelta
from zoneinfo import ZoneInfo

import pytest

from bot.domain.clock import FakeClock
from bot.domain.schedule import Schedule
from bot.domain.timers import Timer
from bot.services.ports import UnitOfWork
from bot.services.timers import AfterCommit, TimerService
from bot.storage.unit_of_work import SqlStorage
from tests.conftest import open_storage

SHANGHAI = ZoneInfo("Asia/Shanghai")
# Monday 2026-11-23 09:00 in Shanghai.
MONDAY_0900 = datetime(2026, 11, 23, 1, 0, tzinfo=UTC)
DAILY_0830 = Schedule.every_day(time(8, 30), SHANGHAI)
KIND = "digest.daily"


def local(moment: datetime) -> str:
    return f"{moment.astimezone(SHANGHAI):%m-%d %H:%M}"


class Recorder:
    """Stands in for the digest: records which runs went out and what came next."""

    def __init__(self) -> None:
        self.sent: list[str] = []
        self.told_next: list[str | None] = []

    async def handler(
        self, timer: Timer, uow: UnitOfWork, now: datetime, following: datetime | None
    ) -> AfterCommit:
        self.told_next.append(local(following) if following else None)

        async def send() -> None:
            self.sent.append(local(timer.due_at))

        return send


@pytest.fixture
async def db(database: dict[str, str]) -> AsyncIterator[SqlStorage]:
    storage = await open_storage(database)
    yield storage
    await storage.close()


async def started(
    db: SqlStorage, clock: FakeClock, schedule: Schedule, recorder: Recorder
) -> TimerService:
    """What bot start-up does for a recurring job: register it, keep one run pending."""
    timers = TimerService(db.unit_of_work, clock)
    timers.recurring(KIND, schedule, recorder.handler)
    await timers.keep_running(KIND, schedule)
    return timers


async def pending(timers: TimerService) -> list[str]:
    return [local(t.due_at) for t in await timers.pending(KIND)]


async def test_a_run_stores_the_next_and_goes_out_once(db: SqlStorage) -> None:
    clock, recorder = FakeClock(MONDAY_0900), Recorder()
    timers = await started(db, clock, DAILY_0830, recorder)
    assert await pending(timers) == ["11-24 08:30"]
    clock.advance(timedelta(days=1))  # Tuesday 09:00
    assert await timers.fire_due() == 1
    assert recorder.sent == ["11-24 08:30"]
    assert recorder.told_next == ["11-25 08:30"]
    assert await pending(timers) == ["11-25 08:30"]
    assert await timers.fire_due() == 0  # nothing twice


async def test_restart_keeps_the_stored_next_run_without_duplicating_it(db: SqlStorage) -> None:
    clock, recorder = FakeClock(MONDAY_0900), Recorder()
    timers = await started(db, clock, DAILY_0830, recorder)
    clock.advance(timedelta(days=1))
    await timers.fire_due()
    # Restarted twice before Wednesday's run: still one pending run, the stored one.
    for _restart in range(2):
        timers = await started(db, clock, DAILY_0830, recorder)
    assert await pending(timers) == ["11-25 08:30"]
    assert await timers.fire_due() == 0
    clock.advance(timedelta(days=1))
    assert await timers.fire_due() == 1
    assert recorder.sent == ["11-24 08:30", "11-25 08:30"]


async def test_down_for_days_one_late_run_then_back_on_schedule(db: SqlStorage) -> None:
    clock, recorder = FakeClock(MONDAY_0900), Recorder()
    await started(db, clock, DAILY_0830, recorder)
    clock.advance(timedelta(days=3, hours=1))  # back on Thursday 10:00
    timers = await started(db, clock, DAILY_0830, recorder)
    assert await timers.fire_due() == 1
    # Tuesday's run goes out late, once; Wednesday's and Thursday's are not sent in a burst.
    assert recorder.sent == ["11-24 08:30"]
    assert await pending(timers) == ["11-27 08:30"]


async def test_a_changed_schedule_replaces_the_stored_run(db: SqlStorage) -> None:
    clock, recorder = FakeClock(MONDAY_0900), Recorder()
    await started(db, clock, DAILY_0830, recorder)
    # The operator moved [digest] time to 07:00 and restarted.
    timers = await started(db, clock, Schedule.every_day(time(7, 0), SHANGHAI), recorder)
    assert await pending(timers) == ["11-24 07:00"]
    clock.advance(timedelta(days=1))
    assert await timers.fire_due() == 1
    assert recorder.sent == ["11-24 07:00"]


async def test_a_failing_run_stays_pending_and_stores_no_next(db: SqlStorage) -> None:
    clock = FakeClock(MONDAY_0900)
    timers = TimerService(db.unit_of_work, clock)
    attempts: list[datetime] = []

    async def broken(
        timer: Timer, uow: UnitOfWork, now: datetime, following: datetime | None
    ) -> AfterCommit:
        attempts.append(now)
        raise RuntimeError("the database went away")

    timers.recurring(KIND, DAILY_0830, broken)
    await timers.keep_running(KIND, DAILY_0830)
    clock.advance(timedelta(days=1))
    assert await timers.fire_due() == 0
    # Rolled back together: the run is still due and no later run was stored beside it.
    assert await pending(timers) == ["11-24 08:30"]
    recorder = Recorder()
    timers = await started(db, clock, DAILY_0830, recorder)
    assert await timers.fire_due() == 1
    assert len(attempts) == 1 and recorder.sent == ["11-24 08:30"]


async def test_a_subjects_own_schedule_ends_or_stops_it(db: SqlStorage) -> None:
    """Notices: each has its own schedule, read when a run fires; None means stopped."""
    clock, recorder = FakeClock(MONDAY_0900), Recorder()
    timers = TimerService(db.unit_of_work, clock)
    once = Schedule(
        kind="once",
        at=MONDAY_0900 + timedelta(hours=1),
        cron=None,
        until=None,
        timezone="Asia/Shanghai",
        source="今天 10:00",
    )
    schedules: dict[int, Schedule | None] = {1: once, 2: DAILY_0830}

    async def schedule_of(uow: UnitOfWork, ref_id: int) -> Schedule | None:
        return schedules[ref_id]

    timers.recurring("notice.run", schedule_of, recorder.handler)
    async with db.unit_of_work() as uow:
        await TimerService.add(uow, "notice.run", 1, MONDAY_0900 + timedelta(hours=1))
        await TimerService.add(uow, "notice.run", 2, MONDAY_0900 + timedelta(hours=1))
    schedules[2] = None  # paused meanwhile
    clock.advance(timedelta(hours=1))
    assert await timers.fire_due() == 2
    assert recorder.sent == ["11-23 10:00"]  # the one-off; the paused one said nothing
    assert recorder.told_next == [None]
    assert await timers.pending("notice.run") == []
