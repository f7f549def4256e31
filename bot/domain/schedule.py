"""When a notice goes out and to whom: parsing `/notice <when> <targets>`, durations and clocks.

Pure standard library. Every repeating form compiles to a normalised 5-field cron
expression evaluated by `CronExpression`, so storage and the sender only ever see
three kinds of schedule: `now`, `once` (an aware UTC instant) and `cron`.

Text is folded before parsing (NFKC plus a few dashes and colons), so full-width
digits, `：` and `，` work like their ASCII forms; errors quote the text as typed.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta, tzinfo
from decimal import Decimal
from functools import lru_cache
from typing import Any, ClassVar, Literal, get_args
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from bot.domain.errors import UserError

ScheduleKind = Literal["now", "once", "cron"]

# English fallbacks for logs; users see the `errors/<code>` templates instead.
ERROR_MESSAGES: dict[str, str] = {
    "unknown_form": "not a schedule I understand",
    "bad_time": "time of day missing or invalid",
    "bad_date": "no such date",
    "past_time": "that time has already passed",
    "bad_weekday": "day of the week missing or invalid",
    "bad_day_of_month": "day of the month missing or not 1-31",
    "bad_cron": "invalid cron expression",
    "cron_never": "the cron expression never matches",
    "bad_end": "end date missing or invalid",
    "end_in_past": "the end date leaves no run",
    "until_not_repeating": "an end date only makes sense for a repeating schedule",
    "no_targets": "no targets given",
    "bad_target": "not a grid code, tag or 'all'",
    "all_with_others": "'all' cannot be combined with grid codes or tags",
    "bad_duration": "not a positive duration like 10m, 2h or 1h30m",
}


class ScheduleError(UserError, ValueError):
    """A schedule, target list, duration or clock the user must fix.

    `code` names the template (`errors/<code>`); `detail` is the offending fragment
    as typed (for `past_time`: the resolved local time, `YYYY-MM-DD HH:MM`).
    """

    def __init__(self, code: str, detail: str = "") -> None:
        UserError.__init__(self, code, detail=detail)
        self.detail = detail
        self.args = (f"{ERROR_MESSAGES.get(code, code)}: {detail!r}",)


# ---------------------------------------------------------------------------
# Text folding

_EXTRA_FOLDS = {"∶": ":", "–": "-", "—": "-", "―": "-", "〜": "~"}


def _fold_with_origin(text: str) -> tuple[str, list[int]]:
    """Fold char by char so every folded position maps back to the text as typed."""
    folded: list[str] = []
    origin: list[int] = []
    for index, char in enumerate(text):
        replacement = _EXTRA_FOLDS.get(char) or unicodedata.normalize("NFKC", char)
        folded.append(replacement)
        origin.extend([index] * len(replacement))
    origin.append(len(text))
    return "".join(folded), origin


def _fold(text: str) -> str:
    return _fold_with_origin(text)[0]


# ---------------------------------------------------------------------------
# Cron

_MONTH_NAMES = ("jan", "feb", "mar", "apr", "may", "jun", "jul", "aug", "sep", "oct", "nov", "dec")
_DOW_NAMES = ("sun", "mon", "tue", "wed", "thu", "fri", "sat")
# February counts 29: an expression that needs a leap day still matches eventually.
_LONGEST_MONTH = (31, 29, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31)
_SEARCH_YEARS = 9  # leap days can be 8 years apart (2096 -> 2104)


@dataclass(frozen=True, slots=True)
class _CronField:
    low: int
    high: int
    names: dict[str, int]


_CRON_FIELDS = (
    _CronField(0, 59, {}),
    _CronField(0, 23, {}),
    _CronField(1, 31, {}),
    _CronField(1, 12, {name: number for number, name in enumerate(_MONTH_NAMES, 1)}),
    _CronField(0, 7, {name: number for number, name in enumerate(_DOW_NAMES)}),
)
_FULL_DAYS_OF_MONTH = tuple(range(1, 32))
_FULL_DAYS_OF_WEEK = tuple(range(7))


def _cron_value(text: str, spec: _CronField, expr: str) -> int:
    if text.lower() in spec.names:
        return spec.names[text.lower()]
    if not re.fullmatch(r"[0-9]{1,2}", text):
        raise ScheduleError("bad_cron", expr)
    value = int(text)
    if not spec.low <= value <= spec.high:
        raise ScheduleError("bad_cron", expr)
    return value


def _parse_cron_field(text: str, spec: _CronField, expr: str) -> set[int]:
    values: set[int] = set()
    for part in text.split(","):
        span, slash, step_text = part.partition("/")
        step = 1
        if slash:
            if not re.fullmatch(r"[0-9]{1,2}", step_text) or int(step_text) == 0:
                raise ScheduleError("bad_cron", expr)
            step = int(step_text)
        if span == "*":
            start, end = spec.low, spec.high
        elif "-" in span:
            first, _, last = span.partition("-")
            start, end = _cron_value(first, spec, expr), _cron_value(last, spec, expr)
            if start > end:
                raise ScheduleError("bad_cron", expr)
        else:
            # `5/15` means `5-<max>/15`, as in cronie and APScheduler.
            start = _cron_value(span, spec, expr)
            end = spec.high if slash else start
        values.update(range(start, end + 1, step))
    return values


def _compress(values: tuple[int, ...], low: int, high: int) -> str:
    """Canonical text for a field: equal sets always give equal text."""
    if values == tuple(range(low, high + 1)):
        return "*"
    stepped = ""
    if len(values) >= 3:
        step = values[1] - values[0]
        if step > 1 and values == tuple(range(values[0], values[-1] + 1, step)):
            if values[0] == low and values[-1] + step > high:
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


def _resolve_wall_time(wall: datetime, tz: tzinfo) -> datetime | None:
    """The UTC instant of a local wall time, or None if the clocks skip it (DST gap).

    An ambiguous wall time (clocks going back) resolves to its first occurrence.
    """
    aware = wall.replace(tzinfo=tz, fold=0)
    instant = aware.astimezone(UTC)
    if instant.astimezone(tz).replace(tzinfo=None) != wall:
        return None
    return instant


def _require_aware(moment: datetime, name: str) -> None:
    if moment.tzinfo is None or moment.utcoffset() is None:
        raise ValueError(f"{name} must be a timezone-aware datetime, got {moment!r}")


@dataclass(frozen=True, slots=True)
class CronExpression:
    """A 5-field cron expression: minute hour day-of-month month day-of-week.

    Day rule as in POSIX cron: when both day fields are restricted a day matches if
    EITHER does. "Restricted" means the field's values are not the whole range, so
    `*/1` counts as `*` and `*/2` as restricted (croniter's reading; cronie differs).
    Day of week 0 and 7 are Sunday.

    Evaluation is in local wall-clock time. Across DST transitions a wall time the
    clocks skip is skipped (no run that day), and a wall time that happens twice
    runs once, at its first occurrence - runs never repeat and never go backwards.
    """

    minutes: tuple[int, ...]
    hours: tuple[int, ...]
    days_of_month: tuple[int, ...]
    months: tuple[int, ...]
    days_of_week: tuple[int, ...]  # 0 = Sunday ... 6 = Saturday

    @classmethod
    def parse(cls, expr: str) -> CronExpression:
        """Parse `*`, numbers, `a-b`, lists, `*/n`, `a-b/n`, `a/n`, and jan..dec, sun..sat names."""
        return _parse_cron_cached(_fold(expr).strip())

    def __str__(self) -> str:
        return " ".join(
            _compress(values, spec.low, 6 if spec is _CRON_FIELDS[4] else spec.high)
            for values, spec in zip(self._fields(), _CRON_FIELDS, strict=True)
        )

    def _fields(self) -> tuple[tuple[int, ...], ...]:
        return (self.minutes, self.hours, self.days_of_month, self.months, self.days_of_week)

    def day_matches(self, day: date) -> bool:
        if day.month not in self.months:
            return False
        in_month = day.day in self.days_of_month
        in_week = day.isoweekday() % 7 in self.days_of_week
        if self.days_of_month != _FULL_DAYS_OF_MONTH and self.days_of_week != _FULL_DAYS_OF_WEEK:
            return in_month or in_week
        return in_month and in_week

    def matches(self, moment: datetime, tz: tzinfo) -> bool:
        """Whether the local wall-clock minute of `moment` is one the expression names."""
        _require_aware(moment, "moment")
        local = moment.astimezone(tz)
        return (
            local.minute in self.minutes
            and local.hour in self.hours
            and self.day_matches(local.date())
        )

    def next_after(self, after: datetime, tz: tzinfo) -> datetime:
        """The first matching minute strictly after `after`, as an aware UTC datetime."""
        _require_aware(after, "after")
        after_utc = after.astimezone(UTC)
        start = after.astimezone(tz).replace(tzinfo=None, second=0, microsecond=0)
        start += timedelta(minutes=1)
        day, earliest = start.date(), start.hour * 60 + start.minute
        last_day = date(min(day.year + _SEARCH_YEARS, 9999), 12, 31)
        while day <= last_day:
            if day.month not in self.months:
                if day.month == 12 and day.year == 9999:
                    break
                day = (day.replace(day=1) + timedelta(days=32)).replace(day=1)
                earliest = 0
                continue
            if self.day_matches(day):
                found = self._first_time_on(day, earliest, after_utc, tz)
                if found is not None:
                    return found
            if day == date.max:
                break
            day += timedelta(days=1)
            earliest = 0
        raise ScheduleError("cron_never", str(self))

    def _first_time_on(
        self, day: date, earliest: int, after_utc: datetime, tz: tzinfo
    ) -> datetime | None:
        for hour in self.hours:
            if hour * 60 + 59 < earliest:
                continue
            for minute in self.minutes:
                if hour * 60 + minute < earliest:
                    continue
                instant = _resolve_wall_time(datetime.combine(day, time(hour, minute)), tz)
                # After an ambiguous hour's second pass, its first-pass instants lie before `after`.
                if instant is not None and instant > after_utc:
                    return instant
        return None


@lru_cache(maxsize=512)
def _parse_cron_cached(expr: str) -> CronExpression:
    texts = expr.split()
    if len(texts) != 5:
        raise ScheduleError("bad_cron", expr)
    fields = [
        tuple(sorted(_parse_cron_field(text, spec, expr)))
        for text, spec in zip(texts, _CRON_FIELDS, strict=True)
    ]
    fields[4] = tuple(sorted({day % 7 for day in fields[4]}))
    cron = CronExpression(*fields)
    only_month_days = (
        cron.days_of_month != _FULL_DAYS_OF_MONTH and cron.days_of_week == _FULL_DAYS_OF_WEEK
    )
    if only_month_days and not any(
        day <= _LONGEST_MONTH[month - 1] for month in cron.months for day in cron.days_of_month
    ):
        raise ScheduleError("cron_never", expr)
    return cron


# ---------------------------------------------------------------------------
# Clock times

_MERIDIEM = r"(?:am|pm|a\.m\.|p\.m\.)(?![a-z0-9])"
_CLOCK_RE = re.compile(
    r"(?:(?P<period>凌晨|早上|早晨|上午|中午|下午|傍晚|晚上)\s*)?"
    r"(?:(?P<colon_hour>[0-9]{1,2}):(?P<colon_minute>[0-9]{2})(?![0-9:])"
    r"|(?P<cn_hour>[0-9]{1,2})\s*[点點时時]"
    r"(?:\s*(?P<half>半)|\s*(?P<cn_minute>[0-9]{1,2})(?:\s*分钟?|(?![0-9:]))|\s*整)?"
    rf"|(?P<bare_hour>[0-9]{{1,2}})(?=\s*{_MERIDIEM}))"
    rf"(?:\s*(?P<meridiem>{_MERIDIEM}))?",
    re.IGNORECASE,
)
_MERIDIEM_HOURS = {"am": 0, "a.m.": 0, "pm": 12, "p.m.": 12}
_MORNING_WORDS = {"凌晨", "早上", "早晨", "上午"}
_EVENING_WORDS = {"下午", "傍晚", "晚上"}


def _clock_from_match(match: re.Match[str]) -> time:
    """Validate a `_CLOCK_RE` match; raise bad_time for 25:00, 上午15点, 13pm, 晚上12点 ...."""
    hour_text = match["colon_hour"] or match["cn_hour"] or match["bare_hour"]
    minute_text = match["colon_minute"] or match["cn_minute"] or ("30" if match["half"] else "0")
    hour, minute = int(hour_text), int(minute_text)
    periods = [p.lower() for p in (match["period"], match["meridiem"]) if p]
    if len(periods) == 2 or minute > 59 or hour > 23:
        raise ScheduleError("bad_time", match[0])
    period = periods[0] if periods else None
    if period is None:
        return time(hour, minute)
    if period in _MERIDIEM_HOURS and 1 <= hour <= 12:
        return time(hour % 12 + _MERIDIEM_HOURS[period], minute)
    if period in _MORNING_WORDS and hour <= 12:
        return time(0 if period == "凌晨" and hour == 12 else hour, minute)
    if period == "中午" and 11 <= hour <= 12:
        return time(hour, minute)
    if period == "中午" and 1 <= hour <= 3:
        return time(hour + 12, minute)
    if period in _EVENING_WORDS and 1 <= hour <= 11:
        return time(hour + 12, minute)
    # 下午15点 is redundant but clear; 晚上12点 could be noon or midnight, so ask.
    if period in _EVENING_WORDS and (hour >= 13 or (hour == 12 and period == "下午")):
        return time(hour, minute)
    raise ScheduleError("bad_time", match[0])


def parse_clock(text: str) -> time:
    """A time of day: `08:30`, `8:30`, `9点`, `9点半`, `9点15分`, `下午3点`, `9am`, `9:30 pm`."""
    match = _CLOCK_RE.fullmatch(_fold(text).strip())
    if match is None:
        raise ScheduleError("bad_time", text.strip()[:40])
    return _clock_from_match(match)


# ---------------------------------------------------------------------------
# The `when` grammar

_NOW_RE = re.compile(r"(?:now|immediately|立即|马上|立刻)(?![a-z0-9])", re.IGNORECASE)
_RELATIVE_DAY_RE = re.compile(
    r"(?:(?P<zh>大后天|后天|明天|明日|今天|今日)"
    r"|(?P<en>(?:the\s+)?day\s+after\s+tomorrow|tomorrow|today)(?![a-z0-9]))",
    re.IGNORECASE,
)
_RELATIVE_DAYS = {
    "今天": 0, "今日": 0, "today": 0, "明天": 1, "明日": 1, "tomorrow": 1,
    "后天": 2, "day after tomorrow": 2, "the day after tomorrow": 2, "大后天": 3,
}  # fmt: skip
_DATE_RE = re.compile(
    r"(?:(?P<year>[0-9]{4})(?P<sep>[-/.])(?P<month>[0-9]{1,2})(?P=sep)(?P<day>[0-9]{1,2})"
    r"(?![0-9])"
    r"|(?P<cn_year>[0-9]{4})\s*年\s*(?P<cn_month>[0-9]{1,2})\s*月\s*(?P<cn_day>[0-9]{1,2})\s*[日号]"
    r"|(?P<md_month>[0-9]{1,2})[-/](?P<md_day>[0-9]{1,2})(?![0-9])"
    r"|(?P<cnmd_month>[0-9]{1,2})\s*月\s*(?P<cnmd_day>[0-9]{1,2})\s*[日号])"
)
_BEFORE_CLOCK_RE = re.compile(r"[\s,]*(?:at\s+)?", re.IGNORECASE)
_SPACE_RE = re.compile(r"\s*")
_ASCII_WORD_RE = re.compile(r"[A-Za-z0-9]")

_DAILY_RE = re.compile(r"(?:每天|每日|天天|every\s*day|daily)(?![a-z])", re.IGNORECASE)
_WORKDAYS_RE = re.compile(
    r"(?:每个?工作日|工作日|every\s+(?:weekday|workday|working\s+day)|weekdays|workdays)(?![a-z])",
    re.IGNORECASE,
)
_WEEKENDS_RE = re.compile(r"(?:每个?周末|周末|every\s+weekend|weekends)(?![a-z])", re.IGNORECASE)
_ZH_WEEKLY_RE = re.compile(r"每个?(?:周|星期|礼拜|週)")
_ZH_DAY_RE = re.compile(r"(?:周|星期|礼拜|週)?([一二三四五六日天])")
_ZH_DAY_RANGE_RE = re.compile(r"\s*(?:至|到|-|~)\s*")
_ZH_DAY_SEPARATOR_RE = re.compile(r"\s*[、,和及与]?\s*")
_ZH_DAYS = {"一": 1, "二": 2, "三": 3, "四": 4, "五": 5, "六": 6, "日": 7, "天": 7}
_EN_WEEKLY_RE = re.compile(r"(?:every|weekly(?:\s+on)?)\s+", re.IGNORECASE)
_EN_DAY_RE = re.compile(
    r"(mon(?:day)?|tue(?:s(?:day)?)?|wed(?:s|nesday)?|thu(?:r(?:s(?:day)?)?)?|fri(?:day)?"
    r"|sat(?:urday)?|sun(?:day)?)(?![a-z])",
    re.IGNORECASE,
)
_EN_DAY_RANGE_RE = re.compile(r"\s*(?:-|~|to\s)\s*", re.IGNORECASE)
_EN_SEPARATOR_RE = re.compile(r"\s*(?:,\s*(?:and\s+)?|/\s*|&\s*|and\s+)", re.IGNORECASE)
_ZH_MONTHLY_RE = re.compile(r"每个?月的?\s*")
_ZH_MONTH_DAY_RE = re.compile(r"([0-9]{1,2})(?![0-9:点點时時])\s*[日号號]?")
_EN_MONTHLY_RE = re.compile(
    r"(?:every\s+month|monthly)(?![a-z])(?:\s+on)?(?:\s+the)?\s*", re.IGNORECASE
)
_EN_MONTH_DAY_RE = re.compile(r"([0-9]{1,2})(?:st|nd|rd|th)?(?![0-9:a-z])", re.IGNORECASE)
_CRON_PREFIX_RE = re.compile(r"cron(?:\s+|$)", re.IGNORECASE)
_CRON_FIELDS_RE = re.compile(r"(\S+)\s+(\S+)\s+(\S+)\s+(\S+)\s+(\S+)")

_UNTIL_WORD = r"(?:until|till)(?![a-z0-9_-])|截止到|截至到|截止|截至|直到|至|到"
_UNTIL_RE = re.compile(rf"\s*(?:{_UNTIL_WORD})\s*", re.IGNORECASE)
_UNTIL_END_RE = re.compile(r"\s*(?:为止|止)?")
_TRAILING_UNTIL_RE = re.compile(
    rf"(?:^|\s)(?:{_UNTIL_WORD})\s*(?P<date>{_DATE_RE.pattern})\s*(?:为止|止)?\s*$",
    re.IGNORECASE,
)


_DATE_GROUPS: tuple[tuple[str | None, str, str], ...] = (
    ("year", "month", "day"),
    ("cn_year", "cn_month", "cn_day"),
    (None, "md_month", "md_day"),
    (None, "cnmd_month", "cnmd_day"),
)


def _date_parts(match: re.Match[str]) -> tuple[int | None, int, int]:
    """(year or None, month, day) of a `_DATE_RE` match, whichever alternative matched."""
    for year, month, day in _DATE_GROUPS:
        if match[month] is not None:
            return (int(match[year]) if year else None), int(match[month]), int(match[day])
    raise AssertionError("the date pattern has no other alternatives")


def _next_such_date(month: int, day: int, today: date) -> date | None:
    """The first (month, day) on or after today; None if no year has that date."""
    for year in range(today.year, min(today.year + _SEARCH_YEARS, 9999) + 1):
        try:
            candidate = date(year, month, day)
        except ValueError:
            continue
        if candidate >= today:
            return candidate
    return None


def _cron_text(
    minute: int, hour: int, days_of_month: Iterable[int] = (), iso_days: Iterable[int] = ()
) -> str:
    dom = ",".join(str(d) for d in sorted(set(days_of_month))) or "*"
    dow = ",".join(str(d % 7) for d in sorted(set(iso_days))) or "*"
    return str(CronExpression.parse(f"{minute} {hour} {dom} * {dow}"))


class _WhenParser:
    """Recursive descent over the folded text; `pos` indexes the folded text."""

    def __init__(self, text: str, now: datetime, tz: ZoneInfo) -> None:
        self.text = text
        self.folded, self.origin = _fold_with_origin(text)
        self.pos = 0
        self.now = now.astimezone(UTC)
        self.today = now.astimezone(tz).date()
        self.tz = tz

    def match(self, pattern: re.Pattern[str]) -> re.Match[str] | None:
        found = pattern.match(self.folded, self.pos)
        if found is not None:
            self.pos = found.end()
        return found

    def fragment(self, pos: int | None = None) -> str:
        """The word as typed at a folded position, for error details."""
        start = self.origin[self.pos if pos is None else pos]
        words = self.text[start:].split(maxsplit=1)
        return words[0][:40] if words else ""

    def parse(self) -> tuple[Schedule, str]:
        self.match(_SPACE_RE)
        start = self.pos
        kind: ScheduleKind
        at: datetime | None = None
        cron: str | None = None
        until: date | None = None
        if self.match(_NOW_RE):
            kind = "now"
        elif (cron := self.repeating()) is not None:
            kind = "cron"
        elif (at := self.once()) is not None:
            kind = "once"
        else:
            raise ScheduleError("unknown_form", self.fragment())
        until_start = self.pos
        if self.match(_UNTIL_RE):
            if kind != "cron":
                raise ScheduleError("until_not_repeating", self.fragment(until_start).strip())
            until = self.end_date()
            self.match(_UNTIL_END_RE)
        source = self.text[self.origin[start] : self.origin[self.pos]].strip()
        rest = self.text[self.origin[self.pos] :].strip()
        rest, trailing_source, trailing_until = self.trailing_until(rest)
        if trailing_until is not None:
            if kind != "cron":
                raise ScheduleError("until_not_repeating", trailing_source)
            if until is not None:
                raise ScheduleError("bad_end", trailing_source)
            until, source = trailing_until, f"{source} {trailing_source}"
        schedule = Schedule(kind, at, cron, until, _zone_name(self.tz), source)
        if kind == "cron" and not schedule.next_runs(self.now, count=1):
            raise ScheduleError("end_in_past", (until or self.today).isoformat())
        return schedule, rest

    # -- one-off -----------------------------------------------------------

    def once(self) -> datetime | None:
        if found := self.match(_RELATIVE_DAY_RE):
            word = " ".join((found["zh"] or found["en"]).lower().split())
            day = self.today + timedelta(days=_RELATIVE_DAYS[word])
            return self.once_at(day, self.clock())
        date_start = self.pos
        if found := self.match(_DATE_RE):
            year, month, day_number = _date_parts(found)
            if year is None:
                maybe_day = _next_such_date(month, day_number, self.today)
            else:
                maybe_day = _valid_date(year, month, day_number)
            if maybe_day is None:
                raise ScheduleError("bad_date", self.fragment(date_start))
            return self.once_at(maybe_day, self.clock())
        if _CLOCK_RE.match(self.folded, self.pos):
            clock = self.clock()
            today_at = _wall_to_utc(datetime.combine(self.today, clock), self.tz)
            if today_at is not None and today_at > self.now:
                return today_at
            return self.once_at(self.today + timedelta(days=1), clock)
        return None

    def once_at(self, day: date, clock: time) -> datetime:
        wall = datetime.combine(day, clock)
        instant = _wall_to_utc(wall, self.tz)
        if instant is None:
            raise ScheduleError("bad_date", wall.strftime("%Y-%m-%d %H:%M"))
        if instant <= self.now:
            raise ScheduleError("past_time", wall.strftime("%Y-%m-%d %H:%M"))
        return instant

    def clock(self) -> time:
        self.match(_BEFORE_CLOCK_RE)
        clock_start = self.pos
        found = self.match(_CLOCK_RE)
        if found is None or _ASCII_WORD_RE.match(self.folded, self.pos):
            raise ScheduleError("bad_time", self.fragment(clock_start))
        return _clock_from_match(found)

    # -- repeating ---------------------------------------------------------

    def repeating(self) -> str | None:
        if self.match(_DAILY_RE):
            clock = self.clock()
            return _cron_text(clock.minute, clock.hour)
        if self.match(_WORKDAYS_RE):
            clock = self.clock()
            return _cron_text(clock.minute, clock.hour, iso_days=range(1, 6))
        if self.match(_WEEKENDS_RE):
            clock = self.clock()
            return _cron_text(clock.minute, clock.hour, iso_days=(6, 7))
        for prefix, day_pattern in (
            (_ZH_MONTHLY_RE, _ZH_MONTH_DAY_RE),
            (_EN_MONTHLY_RE, _EN_MONTH_DAY_RE),
        ):
            if self.match(prefix):
                days = self.month_days(day_pattern)
                clock = self.clock()
                return _cron_text(clock.minute, clock.hour, days_of_month=days)
        if self.match(_ZH_WEEKLY_RE):
            iso_days = self.weekdays(_ZH_DAY_RE, _ZH_DAY_RANGE_RE, _ZH_DAY_SEPARATOR_RE)
            clock = self.clock()
            return _cron_text(clock.minute, clock.hour, iso_days=iso_days)
        if found := self.match(_EN_WEEKLY_RE):
            if not _EN_DAY_RE.match(self.folded, self.pos) and found[0].lower().startswith("e"):
                raise ScheduleError("unknown_form", f"every {self.fragment()}")
            iso_days = self.weekdays(_EN_DAY_RE, _EN_DAY_RANGE_RE, _EN_SEPARATOR_RE)
            clock = self.clock()
            return _cron_text(clock.minute, clock.hour, iso_days=iso_days)
        if self.match(_CRON_PREFIX_RE):
            found = self.match(_CRON_FIELDS_RE)
            if found is None:
                raise ScheduleError("bad_cron", self.text[self.origin[self.pos] :].strip()[:60])
            return str(CronExpression.parse(found[0]))
        return None

    def weekdays(
        self, day: re.Pattern[str], day_range: re.Pattern[str], separator: re.Pattern[str]
    ) -> list[int]:
        """ISO weekdays (Monday 1 ... Sunday 7) of a list like 一三五, 一至五, mon,wed-fri."""
        iso_days: list[int] = []
        while True:
            item_start = self.pos
            found = self.match(day)
            if found is None:
                if not iso_days:
                    raise ScheduleError("bad_weekday", self.fragment())
                self.pos = item_start
                return iso_days
            first = last = _iso_weekday(found[1])
            range_start = self.pos
            if self.match(day_range):
                end = self.match(day)
                if end is None:
                    self.pos = range_start
                else:
                    last = _iso_weekday(end[1])
                    if last < first:
                        raise ScheduleError("bad_weekday", self.fragment(item_start))
            iso_days.extend(range(first, last + 1))
            before_separator = self.pos
            self.match(separator)
            if not day.match(self.folded, self.pos):
                self.pos = before_separator
                return iso_days

    def month_days(self, item: re.Pattern[str]) -> list[int]:
        """Days of the month of a list like 1、15日 or 1st and 15th."""
        days: list[int] = []
        while True:
            item_start = self.pos
            found = self.match(item)
            if found is None:
                if not days:
                    raise ScheduleError("bad_day_of_month", self.fragment())
                self.pos = item_start
                return days
            if not 1 <= int(found[1]) <= 31:
                raise ScheduleError("bad_day_of_month", self.fragment(item_start))
            days.append(int(found[1]))
            before_separator = self.pos
            if not self.match(_EN_SEPARATOR_RE):
                self.match(_ZH_DAY_SEPARATOR_RE)
            if not item.match(self.folded, self.pos):
                self.pos = before_separator
                return days

    # -- end dates ---------------------------------------------------------

    def end_date(self) -> date:
        date_start = self.pos
        found = self.match(_DATE_RE)
        if found is None or _ASCII_WORD_RE.match(self.folded, self.pos):
            raise ScheduleError("bad_end", self.fragment(date_start))
        end = self.resolve_end(found)
        if end is None:
            raise ScheduleError("bad_end", self.fragment(date_start))
        return end

    def resolve_end(self, found: re.Match[str]) -> date | None:
        year, month, day = _date_parts(found)
        if year is None:
            return _next_such_date(month, day, self.today)
        return _valid_date(year, month, day)

    def trailing_until(self, rest: str) -> tuple[str, str, date | None]:
        """Split `G01 G02 until 2026-12-31` into the targets and the end date."""
        folded, origin = _fold_with_origin(rest)
        found = _TRAILING_UNTIL_RE.search(folded)
        if found is None:
            return rest, "", None
        phrase = rest[origin[found.start()] :].strip()
        date_match = _DATE_RE.fullmatch(folded, found.start("date"), found.end("date"))
        end = self.resolve_end(date_match) if date_match else None
        if end is None:
            raise ScheduleError("bad_end", phrase)
        return rest[: origin[found.start()]].strip(), phrase, end


def _iso_weekday(name: str) -> int:
    if name in _ZH_DAYS:
        return _ZH_DAYS[name]
    return _DOW_NAMES.index(name[:3].lower()) or 7


def _valid_date(year: int, month: int, day: int) -> date | None:
    try:
        return date(year, month, day)
    except ValueError:
        return None


def _wall_to_utc(wall: datetime, tz: ZoneInfo) -> datetime | None:
    """The instant of a one-off's wall time; None past the end of the calendar.

    A wall time the clocks skip moves forward by the gap (02:30 on a spring-forward
    night is 03:30): unlike a repeating run, a one-off must still go out.
    """
    try:
        return wall.replace(tzinfo=tz, fold=0).astimezone(UTC)
    except OverflowError:
        return None


def _zone_name(tz: ZoneInfo) -> str:
    if not tz.key:
        raise ValueError("the time zone needs an IANA name, e.g. ZoneInfo('Asia/Shanghai')")
    return tz.key


def parse_when(text: str, *, now: datetime, tz: ZoneInfo) -> tuple[Schedule, str]:
    """Parse the schedule at the START of `text`; return it and the rest (the targets).

    Pass the command's first line only. Forms (times local to `tz`):
      now / 立即 / 马上 / 立刻
      once: 2026-12-01 09:00, 2026/12/01 9:00, 2026年12月1日 9点, 12-01 9:00, 12月1日9点,
            今天/明天/后天/大后天 9:00, today/tomorrow 9am, or a bare time (next occurrence).
            A date without a year is its next occurrence on or after today.
      repeating: 每天/每日/daily/every day, 工作日/weekdays, 周末/weekends,
            每周一三五 / 每周一至周五 / every mon,wed-fri, 每月1、15日 / monthly 1,15 /
            every month on the 1st, cron <5 fields>; each followed by a time (not cron).
    A repeating schedule may end (inclusive, local date) with `until|至|截止|到 <date>`
    right after the time, or at the very end of the line, after the targets.
    """
    _require_aware(now, "now")
    return _WhenParser(text, now, tz).parse()


# ---------------------------------------------------------------------------
# Schedule

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
            _require_aware(self.at, "at")
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
        _require_aware(after, "after")
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
    if len(cron.minutes) != 1 or len(cron.hours) != 1 or len(cron.months) != 12:
        return fallback
    clock = f"{cron.hours[0]:02d}:{cron.minutes[0]:02d}"
    every_month_day = cron.days_of_month == _FULL_DAYS_OF_MONTH
    every_weekday = cron.days_of_week == _FULL_DAYS_OF_WEEK
    if every_month_day and every_weekday:
        return f"每天 {clock}" if zh else f"every day {clock}"
    if every_month_day:
        if cron.days_of_week == (1, 2, 3, 4, 5):
            return f"工作日 {clock}" if zh else f"weekdays {clock}"
        if cron.days_of_week == (0, 6):
            return f"周末 {clock}" if zh else f"weekends {clock}"
        monday_first = sorted(cron.days_of_week, key=lambda day: (day - 1) % 7)
        if zh:
            return f"每周{'、'.join(_ZH_WEEKDAYS[d] for d in monday_first)} {clock}"
        return f"every {_join_en([_EN_WEEKDAYS[d] for d in monday_first])} {clock}"
    if every_weekday:
        if zh:
            return f"每月{'、'.join(f'{d}日' for d in cron.days_of_month)} {clock}"
        return f"every month on the {_join_en([_ordinal(d) for d in cron.days_of_month])} {clock}"
    return fallback


# ---------------------------------------------------------------------------
# Targets

_ALL_WORDS = {"all", "全部", "所有", "全体", "全部网格", "所有网格"}
_TAG_PREFIX_RE = re.compile(r"(?:tag|标签|標籤):", re.IGNORECASE)
_TARGET_SPLIT_RE = re.compile(r"[\s,、;]+")
_GRID_CODE_RE = re.compile(r"[A-Za-z0-9][A-Za-z0-9_-]{0,31}")


@dataclass(frozen=True, slots=True)
class Targets:
    """Who a notice goes to.

    Codes and tags keep the first spelling given, are deduplicated case-insensitively
    and compared case-insensitively (grid codes are `COLLATE NOCASE` in SQL).
    """

    all: bool
    grid_codes: tuple[str, ...] = ()
    tags: tuple[str, ...] = ()

    def includes(self, grid_code: str, grid_tags: Iterable[str] = ()) -> bool:
        if self.all:
            return True
        if grid_code.casefold() in {code.casefold() for code in self.grid_codes}:
            return True
        wanted = {tag.casefold() for tag in self.tags}
        return any(tag.casefold() in wanted for tag in grid_tags)

    def to_storage(self) -> dict[str, Any]:
        return {"all": self.all, "grid_codes": list(self.grid_codes), "tags": list(self.tags)}

    @classmethod
    def from_storage(cls, data: Mapping[str, Any]) -> Targets:
        return cls(bool(data["all"]), tuple(data["grid_codes"]), tuple(data["tags"]))


def parse_targets(text: str) -> Targets:
    """Parse `all` / `全部` / `所有`, or grid codes and tags.

    Tags are `tag:NAME`, `标签:NAME` or `#NAME`; everything is separated by spaces,
    commas (`,` `，`), `、` or `;`. "all" with anything else is refused as a likely slip.
    """
    words = [word for word in _TARGET_SPLIT_RE.split(_fold(text)) if word]
    if not words:
        raise ScheduleError("no_targets", "")
    everyone = False
    codes: dict[str, str] = {}
    tags: dict[str, str] = {}
    index = 0
    while index < len(words):
        word = words[index]
        index += 1
        if word.lower() in _ALL_WORDS:
            everyone = True
            continue
        prefix = _TAG_PREFIX_RE.match(word)
        if prefix or word.startswith("#"):
            tag = word[prefix.end() :] if prefix else word[1:]
            if not tag and prefix and index < len(words):  # `tag: 老旧小区`
                tag, index = words[index], index + 1
            if not tag or len(tag) > 32:
                raise ScheduleError("bad_target", word)
            tags.setdefault(tag.casefold(), tag)
        elif _GRID_CODE_RE.fullmatch(word):
            codes.setdefault(word.casefold(), word)
        else:
            raise ScheduleError("bad_target", word[:40])
    if everyone and (codes or tags):
        raise ScheduleError("all_with_others", " ".join([*codes.values(), *tags.values()]))
    return Targets(everyone, tuple(codes.values()), tuple(tags.values()))


# ---------------------------------------------------------------------------
# Durations

_DURATION_UNITS: tuple[tuple[int, tuple[str, ...]], ...] = (
    (7 * 86400, ("weeks", "week", "wks", "wk", "w", "个星期", "星期", "周")),
    (86400, ("days", "day", "d", "天", "日")),
    (3600, ("hours", "hour", "hrs", "hr", "h", "小时", "钟头", "时")),
    (60, ("minutes", "minute", "mins", "min", "m", "分钟", "分")),
    (1, ("seconds", "second", "secs", "sec", "s", "秒钟", "秒")),
)
_UNIT_SECONDS = {name: seconds for seconds, names in _DURATION_UNITS for name in names}
_DURATION_PART_RE = re.compile(
    r"\s*(?P<number>[0-9]{1,9}(?:\.[0-9]{1,6})?|半)\s*个?\s*(?P<half>半)?\s*"
    r"(?P<unit>" + "|".join(sorted(map(re.escape, _UNIT_SECONDS), key=len, reverse=True)) + r")"
    r"(?![a-z])\s*",
    re.IGNORECASE,
)


def parse_duration(text: str) -> timedelta:
    """`30s`, `10m`, `2h`, `3d`, `1w`, `1h30m`, `1.5h`, `10分钟`, `2小时`, `半小时`, `1个半小时`.

    A bare number is rejected: `90` could mean seconds or minutes.
    """
    folded = _fold(text).strip()
    seconds = Decimal(0)
    seen: set[int] = set()
    pos = 0
    while pos < len(folded) or not seen:
        part = _DURATION_PART_RE.match(folded, pos)
        if part is None or part.end() == pos:
            raise ScheduleError("bad_duration", text.strip()[:40])
        unit = _UNIT_SECONDS[part["unit"].lower()]
        if unit in seen or (part["number"] == "半" and part["half"]):
            raise ScheduleError("bad_duration", text.strip()[:40])
        seen.add(unit)
        number = Decimal("0.5") if part["number"] == "半" else Decimal(part["number"])
        seconds += (number + (Decimal("0.5") if part["half"] else 0)) * unit
        pos = part.end()
    whole_seconds = int(seconds.to_integral_value())
    if whole_seconds <= 0:
        raise ScheduleError("bad_duration", text.strip()[:40])
    try:
        return timedelta(seconds=whole_seconds)
    except OverflowError:
        raise ScheduleError("bad_duration", text.strip()[:40]) from None


def format_duration(delta: timedelta, locale: str) -> str:
    """`1天3小时` / `1 d 3 h`, `10分钟` / `10 min`; whole seconds, largest units first."""
    if delta < timedelta(0):
        raise ValueError(f"cannot format a negative duration {delta!r}")
    total = int(delta.total_seconds())
    days, total = divmod(total, 86400)
    hours, total = divmod(total, 3600)
    minutes, seconds = divmod(total, 60)
    amounts = (days, hours, minutes, seconds)
    if _is_zh(locale):
        units = ("天", "小时", "分钟", "秒")
        return "".join(f"{n}{u}" for n, u in zip(amounts, units, strict=True) if n) or "0秒"
    units = ("d", "h", "min", "s")
    return " ".join(f"{n} {u}" for n, u in zip(amounts, units, strict=True) if n) or "0 s"
