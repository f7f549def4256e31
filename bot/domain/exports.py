"""Ticket exports: a CSV that opens in Excel with Chinese intact, and Open311 GeoReport v2.

Both carry no personal data: no reporter, no handler, no free text written by residents.
Rows come in as mappings (one per ticket, from storage) and go out one at a time, so an
export of any size runs in constant memory.
"""

from __future__ import annotations

import csv
import json
from collections.abc import Callable
from datetime import datetime
from typing import Any, Protocol, TextIO
from zoneinfo import ZoneInfo

from bot.domain.intake import Location

UTF8_BOM = "\ufeff"


class Row(Protocol):
    """A ticket row read by column name: a dict, or storage's sqlite3.Row (not a Mapping)."""

    def __getitem__(self, column: str, /) -> Any: ...


Labels = Callable[[str], str]


def _local(seconds: int | None, tz: ZoneInfo) -> str:
    """Seconds as local time, e.g. 2026-11-10 09:00:00 (isoformat: faster than strftime)."""
    if seconds is None:
        return ""
    return datetime.fromtimestamp(seconds, tz).replace(tzinfo=None).isoformat(" ")


def _iso(seconds: int | None, tz: ZoneInfo) -> str | None:
    if seconds is None:
        return None
    return datetime.fromtimestamp(seconds, tz).isoformat(timespec="seconds")


def location_of(row: Row) -> Location:
    """The ticket row's place as a Location (building, unit, floor, room)."""
    return Location(row["building"], row["unit"], row["floor"], row["room"])


# (header, meaning, value). The README's export section lists these.
CSV_COLUMNS: tuple[tuple[str, str, Callable[[Row, ZoneInfo, Labels], Any]], ...] = (
    ("工单号", "ticket number", lambda r, tz, lab: r["id"]),
    ("网格代码", "grid code", lambda r, tz, lab: r["grid_code"]),
    ("网格名称", "grid name", lambda r, tz, lab: r["grid_name"]),
    ("分类代码", "category code", lambda r, tz, lab: r["category"]),
    ("分类", "category (Chinese label)", lambda r, tz, lab: lab(r["category"])),
    ("紧急程度", "urgency: emergency, high, normal", lambda r, tz, lab: r["urgency"]),
    (
        "位置",
        "location as written (building/unit/floor/room)",
        lambda r, tz, lab: location_of(r).label(),
    ),
    ("来源", "source: group, command, private, patrol", lambda r, tz, lab: r["source"]),
    ("状态", "status: open, claimed, resolved, reopened, closed", lambda r, tz, lab: r["status"]),
    ("层级", "level: grid, community, street, district", lambda r, tz, lab: r["level"]),
    ("登记时间", "filed", lambda r, tz, lab: _local(r["created_at"], tz)),
    ("认领时限", "claim deadline (current)", lambda r, tz, lab: _local(r["claim_due_at"], tz)),
    ("认领时间", "claimed", lambda r, tz, lab: _local(r["claimed_at"], tz)),
    ("办结时限", "resolve deadline (current)", lambda r, tz, lab: _local(r["resolve_due_at"], tz)),
    ("办结时间", "resolved (last time)", lambda r, tz, lab: _local(r["resolved_at"], tz)),
    ("上报时间", "escalated (last time)", lambda r, tz, lab: _local(r["escalated_at"], tz)),
    ("关闭时间", "closed", lambda r, tz, lab: _local(r["closed_at"], tz)),
    ("关闭原因", "closure code", lambda r, tz, lab: r["closure"] or ""),
    ("认领超时", "claim limit missed (1/0)", lambda r, tz, lab: r["claim_late"]),
    ("办结超时", "resolve limit missed (1/0)", lambda r, tz, lab: r["resolve_late"]),
    ("重新打开次数", "times reopened", lambda r, tz, lab: r["reopened"]),
    ("附议人数", "+1 followers", lambda r, tz, lab: r["followers"]),
    (
        "满意度",
        "average satisfaction 1-5",
        lambda r, tz, lab: "" if r["satisfaction"] is None else round(r["satisfaction"], 2),
    ),
)


class CsvWriter:
    """UTF-8 with a BOM, so Excel reads the Chinese correctly; one row per ticket."""

    def __init__(self, out: TextIO, tz: ZoneInfo, labels: Labels) -> None:
        self._out = out
        self._writer = csv.writer(out, lineterminator="\r\n")
        self._tz = tz
        self._labels = labels
        self.count = 0

    def begin(self) -> None:
        """Write the byte-order mark (so Excel reads UTF-8) and the header row."""
        self._out.write(UTF8_BOM)
        self._writer.writerow([header for header, _meaning, _value in CSV_COLUMNS])

    def write(self, row: Row) -> None:
        """Write one ticket as a row of CSV_COLUMNS."""
        self._writer.writerow(
            [value(row, self._tz, self._labels) for _header, _meaning, value in CSV_COLUMNS]
        )
        self.count += 1

    def end(self) -> None:
        """Flush: the rows are complete."""
        self._out.flush()


def open311_request(row: Row, tz: ZoneInfo, labels: Labels) -> dict[str, Any]:
    """One GeoReport v2 service request. Resolved-but-unverified counts as open."""
    closed = row["status"] == "closed"
    where = location_of(row).label()
    return {
        "service_request_id": str(row["id"]),
        "status": "closed" if closed else "open",
        "status_notes": row["closure"] if closed else row["status"],
        "service_name": labels(row["category"]),
        "service_code": row["category"],
        "description": None,  # residents' own words may name people: never exported
        "agency_responsible": f"{row['grid_code']} {row['grid_name']}",
        "service_notice": None,
        "requested_datetime": _iso(row["created_at"], tz),
        "updated_datetime": _iso(row["updated_at"], tz),
        "expected_datetime": _iso(row["resolve_due_at"], tz),
        "address": f"{row['grid_name']} {where}".strip(),
        "address_id": None,
        "zipcode": None,
        "lat": None,
        "long": None,
        "media_url": None,
    }


class Open311Writer:
    """Writes a JSON array item by item."""

    def __init__(self, out: TextIO, tz: ZoneInfo, labels: Labels) -> None:
        self._out = out
        self._tz = tz
        self._labels = labels
        self.count = 0

    def begin(self) -> None:
        """Open the JSON array."""
        self._out.write("[")

    def write(self, row: Row) -> None:
        """Write one ticket as an Open311 service request, in UTF-8 (Chinese as is, not escaped)."""
        self._out.write(",\n" if self.count else "\n")
        self._out.write(
            json.dumps(open311_request(row, self._tz, self._labels), ensure_ascii=False)
        )
        self.count += 1

    def end(self) -> None:
        """Close the JSON array."""
        self._out.write("\n]\n")
