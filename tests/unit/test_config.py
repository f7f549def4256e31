"""Configuration: the example loads, and every mistake gets one clear message (exit 2)."""

from __future__ import annotations

import subprocess
import sys
from datetime import UTC, datetime, time, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

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
    assert config.bot.timezone == ZoneInfo("Asia/Shanghai")
    assert config.bot.locale == "zh-CN"
    assert config.database.path == "gridbot.db"
    assert config.telegram.webhook_url is None
    assert config.escalation.duty_chat("community") is None


def test_values_are_typed(tmp_path: Path) -> None:
    path = write(
        tmp_path,
        """
[roles]
staff = [111, 222]
[escalation]
street = -100123
[telegram]
group_max_rate = 10
""",
    )
    config = load_config(path, env={})
    assert config.staff_ids == {111, 222}
    assert config.escalation.duty_chat("street") == -100123
    assert config.telegram.group_max_rate == 10.0


def test_values_are_parsed_once_at_load(tmp_path: Path) -> None:
    path = write(
        tmp_path,
        """
[bot]
timezone = "Europe/Berlin"
[sla.high]
claim = "30m"
[sla.category.water]
claim = "15m"
resolve = "4h"
[verification]
timeout = "2d"
[digest]
time = "7点半"
[notices]
grace = "半小时"
progress_every = "10s"
[reports]
weekly = "每周五 17:00"
""",
    )
    config = load_config(path, env={})
    assert config.bot.timezone == ZoneInfo("Europe/Berlin")
    # A table that sets only `claim` keeps the default `resolve`.
    assert config.sla.high == (timedelta(minutes=30), timedelta(hours=24))
    assert config.sla.emergency == (timedelta(minutes=10), timedelta(hours=2))
    assert config.sla.category == {"water": (timedelta(minutes=15), timedelta(hours=4))}
    assert config.verification.timeout == timedelta(days=2)
    assert config.digest.time == time(7, 30)
    assert config.notices.grace == timedelta(minutes=30)
    assert config.notices.progress_every == timedelta(seconds=10)
    # The weekly report's schedule is read in [bot] timezone: Friday 17:00 in Berlin.
    [first] = config.reports.weekly.next_runs(datetime(2026, 12, 1, tzinfo=UTC), 1)
    assert first.astimezone(ZoneInfo("Europe/Berlin")) == datetime(
        2026, 12, 4, 17, 0, tzinfo=ZoneInfo("Europe/Berlin")
    )


def test_defaults_are_parsed_values_too() -> None:
    from bot.config import Config

    config = Config()
    assert config.bot.timezone == ZoneInfo("Asia/Shanghai")
    assert config.digest.time == time(8, 30)
    assert config.notices.grace == timedelta(hours=1)
    assert config.reports.weekly.is_repeating


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        (
            '[sla.high]\nclaim = "soon"\n',
            '[sla.high] claim: expected a duration such as "10m", "2h" or "3d", got \'soon\'',
        ),
        ('[sla.normal]\nclaim = "80h"\n', "[sla.normal]: resolve must not be shorter than claim"),
        ('[sla.category.water]\nclaim = "1h"\n', "[sla.category.water] resolve: required"),
        ("[sla]\nurgent = {}\n", "[sla] urgent: unknown key"),
        (
            "[verification]\ntimeout = 48\n",
            '[verification] timeout: expected a duration string such as "10m"',
        ),
        (
            '[digest]\ntime = "25:00"\n',
            "[digest] time: expected a local time such as \"08:30\", got '25:00'",
        ),
        ("[digest]\ntime = 830\n", "[digest] time: expected a string, got an integer (830)"),
        ('[notices]\ngrace = "90"\n', '[notices] grace: expected a duration such as "10m"'),
        ('[notices]\nprogress_every = "x"\n', "[notices] progress_every: expected a duration"),
        (
            '[reports]\nweekly = "明天 9点"\n',
            '[reports] weekly: expected a repeating schedule such as "每周一 09:00"',
        ),
        ("[bot]\ntimezone = 8\n", "[bot] timezone: expected a string, got an integer (8)"),
        ('[bot]\ntimezone = "Mars/Olympus"\n', "[bot] timezone: unknown time zone 'Mars/Olympus'"),
        ('[bot]\nlocal = "en"\n', "[bot] local: unknown key"),
        ("[bott]\n", "unknown table [bott]"),
        ("[bot]\nconcurrent_chats = 0\n", "[bot] concurrent_chats: must be at least 1"),
        ('[roles]\nstaff = "123"\n', "[roles] staff: expected a list of integers"),
        ('[roles]\nstaff = ["x"]\n', "[roles] staff[0]: expected an integer, got a string ('x')"),
        ("[database]\npath = 3\n", "[database] path: expected a string, got an integer (3)"),
        ('[bot]\nlocale = "fr"\n', "[bot] locale: expected one of zh-CN, en"),
        ('[telegram]\nbase_url = "ftp://x"\n', "[telegram] base_url: expected an http(s) URL"),
        ('[telegram]\nwebhook_url = "https://x/hook"\n', "[telegram] webhook_secret: required"),
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
    assert "\n" not in message


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
        [sys.executable, "-m", "bot", *args],
        capture_output=True,
        text=True,
        cwd=ROOT,
        env={"PATH": "", **(env or {})},
        timeout=60,
    )


