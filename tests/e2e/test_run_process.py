"""`gridbot run` as a real process: long polling, webhook mode, clean stop, no token in logs."""

from __future__ import annotations

import asyncio
import signal
import socket
import sys
from pathlib import Path

import httpx

from bot.emulator import BotApiEmulator

TOKEN = "987654:PROCESS-TEST-SECRET-TOKEN"
ROOT = Path(__file__).resolve().parents[2]
USER = 5150


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def write_config(tmp_path: Path, emulator: BotApiEmulator, extra: str = "") -> Path:
    config = tmp_path / "config.toml"
    config.write_text(
        f"""
[telegram]
base_url = "{emulator.base_url}"
base_file_url = "{emulator.base_file_url}"
{extra}
[database]
path = "{tmp_path / "run.db"}"
[bot]
log_level = "DEBUG"
[roles]
staff = [{USER}]
""",
        encoding="utf-8",
    )
    return config


async def start_bot(config: Path) -> asyncio.subprocess.Process:
    return await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "bot",
        "run",
        "-c",
        str(config),
        cwd=ROOT,
        env={"GRIDBOT_TOKEN": TOKEN, "PATH": "/usr/bin:/bin", "PTB_TIMEDELTA": "1"},
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
    )


async def stop_bot(process: asyncio.subprocess.Process) -> str:
    process.send_signal(signal.SIGTERM)
    _out, err = await asyncio.wait_for(process.communicate(), 30)
    assert process.returncode == 0, err.decode()
    return err.decode()


async def test_long_polling_process_answers_and_stops_cleanly(tmp_path: Path) -> None:
    async with BotApiEmulator(token=TOKEN, bot_username="gridbot_bot") as emulator:
        emulator.add_user(USER, "街道小李")
        process = await start_bot(write_config(tmp_path, emulator))
        try:
            await emulator.wait_for_call("getUpdates", timeout=30)
            emulator.private_chat_started(USER)
            emulator.post_message(USER, USER, "/whoami")
            reply = await emulator.wait_for_bot_message(USER, timeout=30)
            assert "街道工作人员" in reply["text"]
        finally:
            logs = await stop_bot(process)
        assert TOKEN not in logs and "PROCESS-TEST-SECRET" not in logs
        assert "long polling" in logs


async def test_webhook_mode_serves_updates_with_the_secret(tmp_path: Path) -> None:
    port = free_port()
    secret = "s3cret-Token_1"
    async with BotApiEmulator(token=TOKEN, bot_username="gridbot_bot") as emulator:
        emulator.add_user(USER, "街道小李")
        # The public URL is the reverse proxy's (TLS ends there); the bot listens on loopback.
        extra = (
            'webhook_url = "https://gridbot.example.org/hook"\nwebhook_listen = "127.0.0.1"\n'
            f'webhook_port = {port}\nwebhook_secret = "{secret}"\n'
        )
        process = await start_bot(write_config(tmp_path, emulator, extra))
        try:
            call = await emulator.wait_for_call("setWebhook", timeout=30)
            assert call.params["url"] == "https://gridbot.example.org/hook"
            assert call.params["secret_token"] == secret
            emulator.private_chat_started(USER)
            emulator.post_message(USER, USER, "/whoami")
            [update] = emulator.pending_updates()
            emulator.drop_pending_updates()
            async with httpx.AsyncClient() as client:
                forged = None
                for _ in range(50):  # the webhook server may still be starting
                    try:
                        forged = await client.post(
                            f"http://127.0.0.1:{port}/hook",
                            json=update,
                            headers={"X-Telegram-Bot-Api-Secret-Token": "wrong"},
                        )
                        break
                    except httpx.ConnectError:
                        await asyncio.sleep(0.2)
                assert forged is not None and forged.status_code == 403
                sent = await client.post(
                    f"http://127.0.0.1:{port}/hook",
                    json=update,
                    headers={"X-Telegram-Bot-Api-Secret-Token": secret},
                )
                assert sent.status_code == 200
            reply = await emulator.wait_for_bot_message(USER, timeout=30)
            assert "街道工作人员" in reply["text"]
            assert len(emulator.messages_in(USER)) == 1  # the forged update did nothing
        finally:
            logs = await stop_bot(process)
        assert TOKEN not in logs and secret not in logs


async def test_a_token_telegram_refuses_exits_with_a_message(tmp_path: Path) -> None:
    async with BotApiEmulator(token="111:ANOTHER-TOKEN-ENTIRELY") as emulator:
        process = await start_bot(write_config(tmp_path, emulator))
        _out, err = await asyncio.wait_for(process.communicate(), 30)
        assert process.returncode == 2
        text = err.decode()
        assert "Telegram refused the bot token" in text
        assert "Traceback" not in text and TOKEN not in text
