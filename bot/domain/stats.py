"""The figures streets report upward: received, closed, on time, residents satisfied.

Every figure except "overdue now" is about the *cohort* of tickets received in the period
(filed in it, minus the ones withdrawn as "not a report"), so the rates are honest: a
month's closure rate is how many of that month's events got closed.
"""

from __future__ import annotations

import re
from collections import defaultdict
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from bot.domain.errors import UserError
from bot.domain.models import Grid

PERIOD_WORDS = ("today", "7d", "30d", "month", "week", "lastweek")
_MONTH = re.compile(r"^(\d{4})-(\d{1,2})$")


@dataclass(frozen=True, slots=True)
class Period:
    """[start, end) as aware UTC moments, and how to call it."""

    start: datetime
    end: datetime
    label: str  # short and file-name safe: "7d", "2026-11", "2026-11-16~2026-11-22"
    # What people call it (templates say it in words): today, 7d, 30d, month (this month so
    # far), week (this week so far), lastweek, calendar_month (a whole month asked by name).
    kind: str

    @property
    def days(self) -> int:
        """How many days the period spans (at least one), for per-day figures."""
        return max(1, round((self.end - self.start).total_seconds() / 86400))


def parse_period(text: str, now: datetime, tz: ZoneInfo) -> Period:
    """A period by name: today | 7d | 30d | month (so far) | week | lastweek | YYYY-MM."""
    word = text.strip().lower() or "month"
    local_now = now.astimezone(tz)
    # "So far" periods end just after now, so a ticket filed this very second counts.
    until = now + timedelta(seconds=1)
    today = local_now.date()

    def at(day: date) -> datetime:
        return datetime.combine(day, time(0), tzinfo=tz).astimezone(ZoneInfo("UTC"))

    if word == "today":
        return Period(at(today), until, word, word)
    if word in ("7d", "30d"):
        days = int(word[:-1])
        return Period(at(today - timedelta(days=days - 1)), until, word, word)
    if word == "month":
        return Period(at(today.replace(day=1)), until, today.strftime("%Y-%m"), "month")
    if word in ("week", "lastweek"):
        monday = today - timedelta(days=today.weekday())
        if word == "week":
            return Period(at(monday), until, word, word)
        last = monday - timedelta(days=7)
        return Period(
            at(last),
            at(monday),
            f"{last.isoformat()}~{(monday - timedelta(days=1)).isoformat()}",
            word,
        )
    match = _MONTH.match(word)
    if match:
        year, month = int(match.group(1)), int(match.group(2))
        if not 1 <= month <= 12 or not 2000 <= year <= 2100:
            raise UserError("bad_period", given=text[:20])
        first = date(year, month, 1)
        following = date(year + (month == 12), month % 12 + 1, 1)
        return Period(at(first), at(following), f"{year:04d}-{month:02d}", "calendar_month")
    raise UserError("bad_period", given=text[:20])


def median(values: list[float]) -> float | None:
    """The middle value (mean of the middle two for an even count); None for no values."""
    if not values:
        return None
    ordered = sorted(values)
    middle = len(ordered) // 2
    if len(ordered) % 2:
        return ordered[middle]
    return (ordered[middle - 1] + ordered[middle]) / 2


def ratio(part: int, whole: int) -> float | None:
    """The share `part / whole`, or None when there is nothing to divide (shown as —, not 0%)."""
    return part / whole if whole else None


