"""The `gridbot` command: run, check-config, demo, eval-intake."""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence
from pathlib import Path

from bot.config import ConfigError, load_config, require_token

EXIT_CONFIG = 2


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="gridbot", description="A Telegram bot for neighbourhood grid group chats."
    )
    commands = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    run = commands.add_parser("run", help="serve the bot (long polling, or a webhook)")
    run.add_argument("-c", "--config", default="config.toml", help="config file (config.toml)")
    check = commands.add_parser("check-config", help="validate a config file and exit")
    check.add_argument("-c", "--config", default="config.toml", help="config file (config.toml)")
    demo = commands.add_parser(
        "demo", help="play a scripted scenario on a local emulator (no token, no network)"
    )
    demo.add_argument("--db", default=None, help="keep the demo database at this path")
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    if args.command == "demo":
        from bot.demo import run_demo

        return run_demo(db_path=args.db)
    try:
        config = load_config(Path(args.config))
        if args.command == "check-config":
            if config.telegram.token:
                require_token(config)
            print(f"{args.config}: OK")
            return 0
        token = require_token(config)
    except ConfigError as exc:
        print(f"gridbot: config error: {exc}", file=sys.stderr)
        return EXIT_CONFIG
    from bot.app import run
    from bot.logging_setup import configure_logging

    configure_logging(config.bot.log_level, [token, config.telegram.webhook_secret.reveal()])
    run(config, token)
    return 0
