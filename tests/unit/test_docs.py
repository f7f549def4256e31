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
