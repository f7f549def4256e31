"""Where a resident says a problem is: building, unit, floor and room.

Canonical location forms (``Location``)
    building  Arabic digits, "3" for 3栋/三栋/3幢/3号楼/3#楼/"building 3";
              a letter in upper case, "A" for A栋/A座; a zone or phase prefix
              kept, "B区7" for B区7幢, "东区5" for 东区5栋, "2期3" for 二期3栋.
    unit      Arabic digits, "2" for 2单元/二单元.
    floor     Arabic digits, "15" for 15楼/十五楼/15层/"15th floor"; "-1" for 负一楼.
              Only when written: a room number does not imply its floor.
    room      Digits as written, "502" for 502/502室/3-2-502.
    Chinese numerals 一..九十九 and 两 become Arabic. 楼下/楼上/楼道 are not floors,
    "这两栋楼" is not building 2, and phone numbers, times and dates ("9点", "2号")
    are never locations.

``read_location`` reads normalised text (``bot.domain.intake_normalise``).
"""

from __future__ import annotations

import re
from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class Location:
    """Where a problem is, in the canonical forms of the module docstring."""

    building: str | None = None
    unit: str | None = None
    floor: str | None = None
    room: str | None = None

    def is_empty(self) -> bool:
        """Whether no part of the place is known."""
        return not (self.building or self.unit or self.floor or self.room)

    def label(self) -> str:
        """Short human text: "3栋2单元502", "40栋15楼", "" when nothing is known."""
        parts = []
        if self.building:
            parts.append(f"{self.building}栋")
        if self.unit:
            parts.append(f"{self.unit}单元")
        if self.room:
            parts.append(self.room)
        elif self.floor:
            parts.append(f"{self.floor}楼")
        return "".join(parts)


_CN_DIGITS = {
    "零": 0,
    "〇": 0,
    "一": 1,
    "二": 2,
    "两": 2,
    "三": 3,
    "四": 4,
    "五": 5,
    "六": 6,
    "七": 7,
    "八": 8,
    "九": 9,
}
_CN = "零〇一二两三四五六七八九十"
_QUANTITY_BEFORE = (
    "这那哪几每各整好"  # "这两栋楼", "每栋楼", "好几栋" count buildings, not name one
)
_TIME_AFTER = r"年月日号点元块米岁天个次分秒小时%"

_BUILDING_RE = re.compile(
    rf"""
    (?<![\d{_CN}{_QUANTITY_BEFORE}a-z])
    (?:(?P<zone>[a-z]|\d{{1,2}}|[{_CN}]{{1,3}}|[东西南北中])(?P<zone_kind>区|期))?
    (?P<building>\d{{1,3}}|[a-z]\d{{0,2}}|[{_CN}]{{1,3}})\s*
    (?P<marker>号楼|栋|幢|座|\#\s*楼?|号(?=\s*\d{{1,2}}\s*单元))
    (?:\s*的?\s*(?:(?P<unit>\d{{1,2}}|[{_CN}]{{1,3}})\s*单元|(?P<dash_unit>\d{{1,2}})\s*-\s*(?=\d{{3,4}}(?!\d))))?
    (?:\s*的?\s*(?P<floor>\d{{1,3}}|[{_CN}]{{1,3}})\s*(?:楼|层)(?![道下上梯顶房主]))?
    (?:\s*-?\s*(?P<room>[1-9]\d{{2,3}})(?!\d|\s*[{_TIME_AFTER}])(?:室|号房|房)?)?
    """,
    re.VERBOSE,
)
_UNIT_RE = re.compile(rf"(?<![\d{_CN}{_QUANTITY_BEFORE}])(?P<unit>\d{{1,2}}|[{_CN}]{{1,3}})\s*单元")
_FLOOR_RE = re.compile(
    rf"(?<![\d{_CN}{_QUANTITY_BEFORE}号#栋幢座a-z顶])(?P<below>负|地下)?"
    rf"(?P<floor>\d{{1,3}}|[{_CN}]{{1,3}})\s*(?:楼|层)(?![道下上梯顶房主])"
)
_ROOM_RE = re.compile(
    r"(?<![\d.:/-])(?P<room>[1-9]\d{2,3})(?:\s*(?:室|号房|房间|房)"
    r"|(?=\s*(?:的住户|的业主|住户|业主|家|门口)))"
)
_DASH3_RE = re.compile(
    r"(?<![\d-])(?P<b>\d{1,3})\s*-\s*(?P<u>\d{1,2})\s*-\s*(?P<r>\d{3,4})(?![\d-])"
)
_DASH2_RE = re.compile(
    rf"(?<![\d-])(?P<b>\d{{1,3}})-(?P<r>[1-9]\d{{2,3}})(?![\d-]|\s*[{_TIME_AFTER}])"
)
_EN_BUILDING_RE = re.compile(
    r"\b(?:building|bldg|block|blk|tower)\s*(?:no\.?\s*)?#?\s*(?P<b>\d{1,3})\b"
)
_EN_UNIT_RE = re.compile(r"\bunit\s*#?\s*(?P<u>\d{1,4})\b")
_EN_ROOM_RE = re.compile(r"\b(?:room|rm|flat|apt|apartment)\s*#?\s*(?P<r>\d{2,4})\b")
_EN_FLOOR_RE = re.compile(r"\b(?P<f>\d{1,3})(?:st|nd|rd|th)\s*floor\b|\bfloor\s*(?P<g>\d{1,3})\b")


