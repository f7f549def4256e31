"""Pure parts of the console: worst-first ordering, chart bars, the [web] table, its words."""

from __future__ import annotations

import re
import tomllib
from pathlib import Path

import pytest

from bot.config import ConfigError, config_from_mapping
from bot.domain.models import Grid
from bot.domain.stats import Figures
from bot.services.console import GridRow, worst_first
from bot.web.pages import bars, shown_text

ROOT = Path(__file__).resolve().parents[2]


def row(code: str, open_: int, overdue: int, resolved: int = 0, counted: int = 0) -> GridRow:
    figures = Figures(resolve_on_time=resolved, resolve_counted=counted)
    return GridRow(Grid(len(code), code, code, None, None, True), open_, overdue, figures)


def test_worst_first() -> None:
    rows = [row("A", 5, 0, 9, 10), row("B", 1, 2, 1, 10), row("C", 9, 0)]
    assert [r.grid.code for r in worst_first(rows, "overdue")] == ["B", "C", "A"]
    assert [r.grid.code for r in worst_first(rows, "open")] == ["C", "A", "B"]
    # Lowest rate first; a grid with nothing to count yet comes last.
    assert [r.grid.code for r in worst_first(rows, "resolve_on_time")] == ["B", "A", "C"]
    assert [r.grid.code for r in worst_first(rows, "code")] == ["A", "B", "C"]


def test_bars_scale_to_the_tallest_and_say_when_nothing_counts() -> None:
    drawn = bars([("11-01", 2.0), ("11-02", 4.0), ("11-03", 0.0)])
    assert [b.height for b in drawn] == [50.0, 100.0, 0.0]
    rates = bars([("G01", 0.5), ("G02", None)], as_percent=True)
    assert [(b.height, b.text) for b in rates] == [(50.0, "50%"), (0.0, "—")]
    assert bars([]) == []


def test_residents_phone_numbers_are_masked() -> None:
    assert shown_text("电话13812345678") == "电话138****5678"


def test_web_config_is_checked() -> None:
    assert config_from_mapping({}).web.enabled is False
    with pytest.raises(ConfigError, match=r"\[web\] public_url"):
        config_from_mapping({"web": {"public_url": "grid.example.org"}})
    with pytest.raises(ConfigError, match=r"\[web\] port"):
        config_from_mapping({"web": {"port": 70000}})
    with pytest.raises(ConfigError):
        config_from_mapping({"web": {"colour": "red"}})


def test_every_word_exists_in_both_languages() -> None:
    words = tomllib.loads((ROOT / "templates/web/strings.toml").read_text(encoding="utf-8"))
    assert set(words["zh-CN"]) == set(words["en"])
    used = set()
    for page in (ROOT / "templates/web").glob("*.html"):
        used |= set(re.findall(r"t\('([a-z0-9_]+)'[,)]", page.read_text(encoding="utf-8")))
    assert used - set(words["zh-CN"]) == set()
