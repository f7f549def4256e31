"""A notice's schedule: `now`, `once` (an aware UTC instant) or `cron`, and how to say it."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from typing import Any, ClassVar, Literal, get_args
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from bot.domain.schedule.cron import CronExpression, require_aware

ScheduleKind = Literal["now", "once", "cron"]

_ZH_WEEKDAYS = ("日", "一", "二", "三", "四", "五", "六")
_EN_WEEKDAYS = ("Sunday", "Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday")


def _is_zh(locale: str) -> bool:
    return locale.lower().startswith("zh")


def _join_en(words: list[str]) -> str:
    return words[0] if len(words) == 1 else f"{', '.join(words[:-1])} and {words[-1]}"


def _ordinal(number: int) -> str:
    if 11 <= number % 100 <= 13:
        return f"{number}th"
    return f"{number}{ {1: 'st', 2: 'nd', 3: 'rd'}.get(number % 10, 'th') }"


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
        return self.kind == "cron"

    @property
    def zone(self) -> ZoneInfo:
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
        return cls(kind="cron", at=None, cron=f"{at.minute} {at.hour} * * *", until=None,
                   timezone=zone.key, source=f"每天 {at:%H:%M}")

    def describe(self, locale: str) -> str:
        """Short and human: `每周一 09:00` / `every Monday 09:00`. zh* is Chinese, else English."""
        zh = _is_zh(locale)
        if self.kind == "now":
            return "立即" if zh else "now"
        if self.at is not None:
            local = self.at.astimezone(self.zone)
            weekday = local.isoweekday() % 7
            if zh:
                return f"{local:%Y-%m-%d}（周{_ZH_WEEKDAYS[weekday]}）{local:%H:%M}"
            return f"{_EN_WEEKDAYS[weekday][:3]} {local:%Y-%m-%d %H:%M}"
        assert self.cron is not None
        text = _describe_cron(CronExpression.parse(self.cron), zh)
        if self.until is None:
            return text
        end = f"{self.until:%Y-%m-%d}"
        return f"{text}（至 {end}）" if zh else f"{text} until {end}"

    def to_storage(self) -> dict[str, Any]:
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


def _describe_cron(cron: CronExpression, zh: bool) -> str:
    fallback = f"cron：{cron}" if zh else f"cron: {cron}"
    _minute, _hour, month_days, months, week_days = cron.text.split()
    if len(cron.minutes) != 1 or len(cron.hours) != 1 or months != "*":
        return fallback
    clock = f"{cron.hours[0]:02d}:{cron.minutes[0]:02d}"
    if cron.last_day_of_month:
        return f"每月最后一天 {clock}" if zh else f"the last day of every month {clock}"
    every_month_day = month_days == "*"
    every_weekday = week_days == "*"
    if every_month_day and every_weekday:
        return f"每天 {clock}" if zh else f"every day {clock}"
    if every_month_day and cron.days_of_week:
        if cron.days_of_week == (1, 2, 3, 4, 5):
            return f"工作日 {clock}" if zh else f"weekdays {clock}"
        if cron.days_of_week == (0, 6):
            return f"周末 {clock}" if zh else f"weekends {clock}"
        monday_first = sorted(cron.days_of_week, key=lambda day: (day - 1) % 7)
        if zh:
            return f"每周{'、'.join(_ZH_WEEKDAYS[d] for d in monday_first)} {clock}"
        return f"every {_join_en([_EN_WEEKDAYS[d] for d in monday_first])} {clock}"
    if every_weekday and cron.days_of_month:
        if zh:
            return f"每月{'、'.join(f'{d}日' for d in cron.days_of_month)} {clock}"
        return f"every month on the {_join_en([_ordinal(d) for d in cron.days_of_month])} {clock}"
    return fallback

