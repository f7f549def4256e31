"""Durations as people write them (`10m`, `1h30m`, `2小时`, `半小时`) and as they read them."""

from __future__ import annotations

import re
from datetime import timedelta
from decimal import Decimal

from bot.domain.schedule.errors import ScheduleError
from bot.domain.schedule.folding import fold

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
    folded = fold(text).strip()
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
    if locale.lower().startswith("zh"):
        units = ("天", "小时", "分钟", "秒")
        return "".join(f"{n}{u}" for n, u in zip(amounts, units, strict=True) if n) or "0秒"
    units = ("d", "h", "min", "s")
    return " ".join(f"{n} {u}" for n, u in zip(amounts, units, strict=True) if n) or "0 s"
