"""Start-up as an operator meets it: `check-config --online` against the emulator, and
`gridbot run` when the Bot API cannot be reached or `base_url` is not a Bot API."""

from __future__ import annotations

import asyncio
import json
import signal
import subprocess
import sys
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path

from bot.emulator import BotApiEmulator
from tests.e2e.test_run_process import free_port

TOKEN = "987654:PREFLIGHT-TEST-SECRET-TOKEN"
ROOT = Path(__file__).resolve().parents[2]
STAFF = 5150


def write_config(tmp_path: Path, base_url: str, extra: str = "") -> Path:
    config = tmp_path / "config.toml"
    config.write_text(
        f'[telegram]\nbase_url = "{base_url}"\n'
        f'[database]\npath = "{tmp_path / "run.db"}"\n'
        f"[roles]\nstaff = [{STAFF}]\n{extra}",
        encoding="utf-8",
    )
    return config


async def gridbot(*args: str) -> tuple[int, str, str]:
    process = await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "bot",
        *args,
        cwd=ROOT,
        env={"GRIDBOT_TOKEN": TOKEN, "PATH": "/usr/bin:/bin"},
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
    )
    out, err = await asyncio.wait_for(process.communicate(), 60)
    assert process.returncode is not None
    return process.returncode, out.decode(), err.decode()


async def test_online_check_reports_bot_privacy_webhook_and_duty_chats(tmp_path: Path) -> None:
    async with BotApiEmulator(
        token=TOKEN, bot_username="gridbot_bot", can_read_all_group_messages=False
    ) as emulator:
        emulator.add_user(STAFF, "街道小李")
        joined = emulator.create_group("社区值班群", creator_id=STAFF)["id"]
        emulator.add_bot_to_group(joined, STAFF)
        not_joined = emulator.create_group("街道值班群", creator_id=STAFF)["id"]
        config = write_config(
            tmp_path,
            emulator.base_url,
            f"[escalation]\ncommunity = {joined}\nstreet = {not_joined}\ndistrict = -1009999\n",
        )
        code, out, err = await gridbot("check-config", "-c", str(config), "--online")
    lines = out.splitlines()
    assert code == 1, (out, err)  # two duty chats are not usable
    assert any(line.startswith("OK") and "@gridbot_bot" in line for line in lines)
    assert any(line.startswith("WARN") and "privacy mode is on" in line for line in lines)
    assert any(line.startswith("OK") and "long polling" in line for line in lines)
    assert any(line.startswith("OK") and "community duty chat 社区值班群" in line for line in lines)
    assert any(
        line.startswith("FAIL")
        and f"street duty chat {not_joined}" in line
        and "not a member" in line
        for line in lines
    )
    assert any(line.startswith("FAIL") and "district duty chat -1009999" in line for line in lines)
    assert TOKEN not in out + err


async def test_online_check_passes_when_everything_is_in_place(tmp_path: Path) -> None:
    async with BotApiEmulator(token=TOKEN, bot_username="gridbot_bot") as emulator:
        emulator.add_user(STAFF, "街道小李")
        duty = emulator.create_group("社区值班群", creator_id=STAFF)["id"]
        emulator.add_bot_to_group(duty, STAFF, as_admin=True)
        config = write_config(tmp_path, emulator.base_url, f"[escalation]\ncommunity = {duty}\n")
        code, out, _err = await gridbot("check-config", "-c", str(config), "--online")
    assert code == 0, out
    assert "FAIL" not in out and "WARN" not in out
    assert "privacy mode is off" in out and "administrator" in out


async def test_online_check_names_a_refused_token(tmp_path: Path) -> None:
    async with BotApiEmulator(token="111:SOME-OTHER-TOKEN-ALTOGETHER") as emulator:
        code, out, _err = await gridbot(
            "check-config", "-c", str(write_config(tmp_path, emulator.base_url)), "--online"
        )
    assert code == 1
    assert (
        out.strip() == "FAIL Telegram refused the bot token (check [telegram] token or "
        "$GRIDBOT_TOKEN)"
    )


@asynccontextmanager
async def running(config: Path) -> AsyncIterator[asyncio.subprocess.Process]:
    process = await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "bot",
        "run",
        "-c",
        str(config),
        cwd=ROOT,
        env={"GRIDBOT_TOKEN": TOKEN, "PATH": "/usr/bin:/bin"},
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
    )
    try:
        yield process
    finally:
        if process.returncode is None:
            process.kill()
            await process.wait()


