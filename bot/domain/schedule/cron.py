"""5-field cron expressions, evaluated by cronsim.

Every repeating notice (daily, weekdays, 每周一三五, 每月1、15日, 每月最后一天, cron …) is
stored as one canonical expression, so storage and the sender see only this.

Which cron we speak is cronsim's, which follows Debian's (Vixie) cron:
- **Days.** When both day fields are restricted a day matches if EITHER does; a day field
  that starts with `*` (`*`, `*/2`) counts as unrestricted, so `0 9 */2 * 1` is Mondays
  that fall on an odd day (AND), while `0 9 1-31/2 * 1` is odd days OR Mondays. The
  hand-written engine this replaces read `*/2` as restricted (croniter's reading); it
  agreed with cronsim everywhere else. Canonical text keeps the difference: a field typed
  without `*` is never written back with one.
- **Extensions.** `L` (last day of the month), `LW`, `5L` (last Friday) and `1#2` (second
  Monday) are accepted.
- **DST.** For a job at a fixed time (minute and hour fields not starting with `*`),
  wall-clock time is what counts: a time the clocks skip runs at the first minute after
  the jump, and a time that happens twice runs once, at its first occurrence. Other
  jobs (`*/20 * * * *`) follow real time. China has no DST; this matters only for
  deployments elsewhere.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, tzinfo
from functools import lru_cache

from cronsim import CronSim, CronSimError
from cronsim.cronsim import Field

from bot.domain.schedule.errors import ScheduleError
from bot.domain.schedule.folding import fold

# February counts 29: an expression that needs a leap day still matches eventually.
_LONGEST_MONTH = (31, 29, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31)
_BOUNDS = ((0, 59), (0, 23), (1, 31), (1, 12), (0, 6))
FULL_DAYS_OF_MONTH = tuple(range(1, 32))
FULL_DAYS_OF_WEEK = tuple(range(7))
LAST_DAY = "L"


def require_aware(moment: datetime, name: str) -> None:
    """Refuse a naive datetime: schedules compute in real time zones only."""
    if moment.tzinfo is None or moment.utcoffset() is None:
        raise ValueError(f"{name} must be a timezone-aware datetime, got {moment!r}")


@dataclass(frozen=True, slots=True)
class CronExpression:
    """A canonical 5-field expression: minute hour day-of-month month day-of-week.

    The tuples hold the plain values of each field (day of week 0 = Sunday … 6); a field
    with cronsim's extensions (`L`, `#`) has an empty tuple and keeps its text.
    """

    text: str
    minutes: tuple[int, ...]
    hours: tuple[int, ...]
    days_of_month: tuple[int, ...]
    months: tuple[int, ...]
    days_of_week: tuple[int, ...]

    @classmethod
    def parse(cls, expr: str) -> CronExpression:
        """`*`, numbers, `a-b`, lists, `*/n`, `a-b/n`, `a/n`, jan..dec, sun..sat, L, LW, #."""
        return _parse_cached(" ".join(fold(expr).split()).upper())

    def __str__(self) -> str:
        return self.text

    @property
    def last_day_of_month(self) -> bool:
        """`m h L * *`: the last day of every month."""
        return self.text.split()[2:] == [LAST_DAY, "*", "*"]

    def next_after(self, after: datetime, tz: tzinfo) -> datetime:
        """The first matching minute strictly after `after`, as an aware UTC datetime."""
        require_aware(after, "after")
        try:
            found = next(CronSim(self.text, after.astimezone(tz)))
        except StopIteration:  # past the end of the calendar
            raise ScheduleError("cron_never", self.text) from None
        return found.astimezone(UTC)


@lru_cache(maxsize=512)
def _parse_cached(expr: str) -> CronExpression:
    texts = expr.split()
    if len(texts) != 5:
        raise ScheduleError("bad_cron", expr)
    if texts[2] == "?" or texts[4] == "?":
        raise ScheduleError("bad_cron", expr)  # Quartz's "no value"; cronsim reads it as 0
    try:
        # cronsim refuses "31 2" as a bad day; tell "never matches" apart from a typo.
        days = Field.DAY.parse(texts[2])
        months = Field.MONTH.parse(texts[3])
        day_and = texts[2].startswith("*") or texts[4].startswith("*")
        plain_days = [d for d in days if isinstance(d, int) and d > 0]
        if (
            day_and
            and plain_days
            and len(plain_days) == len(days)
            and min(plain_days) > max(_LONGEST_MONTH[m - 1] for m in months if isinstance(m, int))
        ):
            raise ScheduleError("cron_never", expr)
        simulated = CronSim(expr, datetime(2000, 1, 1, tzinfo=UTC))
    except CronSimError:
        raise ScheduleError("bad_cron", expr) from None
    fields = (
        simulated.minutes, simulated.hours, simulated.days, simulated.months,
        {d % 7 for d in simulated.weekdays if isinstance(d, int)}
        if all(isinstance(d, int) for d in simulated.weekdays) else set(),
    )  # fmt: skip
    values: list[tuple[int, ...]] = []
    parts: list[str] = []
    for index, (typed, field) in enumerate(zip(texts, fields, strict=True)):
        if any(mark in typed for mark in ("L", "#")):
            values.append(())
            parts.append(typed)
            continue
        values.append(tuple(sorted(field)))
        parts.append(_field_text(index, typed, values[-1]))
    return CronExpression(" ".join(parts), *values)


def _field_text(index: int, typed: str, values: tuple[int, ...]) -> str:
    """Canonical text for a field: equal sets typed the same way give equal text.

    In the two day fields a leading `*` changes the meaning (Debian's day rule), so
    there a field typed with `*` stays starred and one typed without never gains a star.
    """
    low, high = _BOUNDS[index]
    day_field = index in (2, 4)
    if values == tuple(range(low, high + 1)):
        return f"{low}-{high}" if day_field and not typed.startswith("*") else "*"
    if day_field and typed.startswith("*"):
        return typed  # "*/n", the only starred form that is not the full range
    stepped = ""
    if len(values) >= 3:
        step = values[1] - values[0]
        if step > 1 and values == tuple(range(values[0], values[-1] + 1, step)):
            if not day_field and values[0] == low and values[-1] + step > high:
                stepped = f"*/{step}"
            else:
                stepped = f"{values[0]}-{values[-1]}/{step}"
    parts: list[str] = []
    run: list[int] = []
    for value in (*values, -2):  # -2 continues no run, so it flushes the last one
        if run and value == run[-1] + 1:
            run.append(value)
            continue
        if len(run) >= 3:
            parts.append(f"{run[0]}-{run[-1]}")
        else:
            parts.extend(str(v) for v in run)
        run = [value]
    listed = ",".join(parts)
    # `*/15` beats `0,15,30,45`, but `1,3,5` reads better than `1-5/2`.
    return stepped if stepped and len(stepped) < len(listed) else listed
