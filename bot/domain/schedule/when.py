"""The `when` of `/notice <when> <targets>`: a time of day, a day, or a repeating rule.

Forms are listed in `parse_when`. Text is folded first (NFKC plus a few dashes and
colons), so full-width digits, `：` and `，` work like ASCII; errors quote the text as typed.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from bot.domain.schedule.cron import LAST_DAY, CronExpression, require_aware
from bot.domain.schedule.errors import ScheduleError
from bot.domain.schedule.folding import fold, fold_with_origin
from bot.domain.schedule.schedules import Schedule, ScheduleKind

_DOW_NAMES = ("sun", "mon", "tue", "wed", "thu", "fri", "sat")
_SEARCH_YEARS = 9  # leap days can be 8 years apart (2096 -> 2104)

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


def _clock_from_match(match: re.Match[str], implied_period: str | None = None) -> time:
    """Validate a `_CLOCK_RE` match; raise bad_time for 25:00, 上午15点, 13pm, 晚上12点 ....

    `implied_period` is the part of the day a word before the time already gave
    (今晚 → 晚上): it counts only when the time names none itself.
    """
    hour_text = match["colon_hour"] or match["cn_hour"] or match["bare_hour"]
    minute_text = match["colon_minute"] or match["cn_minute"] or ("30" if match["half"] else "0")
    hour, minute = int(hour_text), int(minute_text)
    periods = [p.lower() for p in (match["period"], match["meridiem"]) if p]
    if not periods and implied_period:
        periods = [implied_period]
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
    match = _CLOCK_RE.fullmatch(fold(text).strip())
    if match is None:
        raise ScheduleError("bad_time", text.strip()[:40])
    return _clock_from_match(match)


_NOW_RE = re.compile(r"(?:now|immediately|立即|马上|立刻)(?![a-z0-9])", re.IGNORECASE)
_RELATIVE_DAY_RE = re.compile(
    r"(?:(?P<zh>大后天|后天|明天|明日|今天|今日)"
    r"|(?P<en>(?:the\s+)?day\s+after\s+tomorrow|tomorrow|today)(?![a-z0-9]))",
    re.IGNORECASE,
)
# A day and a part of it in one word: 今晚 8点 is 20:00 today.
_DAY_PART_RE = re.compile(
    r"(?:今晚|今夜|今早|明早|明晚|后天晚上|tonight(?![a-z0-9]))", re.IGNORECASE
)
_DAY_PARTS = {
    "今晚": (0, "晚上"), "今夜": (0, "晚上"), "tonight": (0, "晚上"), "今早": (0, "早上"),
    "明早": (1, "早上"), "明晚": (1, "晚上"), "后天晚上": (2, "晚上"),
}  # fmt: skip
# One coming day of the week: 周五, 本周五, 这周五 (this week), 下周一, 下个星期三 (next week).
_ZH_WEEKDAY_ONCE_RE = re.compile(
    r"(?P<which>下一?个?|本|这一?个?)?(?:周|星期|礼拜|週)(?P<day>[一二三四五六日天])"
)
_EN_WEEKDAY_ONCE_RE = re.compile(
    r"(?:(?P<which>next|this)\s+)?(?P<day>mon(?:day)?|tue(?:s(?:day)?)?|wed(?:s|nesday)?"
    r"|thu(?:r(?:s(?:day)?)?)?|fri(?:day)?|sat(?:urday)?|sun(?:day)?)(?![a-z])",
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
_LAST_DAY_RE = re.compile(
    r"(?:最后一天|最后1天|月底|月末|(?:the\s+)?last\s+day)(?![a-z])", re.IGNORECASE
)
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
        self.folded, self.origin = fold_with_origin(text)
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
        if found := self.match(_DAY_PART_RE):
            offset, period = _DAY_PARTS[" ".join(found[0].lower().split())]
            return self.once_at(self.today + timedelta(days=offset), self.clock(period))
        for pattern in (_ZH_WEEKDAY_ONCE_RE, _EN_WEEKDAY_ONCE_RE):
            if found := self.match(pattern):
                return self.weekday_once(found)
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

    def weekday_once(self, found: re.Match[str]) -> datetime:
        """周五 is the coming Friday (a week on when today's time has passed); 本周五 the
        Friday of this week (Monday to Sunday), 下周五 and "next friday" that of next week.
        """
        iso_day = _iso_weekday(found["day"])
        which = (found["which"] or "").lower()
        clock = self.clock()
        monday = self.today - timedelta(days=self.today.isoweekday() - 1)
        if which.startswith(("下", "next")):
            return self.once_at(monday + timedelta(days=7 + iso_day - 1), clock)
        if which:
            return self.once_at(monday + timedelta(days=iso_day - 1), clock)
        day = self.today + timedelta(days=(iso_day - self.today.isoweekday()) % 7)
        at = _wall_to_utc(datetime.combine(day, clock), self.tz)
        if at is not None and at > self.now:
            return at
        return self.once_at(day + timedelta(days=7), clock)

    def once_at(self, day: date, clock: time) -> datetime:
        wall = datetime.combine(day, clock)
        instant = _wall_to_utc(wall, self.tz)
        if instant is None:
            raise ScheduleError("bad_date", wall.strftime("%Y-%m-%d %H:%M"))
        if instant <= self.now:
            raise ScheduleError("past_time", wall.strftime("%Y-%m-%d %H:%M"))
        return instant

    def clock(self, implied_period: str | None = None) -> time:
        self.match(_BEFORE_CLOCK_RE)
        clock_start = self.pos
        found = self.match(_CLOCK_RE)
        if found is None or _ASCII_WORD_RE.match(self.folded, self.pos):
            raise ScheduleError("bad_time", self.fragment(clock_start))
        return _clock_from_match(found, implied_period)

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
                if self.match(_LAST_DAY_RE):
                    clock = self.clock()
                    return str(CronExpression.parse(f"{clock.minute} {clock.hour} {LAST_DAY} * *"))
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
        folded, origin = fold_with_origin(rest)
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
            今天/明天/后天/大后天 9:00, today/tomorrow 9am, 今晚 8点 / 明早 7点 / 明晚 /
            tonight 8pm (the word gives the part of the day), 周五 18:00 (the coming Friday),
            本周五 / this fri (this week's), 下周一 9点 / 下个星期三 / next mon (next week's),
            or a bare time (next occurrence).
            A date without a year is its next occurrence on or after today.
      repeating: 每天/每日/daily/every day, 工作日/weekdays, 周末/weekends,
            每周一三五 / 每周一至周五 / every mon,wed-fri, 每月1、15日 / monthly 1,15 /
            every month on the 1st, 每月最后一天 / 每月月底 / monthly on the last day,
            cron <5 fields>; each followed by a time (not cron).
    A repeating schedule may end (inclusive, local date) with `until|至|截止|到 <date>`
    right after the time, or at the very end of the line, after the targets.
    """
    require_aware(now, "now")
    return _WhenParser(text, now, tz).parse()