async def read_line_with(process: asyncio.subprocess.Process, needle: str) -> str:
    assert process.stderr is not None
    while True:
        line = (await asyncio.wait_for(process.stderr.readline(), 30)).decode()
        assert line, f"the process ended before logging {needle!r}"
        if needle in line:
            return line


async def test_run_waits_for_an_unreachable_api_in_one_line_then_starts(tmp_path: Path) -> None:
    port = free_port()
    config = write_config(
        tmp_path, f"http://127.0.0.1:{port}/bot", '[bot]\ntimezone = "Asia/Shanghai"\n'
    )
    async with running(config) as process:
        warning = await read_line_with(process, "retrying in")
        assert "cannot connect" in warning and "+08:00 WARNING" in warning
        # The API comes up on that port: the bot starts polling it without a restart.
        emulator = BotApiEmulator(token=TOKEN)
        await emulator.start(port=port)
        try:
            await read_line_with(process, "Bot API answered")
            await emulator.wait_for_call("getUpdates", timeout=60)
            process.send_signal(signal.SIGTERM)
            _out, err = await asyncio.wait_for(process.communicate(), 30)
        finally:
            await emulator.stop()
    assert process.returncode == 0
    assert "Traceback" not in err.decode() and TOKEN not in err.decode()


async def test_run_names_a_base_url_that_is_not_a_bot_api(tmp_path: Path) -> None:
    port = free_port()
    site = await asyncio.start_server(_html_404, "127.0.0.1", port)
    config = write_config(tmp_path, f"http://127.0.0.1:{port}/bot", '[bot]\nlog_format = "json"\n')
    try:
        async with running(config) as process:
            line = await read_line_with(process, "does not answer like a Telegram Bot API")
            process.send_signal(signal.SIGTERM)
            _out, rest = await asyncio.wait_for(process.communicate(), 30)
    finally:
        site.close()
    entry = json.loads(line)
    assert entry["level"] == "WARNING" and "check [telegram] base_url" in entry["message"]
    assert "HTTP 404, text/html" in entry["message"]
    assert entry["time"].endswith("+08:00")
    assert "refused the bot token" not in rest.decode() and "Traceback" not in rest.decode()
    assert process.returncode == 0


async def _html_404(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
    await reader.readuntil(b"\r\n\r\n")
    body = b"<html><body>Not Found</body></html>"
    writer.write(
        b"HTTP/1.1 404 Not Found\r\nContent-Type: text/html\r\nContent-Length: "
        + str(len(body)).encode()
        + b"\r\nConnection: close\r\n\r\n"
        + body
    )
    await writer.drain()
    writer.close()


def test_check_config_refuses_what_run_refuses(tmp_path: Path) -> None:
    """The same one line from both commands, for each thing run cannot start with."""
    cases = {
        '[telegram]\ntoken = ""\n': "[telegram] token: missing",
        (
            '[telegram]\nwebhook_url = "http://bot.example.org/hook"\nwebhook_secret = "abc"\n'
        ): "only over HTTPS",
        (
            '[telegram]\nwebhook_url = "https://bot.example.org/hook"\nwebhook_secret = "a b!"\n'
        ): "[telegram] webhook_secret: Telegram accepts 1-256 characters",
        '[bot]\ntemplates_dir = "no-such-folder"\n': "[bot] templates_dir: 'no-such-folder' is not",
        '[database]\npath = "missing/dir/x.db"\n': "the folder 'missing/dir' does not exist",
    }
    for text, expected in cases.items():
        config = tmp_path / "c.toml"
        config.write_text(text, encoding="utf-8")
        env = {"PATH": "/usr/bin:/bin"}
        if "token" not in text:
            env["GRIDBOT_TOKEN"] = TOKEN
        answers = [
            subprocess.run(
                [sys.executable, "-m", "bot", command, "-c", str(config)],
                cwd=tmp_path,
                env=env,
                capture_output=True,
                text=True,
                timeout=60,
            )
            for command in ("check-config", "run")
        ]
        for answer in answers:
            assert answer.returncode == 2, (text, answer.stderr)
            assert expected in answer.stderr, (text, answer.stderr)
            assert "Traceback" not in answer.stderr
        assert answers[0].stderr == answers[1].stderr
        assert not (tmp_path / "missing").exists()