@dataclass(slots=True)
class Figures:
    """The figures reported upward for one grid or the total:
    received, closed, on time, satisfied.
    """

    received: int = 0
    by_category: dict[str, int] = field(default_factory=dict)
    by_urgency: dict[str, int] = field(default_factory=dict)
    closed: int = 0  # 已结案: closed for good (confirmed, timed out, rejected …)
    # 已办结待确认: a handler marked it done, the resident has not said
    awaiting_confirmation: int = 0
    by_closure: dict[str, int] = field(default_factory=dict)
    claim_counted: int = 0  # claimed, or whose claim limit passed
    claim_on_time: int = 0
    resolve_counted: int = 0
    resolve_on_time: int = 0
    median_claim_seconds: float | None = None
    median_resolve_seconds: float | None = None
    reopened: int = 0
    satisfaction_sum: float = 0.0
    satisfaction_count: int = 0
    verifications_asked: int = 0
    verifications_answered: int = 0
    overdue_now: int = 0
    patrol_logs: int = 0

    @property
    def closure_rate(self) -> float | None:
        """Closed for good (已结案) out of received."""
        return ratio(self.closed, self.received)

    @property
    def claim_on_time_rate(self) -> float | None:
        """Claimed within the time limit, out of those whose claim deadline has passed or were
        claimed.
        """
        return ratio(self.claim_on_time, self.claim_counted)

    @property
    def resolve_on_time_rate(self) -> float | None:
        """Resolved within the time limit, out of those whose resolve deadline has passed or were
        resolved.
        """
        return ratio(self.resolve_on_time, self.resolve_counted)

    @property
    def satisfaction(self) -> float | None:
        """The residents' mean rating of fixes, or None when nobody rated."""
        return self.satisfaction_sum / self.satisfaction_count if self.satisfaction_count else None

    @property
    def answer_rate(self) -> float | None:
        """Verification questions answered by residents, out of those asked."""
        return ratio(self.verifications_answered, self.verifications_asked)

    def add(self, other: Figures) -> None:
        """Sum counts into a total (medians are computed over all durations separately)."""
        for name in (
            "received",
            "closed",
            "awaiting_confirmation",
            "claim_counted",
            "claim_on_time",
            "resolve_counted",
            "resolve_on_time",
            "reopened",
            "satisfaction_sum",
            "satisfaction_count",
            "verifications_asked",
            "verifications_answered",
            "overdue_now",
            "patrol_logs",
        ):
            setattr(self, name, getattr(self, name) + getattr(other, name))
        for mine, theirs in (
            (self.by_category, other.by_category),
            (self.by_urgency, other.by_urgency),
            (self.by_closure, other.by_closure),
        ):
            for key, count in theirs.items():
                mine[key] = mine.get(key, 0) + count


class Tally:
    """Per-grid figures and claim/resolve durations, counted one ticket at a time.

    Storage streams the period's cohort once and hands each ticket here; the rules of what
    counts (on time, awaiting confirmation, reopened) live in the domain, not in SQL.
    """

    def __init__(self) -> None:
        self.figures: defaultdict[int, Figures] = defaultdict(Figures)
        self.durations: defaultdict[int, tuple[list[float], list[float]]] = defaultdict(
            lambda: ([], [])
        )

    def ticket(
        self,
        grid_id: int,
        category: str,
        urgency: str,
        closure: str | None,
        status: str,
        claim_late: int,
        resolve_late: int,
        reopened: int,
        satisfaction: float | None,
        to_claim: float | None,
        to_resolve: float | None,
    ) -> None:
        """Count one ticket of the cohort (late flags 0/1; durations in seconds, None when not
        reached). Positional: called once per ticket of a month, keywords would cost.
        """
        f = self.figures[grid_id]
        f.received += 1
        f.by_category[category] = f.by_category.get(category, 0) + 1
        f.by_urgency[urgency] = f.by_urgency.get(urgency, 0) + 1
        if status == "closed":
            f.closed += 1
            if closure:
                f.by_closure[closure] = f.by_closure.get(closure, 0) + 1
        elif status == "resolved":
            f.awaiting_confirmation += 1
        claims, resolves = self.durations[grid_id]
        if to_claim is not None:
            claims.append(float(to_claim))
            f.claim_counted += 1
            f.claim_on_time += not claim_late
        elif claim_late:
            f.claim_counted += 1
        if to_resolve is not None:
            resolves.append(float(to_resolve))
            f.resolve_counted += 1
            f.resolve_on_time += not resolve_late
        elif resolve_late:
            f.resolve_counted += 1
        f.reopened += reopened > 0
        if satisfaction is not None:
            f.satisfaction_sum += satisfaction
            f.satisfaction_count += 1

    def verifications(self, grid_id: int, asked: int, answered: int) -> None:
        """Count one ticket's verification questions: how many asked, how many answered."""
        f = self.figures[grid_id]
        f.verifications_asked += asked
        f.verifications_answered += answered


@dataclass(frozen=True, slots=True)
class GridFigures:
    """One grid's figures in a report."""

    grid: Grid
    figures: Figures


@dataclass(frozen=True, slots=True)
class StatsReport:
    """A period's figures per grid and in total, with tickets per day by category for the chart."""

    period: Period
    grids: tuple[GridFigures, ...]
    total: Figures
    daily_by_category: dict[str, dict[str, int]] = field(default_factory=dict)  # day → code → n
