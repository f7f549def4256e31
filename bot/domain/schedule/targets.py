"""Who a notice goes to: `all`, grid codes and tags, as typed after the schedule."""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from bot.domain.schedule.errors import ScheduleError
from bot.domain.schedule.folding import fold

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
        """Whether a grid with this code and these tags is a target."""
        if self.all:
            return True
        if grid_code.casefold() in {code.casefold() for code in self.grid_codes}:
            return True
        wanted = {tag.casefold() for tag in self.tags}
        return any(tag.casefold() in wanted for tag in grid_tags)

    def to_storage(self) -> dict[str, Any]:
        """A JSON-ready record (from_storage reads it back)."""
        return {"all": self.all, "grid_codes": list(self.grid_codes), "tags": list(self.tags)}

    @classmethod
    def from_storage(cls, data: Mapping[str, Any]) -> Targets:
        """Rebuild targets from `to_storage`'s record."""
        return cls(bool(data["all"]), tuple(data["grid_codes"]), tuple(data["tags"]))


def parse_targets(text: str) -> Targets:
    """Parse `all` / `全部` / `所有`, or grid codes and tags.

    Tags are `tag:NAME`, `标签:NAME` or `#NAME`; everything is separated by spaces,
    commas (`,` `，`), `、` or `;`. "all" with anything else is refused as a likely slip.
    """
    words = [word for word in _TARGET_SPLIT_RE.split(fold(text)) if word]
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
