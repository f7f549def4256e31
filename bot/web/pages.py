"""The console's HTML: jinja2 pages under templates/web/, words from templates/web/strings.toml.

Same conventions as the bot's messages (bot.render): autoescaped, undefined variables are
errors, `%%` line statements, and an operator's `[bot] templates_dir` overrides any page.
The chat templates' macros (status, urgency, level, closure names) are shared, so the
console and the chat call things by the same words.
"""

from __future__ import annotations

import tomllib
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

from bot.domain.privacy import mask_personal
from bot.render import (
    mention,
    percent,
    readable_seconds,
    shipped_templates_dir,
    shorten,
    template_environment,
)


def shown_text(text: str | None) -> str:
    """Residents' words as the console shows them: the one place privacy masking applies.

    A console is an office screen that others can see, so it shows what a group may see:
    phone, ID and bank-card numbers masked (bot.domain.privacy, as for a grid group).
    """
    return mask_personal(text or "")


@dataclass(frozen=True, slots=True)
class Bar:
    """One bar of an inline SVG chart, in the chart's own units (0–100 high)."""

    label: str
    value: float
    x: float
    width: float
    height: float
    text: str


def bars(
    values: list[tuple[str, float | None]], *, as_percent: bool = False, width: float = 600.0
) -> list[Bar]:
    """Bars for an inline SVG bar chart drawn on the server (no script, no internet).

    A value of None (a rate with nothing to count yet) is drawn as no bar, labelled "—".
    """
    if not values:
        return []
    known = [v for _label, v in values if v is not None]
    top = 1.0 if as_percent else max(1.0, *known) if known else 1.0
    slot = width / len(values)
    return [
        Bar(
            label,
            value or 0.0,
            i * slot + slot * 0.15,
            slot * 0.7,
            100.0 * (value or 0.0) / top,
            percent(value) if as_percent else ("—" if value is None else f"{value:g}"),
        )
        for i, (label, value) in enumerate(values)
    ]


class Pages:
    """Renders the console's pages (templates/web/) with the words of templates/web/strings.toml."""

    def __init__(
        self, override_dir: str | Path | None, tz: ZoneInfo, helpers: dict[str, Callable[..., Any]]
    ) -> None:
        self._env = template_environment(override_dir)
        roots = [Path(override_dir)] if override_dir else []
        roots.append(shipped_templates_dir())
        self._tz = tz
        # The chat templates' filters, for the macros the console shares with them.
        self._env.filters.update(
            shorten=shorten, maskphones=mask_personal, mention=mention, duration=readable_seconds
        )
        self._env.filters["shown"] = shown_text
        self._env.filters["pct"] = percent
        self._env.filters["localtime"] = self.localtime
        self._env.globals.update(helpers)
        self._env.globals["bars"] = bars
        self._strings = self._load_strings(roots)

    @staticmethod
    def _load_strings(roots: list[Path]) -> dict[str, dict[str, str]]:
        strings: dict[str, dict[str, str]] = {}
        for root in reversed(roots):  # the operator's words win over the shipped ones
            path = root / "web" / "strings.toml"
            if path.is_file():
                for locale, table in tomllib.loads(path.read_text(encoding="utf-8")).items():
                    strings.setdefault(locale, {}).update(table)
        return strings

    def localtime(self, moment: datetime | int | None, fmt: str = "%Y-%m-%d %H:%M") -> str:
        """A stored UTC moment (or epoch seconds) in [bot] timezone, for pages."""
        if moment is None:
            return ""
        if isinstance(moment, int):
            moment = datetime.fromtimestamp(moment, ZoneInfo("UTC"))
        return moment.astimezone(self._tz).strftime(fmt)

    def words(self, locale: str) -> Callable[..., str]:
        """The page-text lookup `t(key, **values)` for `locale`, falling back to zh-CN."""
        table = self._strings.get(locale) or self._strings["zh-CN"]
        fallback = self._strings["zh-CN"]

        def t(key: str, default: str | None = None, **values: Any) -> str:
            text = table.get(key) or fallback.get(key) or default
            if text is None:
                raise KeyError(f"templates/web/strings.toml has no {key!r}")
            return text.format(**values) if values else text

        return t

    def html(self, name: str, locale: str, **context: Any) -> str:
        """The page `name` rendered in `locale`."""
        template = self._env.get_template(f"web/{name}.html")
        return template.render(locale=locale, t=self.words(locale), **context)
