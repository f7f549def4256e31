"""Configuration: the example loads, and every mistake gets one clear message (exit 2)."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from bot.config import ConfigError, Secret, load_config, require_token

ROOT = Path(__file__).resolve().parents[2]
GOOD_TOKEN = "123456789:AAFakeTokenForTestsOnly_abcdefghijk"


def write(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "config.toml"
    path.write_text(text, encoding="utf-8")
    return path


def test_example_config_loads_with_defaults() -> None:
    config = load_config(ROOT / "config.example.toml", env={})
    assert config.bot.timezone == "Asia/Shanghai"
    assert config.bot.locale == "zh-CN"
    assert config.database.path == "gridbot.db"
    assert config.telegram.webhook_url is None
    assert config.escalation.duty_chat("community") is None


def test_values_are_typed(tmp_path: Path) -> None:
    path = write(tmp_path, """
[roles]
staff = [111, 222]
[escalation]
street = -100123
[telegram]
group_max_rate = 10
""")
    config = load_config(path, env={})
    assert config.staff_ids == {111, 222}
    assert config.escalation.duty_chat("street") == -100123
    assert config.telegram.group_max_rate == 10.0


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("[bot]\ntimezone = \"Mars/Olympus\"\n",
         "[bot] timezone: unknown time zone 'Mars/Olympus'"),
        ("[bot]\nlocal = \"en\"\n", "[bot] local: unknown key"),
        ("[bott]\n", "unknown table [bott]"),
        ("[bot]\nconcurrent_chats = 0\n", "[bot] concurrent_chats: must be at least 1"),
        ("[roles]\nstaff = \"123\"\n", "[roles] staff: expected a list of integers"),
        ("[roles]\nstaff = [\"x\"]\n", "[roles] staff[0]: expected an integer, got a string ('x')"),
        ("[database]\npath = 3\n", "[database] path: expected a string, got an integer (3)"),
        ("[bot]\nlocale = \"fr\"\n", "[bot] locale: expected one of zh-CN, en"),
        ("[telegram]\nbase_url = \"ftp://x\"\n", "[telegram] base_url: expected an http(s) URL"),
        ("[telegram]\nwebhook_url = \"https://x/hook\"\n", "[telegram] webhook_secret: required"),
        ("[bot\n", "invalid TOML"),
        ("bot = 3\n", "bot must be a table"),
    ],
)
def test_mistakes_name_file_key_and_expectation(tmp_path: Path, text: str, expected: str) -> None:
    path = write(tmp_path, text)
    with pytest.raises(ConfigError) as excinfo:
        load_config(path, env={})
    message = str(excinfo.value)
    assert str(path) in message
    assert expected in message


def test_missing_file(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="file not found"):
        load_config(tmp_path / "nope.toml", env={})


def test_env_token_wins_and_never_shows(tmp_path: Path) -> None:
    path = write(tmp_path, '[telegram]\ntoken = "1:from-the-file-xxxxxxxx"\n')
    config = load_config(path, env={"GRIDBOT_TOKEN": GOOD_TOKEN})
    assert require_token(config) == GOOD_TOKEN
    assert GOOD_TOKEN not in repr(config)
    assert GOOD_TOKEN not in str(config.telegram)
    assert repr(Secret("abc")) == "Secret('***')"


def test_bad_token_error_does_not_echo_it(tmp_path: Path) -> None:
    path = write(tmp_path, '[telegram]\ntoken = "not-a-token-secret-value"\n')
    config = load_config(path, env={})
    with pytest.raises(ConfigError) as excinfo:
        require_token(config)
    assert "not-a-token-secret-value" not in str(excinfo.value)
    assert "[telegram] token" in str(excinfo.value)


def run_cli(*args: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "bot", *args], capture_output=True, text=True, cwd=ROOT,
        env={"PATH": "", **(env or {})}, timeout=60,
    )


def test_cli_bad_config_exits_2_with_the_message_and_no_traceback(tmp_path: Path) -> None:
    path = write(tmp_path, "[roles]\nstaff = [\"x\"]\n")
    result = run_cli("check-config", "-c", str(path))
    assert result.returncode == 2
    assert "[roles] staff[0]: expected an integer" in result.stderr
    assert "Traceback" not in result.stderr
    result = run_cli("run", "-c", str(path))
    assert result.returncode == 2
    assert "Traceback" not in result.stderr


def test_cli_run_without_token_exits_2(tmp_path: Path) -> None:
    path = write(tmp_path, "[bot]\nlocale = \"en\"\n")
    result = run_cli("run", "-c", str(path))
    assert result.returncode == 2
    assert "[telegram] token: missing" in result.stderr


def test_cli_check_config_ok_keeps_token_secret(tmp_path: Path) -> None:
    path = write(tmp_path, "")
    result = run_cli("check-config", "-c", str(path), env={"GRIDBOT_TOKEN": GOOD_TOKEN})
    assert result.returncode == 0, result.stderr
    assert "OK" in result.stdout
    assert GOOD_TOKEN not in result.stdout + result.stderr
