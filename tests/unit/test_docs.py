"""Undocumented is a bug: every command and config key appears in the README."""

from __future__ import annotations

import re
import tomllib
from dataclasses import fields
from pathlib import Path

from bot.config import _SECTIONS
from handlers import COMMANDS

ROOT = Path(__file__).resolve().parents[2]
README = (ROOT / "README.md").read_text(encoding="utf-8")
EXAMPLE = (ROOT / "config.example.toml").read_text(encoding="utf-8")


def test_every_command_is_in_the_readme() -> None:
    missing = [c.name for c in COMMANDS if not re.search(rf"`/{c.name}\b", README)]
    assert missing == []


def test_every_config_key_is_in_the_readme_and_the_example() -> None:
    example = tomllib.loads(EXAMPLE)
    for section, cls in _SECTIONS.items():
        for f in fields(cls):
            if section == "sla" and f.name == "category":
                assert "[sla.category.<code>]" in README
                continue
            if section == "sla":
                assert f"[sla.{f.name}] claim" in README, f.name
                assert f.name in example["sla"], f.name
                continue
            assert f"`[{section}] {f.name}`" in README, f"[{section}] {f.name}"
            if f.name != "vocabulary":
                assert f.name in example.get(section, {}), f"[{section}] {f.name} not in example"
            assert f.name in EXAMPLE


PYPROJECT = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))


def test_license_matches_pyproject_and_the_changelog_has_this_version() -> None:
    assert PYPROJECT["project"]["license"] == {"text": "MIT"}
    assert "LICENSE" in PYPROJECT["project"]["license-files"]
    license_text = (ROOT / "LICENSE").read_text(encoding="utf-8")
    assert license_text.startswith("MIT License") and "Permission is hereby granted" in license_text
    changelog = (ROOT / "CHANGELOG.md").read_text(encoding="utf-8")
    assert "## [Unreleased]" in changelog
    assert f"## [{PYPROJECT['project']['version']}]" in changelog


def test_the_wheel_carries_the_example_config_that_init_writes() -> None:
    """`gridbot init` and the missing-config message rely on the example inside the package."""
    from bot.config import example_config_text

    included = PYPROJECT["tool"]["hatch"]["build"]["targets"]["wheel"]["force-include"]
    assert included["config.example.toml"] == "bot/config.example.toml"
    assert included["templates"] == "bot/templates"
    assert example_config_text() == EXAMPLE


def test_ci_fails_on_lint_and_type_findings_before_the_tests() -> None:
    script = (ROOT / ".ci" / "run").read_text(encoding="utf-8")
    commands = [
        line.strip()
        for line in script.splitlines()
        if line.strip() and not line.lstrip().startswith("#")
    ]
    assert "set -euo pipefail" in commands  # any failing step fails CI
    assert ".venv/bin/python -m pip install --quiet -e '.[test,lint]'" in commands
    lint, layout, types, tests = (
        commands.index(".venv/bin/ruff check ."),
        commands.index(".venv/bin/ruff format --check ."),
        commands.index(".venv/bin/mypy"),
        commands.index(".venv/bin/python -m pytest -q"),
    )
    assert lint < tests and layout < tests and types < tests
    pins = PYPROJECT["project"]["optional-dependencies"]["lint"]
    assert any(p.startswith("ruff==") for p in pins) and any(p.startswith("mypy==") for p in pins)
    assert PYPROJECT["tool"]["mypy"]["files"] == ["bot", "handlers"]
    assert "`.venv/bin/ruff check .`" in README and "`.venv/bin/mypy`" in README
    assert "`.venv/bin/ruff format --check .`" in README
