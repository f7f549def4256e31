"""A notice's schedule: `now`, `once` (an aware UTC instant) or `cron`, and how to say it."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from typing import Any, ClassVar, Literal, get_args
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from bot.domain.schedule.cron import CronExpression, require_aware

ScheduleKind = Literal["now", "once", "cron"]

ScheduleForm = Literal[
    "now",
    "once",
    "daily",
    "weekdays",
    "weekends",
    "weekly",
    "monthly",
    "last_day",
    "cron",
]


@dataclass(frozen=True, slots=True)
class ScheduleShape:
    """What a schedule is, in the parts a template puts into words.

    The words themselves live in templates/<locale>/_partials/notices.html (`schedule`), so
    a deployment can reword them like any other message.
    """

    form: ScheduleForm
    clock: str = ""  # "09:00", local (every form but now, once and cron)
    at: datetime | None = None  # once: the moment in the schedule's zone
    # weekly: cron day numbers (0 = Sunday) Monday first; monthly: days of the month.
    days: tuple[int, ...] = ()
    cron: str = ""  # cron: the expression, for the forms that have no words
    until: date | None = None  # the inclusive local end date of a repeating schedule


@dataclass(frozen=True, slots=True)
class Schedule:
    """When a notice goes out.

    `at` is UTC (once only); `cron` is canonical (cron only); `until` is an inclusive
    local end date (cron only); `source` is the schedule as typed, without targets.
    """

    kind: ScheduleKind
    at: datetime | None
    cron: str | None
    until: date | None
    timezone: str
    source: str

    _STORAGE_KEYS: ClassVar[tuple[str, ...]] = (
        "kind", "at", "cron", "until", "timezone", "source",
    )  # fmt: skip

    def __post_init__(self) -> None:
        if self.kind not in get_args(ScheduleKind):
            raise ValueError(f"unknown schedule kind {self.kind!r}")
        if (self.at is not None) != (self.kind == "once"):
            raise ValueError("`at` is set exactly for once schedules")
        if (self.cron is not None) != (self.kind == "cron"):
            raise ValueError("`cron` is set exactly for cron schedules")
        if self.until is not None and self.kind != "cron":
            raise ValueError("`until` is only for cron schedules")
        if self.at is not None:
            require_aware(self.at, "at")
            object.__setattr__(self, "at", self.at.astimezone(UTC))
        if self.cron is not None:
            object.__setattr__(self, "cron", str(CronExpression.parse(self.cron)))
        try:
            ZoneInfo(self.timezone)
        except (ZoneInfoNotFoundError, ValueError) as error:
            raise ValueError(f"unknown time zone {self.timezone!r}") from error

    @property
    def is_repeating(self) -> bool:
        """Whether it runs more than once (cron); now and once schedules run a single time."""
        return self.kind == "cron"

    @property
    def zone(self) -> ZoneInfo:
        """The time zone its times are local to."""
        return ZoneInfo(self.timezone)

    def next_runs(self, after: datetime, count: int = 3) -> list[datetime]:
        """Up to `count` aware UTC run times strictly after `after`; [] when finished.

        A `now` schedule has no run times: the caller sends at once.
        """
        require_aware(after, "after")
        if self.kind == "once":
            assert self.at is not None
            return [self.at] if self.at > after and count > 0 else []
        if self.kind == "now" or self.cron is None:
            return []
        cron, zone = CronExpression.parse(self.cron), self.zone
        runs: list[datetime] = []
        moment = after
        while len(runs) < count:
            moment = cron.next_after(moment, zone)
            if self.until is not None and moment.astimezone(zone).date() > self.until:
                break
            runs.append(moment)
        return runs

    def run_after(self, due_at: datetime, now: datetime) -> datetime | None:
        """The run after the one due at `due_at` that fired at `now`; None when there is none.

        Runs that fell between `due_at` and `now` (the bot was down) are skipped: a recurring
        job catches up with one late run, never a burst of them.
        """
        if not self.is_repeating:
            return None
        runs = self.next_runs(max(due_at, now), count=1)
        return runs[0] if runs else None

    def has_run_at(self, moment: datetime) -> bool:
        """Whether `moment` is one of this schedule's runs."""
        return self.next_runs(moment - timedelta(seconds=1), count=1) == [moment]

    @classmethod
    def every_day(cls, at: time, zone: ZoneInfo) -> Schedule:
        """Daily at the local time `at` (the digest's schedule)."""
        return cls(
            kind="cron",
            at=None,
            cron=f"{at.minute} {at.hour} * * *",
            until=None,
            timezone=zone.key,
            source=f"每天 {at:%H:%M}",
        )

    def shape(self) -> ScheduleShape:
        """The parts a template words it with: `每周一 09:00` / `every Monday 09:00`."""
        if self.kind == "now":
            return ScheduleShape("now")
        if self.at is not None:
            return ScheduleShape("once", at=self.at.astimezone(self.zone))
        assert self.cron is not None
        return _cron_shape(CronExpression.parse(self.cron), self.until)

    def to_storage(self) -> dict[str, Any]:
        """A JSON-ready record (from_storage reads it back)."""
        return {
            "kind": self.kind,
            "at": self.at.isoformat() if self.at else None,
            "cron": self.cron,
            "until": self.until.isoformat() if self.until else None,
            "timezone": self.timezone,
            "source": self.source,
        }

    @classmethod
    def from_storage(cls, data: Mapping[str, Any]) -> Schedule:
        """Rebuild from `to_storage`; a malformed record is our bug, so ValueError."""
        if set(data) != set(cls._STORAGE_KEYS):
            raise ValueError(f"schedule record has keys {sorted(data)}")
        at, until = data["at"], data["until"]
        return cls(
            kind=data["kind"],
            at=datetime.fromisoformat(at) if at is not None else None,
            cron=data["cron"],
            until=date.fromisoformat(until) if until is not None else None,
            timezone=data["timezone"],
            source=data["source"],
        )


def _cron_shape(cron: CronExpression, until: date | None) -> ScheduleShape:
    """The wordable forms of a cron expression; anything else is shown as the expression."""
    _minute, _hour, month_days, months, week_days = cron.text.split()
    if len(cron.minutes) != 1 or len(cron.hours) != 1 or months != "*":
        return ScheduleShape("cron", cron=cron.text, until=until)
    clock = f"{cron.hours[0]:02d}:{cron.minutes[0]:02d}"
    if cron.last_day_of_month:
        return ScheduleShape("last_day", clock=clock, until=until)
    every_month_day = month_days == "*"
    every_weekday = week_days == "*"
    if every_month_day and every_weekday:
        return ScheduleShape("daily", clock=clock, until=until)
    if every_month_day and cron.days_of_week:
        if cron.days_of_week == (1, 2, 3, 4, 5):
            return ScheduleShape("weekdays", clock=clock, until=until)
        if cron.days_of_week == (0, 6):
            return ScheduleShape("weekends", clock=clock, until=until)
        monday_first = tuple(sorted(cron.days_of_week, key=lambda day: (day - 1) % 7))
        return ScheduleShape("weekly", clock=clock, days=monday_first, until=until)
    if every_weekday and cron.days_of_month:
        return ScheduleShape("monthly", clock=clock, days=tuple(cron.days_of_month), until=until)
    return ScheduleShape("cron", cron=cron.text, until=until)
