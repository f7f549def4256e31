"""The `gridbot` command: run, check-config, demo, eval-intake."""

from __future__ import annotations

import argparse
import asyncio
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
    evaluate = commands.add_parser(
        "eval-intake", help="measure the request recogniser on a labelled JSONL file"
    )
    evaluate.add_argument("file", help="JSONL: text, is_request, category, urgency, building, unit, room")
    evaluate.add_argument("--json", action="store_true", help="print one JSON object")
    evaluate.add_argument("-c", "--config", default=None,
                          help="use this config's [intake] vocabulary too")
    return parser


def _eval_intake(path: str, as_json: bool, config_path: str | None) -> int:
    import json

    from bot.domain.intake import IntakeParser, Vocabulary
    from bot.domain.intake_eval import evaluate, format_report, load_records, report_as_json

    try:
        records = load_records(Path(path))
    except (OSError, ValueError) as exc:
        print(f"gridbot: {path}: {exc}", file=sys.stderr)
        return EXIT_CONFIG
    vocabulary = Vocabulary.default()
    if config_path:
        config = load_config(Path(config_path))
        if config.intake.vocabulary:
            vocabulary = vocabulary.merged_with(config.intake.vocabulary)
    report = evaluate(IntakeParser(vocabulary), records)
    if as_json:
        print(json.dumps(report_as_json(report), ensure_ascii=False))
    else:
        print(format_report(report))
    return 0


def main(argv: Sequence[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    if args.command == "demo":
        from bot.demo import run_demo

        return run_demo(db_path=args.db)
    try:
        if args.command == "eval-intake":
            return _eval_intake(args.file, args.json, args.config)
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
    from telegram.error import InvalidToken, TelegramError

    from bot.app import run, verify_token
    from bot.logging_setup import configure_logging

    configure_logging(config.bot.log_level, [token, config.telegram.webhook_secret.reveal()])
    try:
        # PTB logs a refused token with a full traceback; ask once first to say it plainly.
        asyncio.run(verify_token(config, token))
        run(config, token)
    except InvalidToken:
        print("gridbot: Telegram refused the bot token (check [telegram] token or "
              "$GRIDBOT_TOKEN, and base_url)", file=sys.stderr)
        return EXIT_CONFIG
    except TelegramError as exc:
        # Start-up failures (a bad webhook URL, the Bot API unreachable): one line, no trace.
        print(f"gridbot: Telegram said: {exc.message}", file=sys.stderr)
        return 1
    return 0