def test_cli_bad_config_exits_2_with_the_message_and_no_traceback(tmp_path: Path) -> None:
    path = write(tmp_path, '[roles]\nstaff = ["x"]\n')
    result = run_cli("check-config", "-c", str(path))
    assert result.returncode == 2
    assert "[roles] staff[0]: expected an integer" in result.stderr
    assert "Traceback" not in result.stderr
    result = run_cli("run", "-c", str(path))
    assert result.returncode == 2
    assert "Traceback" not in result.stderr


def test_cli_run_without_token_exits_2(tmp_path: Path) -> None:
    path = write(tmp_path, '[bot]\nlocale = "en"\n')
    result = run_cli("run", "-c", str(path))
    assert result.returncode == 2
    assert "[telegram] token: missing" in result.stderr


def test_cli_check_config_ok_keeps_token_secret(tmp_path: Path) -> None:
    path = write(tmp_path, "")
    result = run_cli("check-config", "-c", str(path), env={"GRIDBOT_TOKEN": GOOD_TOKEN})
    assert result.returncode == 0, result.stderr
    assert "OK" in result.stdout
    assert GOOD_TOKEN not in result.stdout + result.stderr


def test_a_database_url_selects_postgresql_and_the_environment_overrides_it(
    tmp_path: Path,
) -> None:
    path = write(tmp_path, '[database]\nurl = "postgresql://grid@db.example/city"\n')
    assert load_config(path, env={}).database.url == "postgresql://grid@db.example/city"
    from_env = "postgresql://grid:pw@10.0.0.5:5433/city"
    config = load_config(path, env={"GRIDBOT_DATABASE_URL": from_env})
    assert config.database.url == from_env
    assert config.database.where() == "postgresql://grid:***@10.0.0.5:5433/city"
    # The example's empty url is the SQLite file.
    assert load_config(ROOT / "config.example.toml", env={}).database.url is None


@pytest.mark.parametrize(
    ("url", "expected"),
    [
        ("mysql://grid@db/city", "only PostgreSQL is supported"),
        ("postgresql://grid:hunter2@db.example:99999/city", "expected postgresql://"),
        ("postgresql:///city", "no host"),
        ("postgresql://grid@db.example", "no database name"),
    ],
)
def test_a_bad_database_url_is_one_line_exit_2_and_never_shows_the_password(
    tmp_path: Path, url: str, expected: str
) -> None:
    path = write(tmp_path, f'[database]\nurl = "{url}"\n')
    with pytest.raises(ConfigError, match=expected):
        load_config(path, env={})
    result = run_cli("check-config", "-c", str(path), env={"GRIDBOT_TOKEN": GOOD_TOKEN})
    assert result.returncode == 2
    assert "[database] url: " in result.stderr and expected in result.stderr
    assert len(result.stderr.strip().splitlines()) == 1
    assert "hunter2" not in result.stderr
