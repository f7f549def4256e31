"""Run the Bot API emulator on its own: ``python -m bot.emulator --port 8081 --token ...``.

Prints its ``base_url`` as the first line on stdout (then serves until SIGINT/SIGTERM), so a
benchmark can start it, read one line and point a bot process at it. The world is set up
and observed through the ``/control/...`` endpoints listed in :mod:`bot.emulator`.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import logging
import signal
import sys

from bot.emulator.server import BotApiEmulator


def _parse_args(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        prog="python -m bot.emulator", description="Local Telegram Bot API emulator."
    )
    parser.add_argument("--host", default="127.0.0.1", help="address to listen on")
    parser.add_argument("--port", type=int, default=8081, help="TCP port; 0 picks a free one")
    parser.add_argument("--token", default="123456:TEST-TOKEN", help="the bot token to accept")
    parser.add_argument("--bot-username", default="gridbot_bot", help="the bot's username")
    parser.add_argument(
        "--privacy-mode",
        action="store_true",
        help="emulate privacy mode (getMe reports can_read_all_group_messages=false)",
    )
    parser.add_argument("--log-level", default="WARNING", help="logging level (stderr)")
    return parser.parse_args(argv)


async def _serve(args: argparse.Namespace) -> None:
    emulator = BotApiEmulator(
        token=args.token,
        bot_username=args.bot_username,
        can_read_all_group_messages=not args.privacy_mode,
    )
    await emulator.start(args.host, args.port)
    print(emulator.base_url, flush=True)
    logging.getLogger(__name__).info(
        "files: %s  control: %s", emulator.base_file_url, emulator.control_url
    )
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        with contextlib.suppress(NotImplementedError):  # not on Windows
            loop.add_signal_handler(sig, stop.set)
    try:
        await stop.wait()
    finally:
        await emulator.stop()


def main(argv: list[str] | None = None) -> int:
    """Entry point; returns the exit status."""
    args = _parse_args(argv)
    logging.basicConfig(level=args.log_level.upper(), stream=sys.stderr)
    with contextlib.suppress(KeyboardInterrupt):
        asyncio.run(_serve(args))
    return 0


if __name__ == "__main__":
    sys.exit(main())
