"""Every message is a template, complete in both locales; every command has help text."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from bot.domain import schedule
from bot.render import Renderer, template_names
from bot.services.grids import BindResult
from handlers import COMMANDS

ROOT = Path(__file__).resolve().parents[2]
SOURCES = [p for d in ("bot", "handlers") for p in (ROOT / d).rglob("*.py")]


def source_text() -> str:
    return "\n".join(p.read_text(encoding="utf-8") for p in SOURCES)


def test_locales_have_the_same_templates() -> None:
    zh, en = template_names("zh-CN"), template_names("en")
    assert zh, "no templates found"
    assert zh - en == set(), f"only in zh-CN: {sorted(zh - en)}"
    assert en - zh == set(), f"only in en: {sorted(en - zh)}"


@pytest.mark.parametrize("locale", ["zh-CN", "en"])
def test_every_command_has_a_menu_line_and_usage(locale: str) -> None:
    renderer = Renderer(locale)
    for command in COMMANDS:
        lines = renderer.render(f"commands/{command.name}", locale).splitlines()
        assert len(lines) == 2, f"commands/{command.name} ({locale}) needs description + usage"
        description, usage = lines
        assert 3 <= len(description) <= 256, command.name
        assert usage.startswith(f"/{command.name}"), command.name


def test_command_names_are_unique_and_valid() -> None:
    names = [c.name for c in COMMANDS]
    assert len(names) == len(set(names))
    assert all(re.fullmatch(r"[a-z0-9_]{1,32}", n) for n in names)


def test_every_user_error_code_has_a_template() -> None:
    codes = set(re.findall(r'UserError\(\s*"([a-z_]+)"', source_text()))
    assert codes, "expected UserError codes in the source"
    # ScheduleError (a UserError) codes are raised by the parser; each needs its template too.
    codes |= set(schedule.ERROR_MESSAGES)
    existing = template_names("zh-CN")
    missing = sorted(c for c in codes if f"errors/{c}" not in existing)
    assert missing == []


def test_every_template_named_in_code_exists() -> None:
    text = source_text()
    literal = set(
        re.findall(
            r'(?:reply|send|render|refuse|toast|edit_text|PageView)\(\s*(?:[\w.]+,\s*)?"([a-z_/]+)"',
            text,
        )
    )
    literal |= {f"bind_{r.value}" for r in BindResult if r is not BindResult.NEEDS_CONFIRMATION}
    assert "help" in literal and "whoami" in literal
    existing = template_names("zh-CN")
    assert sorted(n for n in literal if n not in existing) == []


def test_user_text_is_escaped() -> None:
    renderer = Renderer("zh-CN")
    text = renderer.render("errors/unknown_person", "zh-CN", name="<b>x</b>&amp;")
    assert "<b>x</b>" not in text and "&lt;b&gt;x&lt;/b&gt;&amp;amp;" in text


def test_override_dir_wins(tmp_path: Path) -> None:
    (tmp_path / "zh-CN" / "errors").mkdir(parents=True)
    (tmp_path / "zh-CN" / "errors" / "internal.html").write_text("自定义道歉", encoding="utf-8")
    renderer = Renderer("zh-CN", tmp_path)
    assert renderer.render("errors/internal", "zh-CN") == "自定义道歉"
    assert renderer.render("errors/internal", "en").startswith("Sorry")


def test_locale_picking() -> None:
    renderer = Renderer("zh-CN")
    assert renderer.pick_locale("en-US") == "en"
    assert renderer.pick_locale("zh-hans") == "zh-CN"
    assert renderer.pick_locale("fr", None) == "zh-CN"


@pytest.mark.parametrize("locale", ["zh-CN", "en"])
def test_every_template_compiles(locale: str) -> None:
    renderer = Renderer(locale)
    for name in template_names(locale):
        assert renderer.exists(name, locale), name