_DIGIT_RE = re.compile(r"\d")
_LATIN_RE = re.compile(r"[a-z]")
_BUILDING_MARKER_RE = re.compile(r"号|栋|幢|座|#")


def _arabic(numeral: str | None) -> str | None:
    """Convert a numeral to Arabic: 十五 → 15, 五零二 → 502; None when we cannot read it."""
    if not numeral:
        return None
    if numeral.isascii():
        return str(int(numeral)) if numeral.isdigit() else None
    if "十" in numeral:
        tens, _, ones = numeral.partition("十")
        if "十" in ones or len(tens) > 1 or len(ones) > 1:
            return None
        value = (_CN_DIGITS.get(tens, -100) if tens else 1) * 10 + (
            _CN_DIGITS.get(ones, -100) if ones else 0
        )
        return str(value) if value > 0 else None
    digits = [_CN_DIGITS.get(char) for char in numeral]
    if any(digit is None for digit in digits):
        return None
    return "".join(str(digit) for digit in digits).lstrip("0") or None


def read_location(text: str) -> Location:
    """Read a location from normalised text (see the module docstring for the forms)."""
    building = unit = floor = room = None
    # Each regex runs only where what it needs is in the text: a search for a marker
    # costs a fraction of a regex that tries every position.
    digits = _DIGIT_RE.search(text) is not None
    latin = _LATIN_RE.search(text) is not None
    dash = _DASH3_RE.search(text) if digits and "-" in text else None
    if dash:
        building, unit, room = str(int(dash["b"])), str(int(dash["u"])), dash["r"]
    elif _BUILDING_MARKER_RE.search(text):
        for match in _BUILDING_RE.finditer(text):
            numeral = match["building"]
            after = text[match.end("marker") : match.end("marker") + 1]
            if numeral == "两" or (numeral == "一" and after == "楼"):
                continue  # "两栋楼" and "一栋楼" count buildings
            number = (
                numeral.upper() if numeral[0].isalpha() and numeral.isascii() else _arabic(numeral)
            )
            if number is None:
                continue
            if match["zone"]:
                zone = match["zone"]
                zone = (
                    zone.upper() if zone.isascii() and zone.isalpha() else (_arabic(zone) or zone)
                )
                number = f"{zone}{match['zone_kind']}{number}"
            building = number
            unit = _arabic(match["unit"] or match["dash_unit"])
            floor = _arabic(match["floor"])
            room = match["room"]
            break
    if building is None and latin:
        english = _EN_BUILDING_RE.search(text)
        if english:
            building = str(int(english["b"]))
    if unit is None:
        found = _UNIT_RE.search(text) if "单元" in text else None
        if found:
            unit = _arabic(found["unit"])
        elif latin:
            english_unit = _EN_UNIT_RE.search(text)
            if english_unit and len(english_unit["u"]) <= 2:
                unit = str(int(english_unit["u"]))
            elif english_unit and room is None:
                room = english_unit["u"]
    if floor is None:
        found_floor = _FLOOR_RE.search(text) if "楼" in text or "层" in text else None
        if found_floor:
            floor = _arabic(found_floor["floor"])
            if floor and found_floor["below"]:
                floor = f"-{floor}"
        elif latin:
            english_floor = _EN_FLOOR_RE.search(text)
            if english_floor:
                floor = str(int(english_floor["f"] or english_floor["g"]))
    if room is None and digits:
        pair = _DASH2_RE.search(text) if "-" in text else None
        if pair and building in (None, str(int(pair["b"]))):
            building, room = str(int(pair["b"])), pair["r"]
        else:
            found_room = _ROOM_RE.search(text) or (_EN_ROOM_RE.search(text) if latin else None)
            if found_room:
                room = found_room.group(found_room.lastindex or 0)
    return Location(building=building, unit=unit, floor=floor, room=room)


# Cheap test before the regexes run: most chat names no place at all.
_LOCATION_HINT_RE = re.compile(
    r"[\d栋幢座单元层室#]|楼(?![下上道梯顶])|building|block|floor|room|flat|apt|unit"
)


def mentions_a_place(text: str) -> bool:
    """Whether normalised ``text`` may name a location (a fast, loose test)."""
    return _LOCATION_HINT_RE.search(text) is not None
