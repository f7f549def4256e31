"""The `gridbot` command: run, check-config, init, demo, stats, export, backup, eval-intake.

Every failure an operator can cause ends in one line on stderr and exit status 2; a
reader that goes away (`gridbot export | head`) ends the command quietly.
"""

from __future__ import annotations

import argparse
import asyncio
import signal
import sys
from collections.abc import Sequence
from datetime import date, datetime, time, timedelta
from pathlib import Path
from typing import Any

from bot.config import Config, ConfigError, example_config_text, load_config

EXIT_CONFIG = 2


class UsageError(Exception):
    """A wrong argument on the command line; the message is the whole story."""


def _version() -> str:
    from importlib.metadata import PackageNotFoundError, version

    try:
        return version("gridbot")
    except PackageNotFoundError:
        return "unknown (not installed)"


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="gridbot", description="A Telegram bot for neighbourhood grid group chats."
    )
    parser.add_argument("--version", action="version", version=f"gridbot {_version()}")
    commands = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    run = commands.add_parser("run", help="serve the bot (long polling, or a webhook)")
    run.add_argument("-c", "--config", default="config.toml", help="config file (config.toml)")
    check = commands.add_parser("check-config", help="validate a config file and exit")
    check.add_argument("-c", "--config", default="config.toml", help="config file (config.toml)")
    check.add_argument("--online", action="store_true",
                       help="also ask Telegram: the token, privacy mode, the webhook, duty chats")
    init = commands.add_parser("init", help="write a commented configuration file to edit")
    init.add_argument("path", nargs="?", default="config.toml", help="where (config.toml)")
    init.add_argument("--force", action="store_true", help="overwrite an existing file")
    backup = commands.add_parser(
        "backup", help="copy the database safely while the bot runs (SQLite online backup)")
    backup.add_argument("path", help="the backup file to write")
    backup.add_argument("-c", "--config", default="config.toml", help="config file (config.toml)")
    demo = commands.add_parser(
        "demo", help="play a scripted scenario on a local emulator (no token, no network)"
    )
    demo.add_argument("--db", default=None,
                      help="keep the demo database at this path (a new file)")
    demo.add_argument("--console", action="store_true",
                      help="then serve the staff console on the demo's data until interrupted")
    demo.add_argument("--port", type=int, default=0,
                      help="the console's port with --console (default: any free port)")
    export = commands.add_parser("export", help="export tickets as CSV or Open311 JSON")
    export.add_argument("-c", "--config", default="config.toml", help="config file (config.toml)")
    export.add_argument("--since", required=True, help="first day, YYYY-MM-DD (local time)")
    export.add_argument("--until", required=True, help="last day, YYYY-MM-DD (inclusive)")
    export.add_argument("--format", choices=("csv", "open311"), default="csv")
    export.add_argument("--grid", default=None, help="one grid code (default: all grids)")
    export.add_argument("-o", "--output", default="-", help="file to write (default: stdout)")
    stats = commands.add_parser("stats", help="print the figures /stats shows")
    stats.add_argument("-c", "--config", default="config.toml", help="config file (config.toml)")
    stats.add_argument("period", nargs="?", default="month",
                       help="today, 7d, 30d, month, week, lastweek or YYYY-MM")
    stats.add_argument("grid", nargs="?", default="all", help="a grid code or all")
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


def _local_day(flag: str, text: str, tz: Any) -> datetime:
    try:
        return datetime.combine(date.fromisoformat(text), time(0), tzinfo=tz)
    except ValueError:
        raise UsageError(f"{flag} {text!r}: expected a date as YYYY-MM-DD") from None


def _existing_database(config: Config) -> None:
    """stats, export and backup read data: a mistyped path must not create an empty file."""
    path = Path(config.database.path)
    if not path.is_file():
        raise UsageError(f"[database] path {str(path)!r}: no database there "
                         "(has the bot run with this config?)")


def _export_window(args: argparse.Namespace, tz: Any) -> tuple[datetime, datetime]:
    start = _local_day("--since", args.since, tz)
    last = _local_day("--until", args.until, tz)
    if last < start:
        raise UsageError(f"--since {args.since} is after --until {args.until}: nothing to export")
    return start, last + timedelta(days=1)


def _writable_output(path: str) -> None:
    """Refuse a path we cannot write before the database is opened (no half-made exports)."""
    if path == "-":
        return
    folder = Path(path).parent
    if not folder.is_dir():
        raise UsageError(f"-o {path}: the folder {str(folder)!r} does not exist")
    if Path(path).is_dir():
        raise UsageError(f"-o {path}: is a folder, expected a file name")


class _TerminalProgress:
    """\r-updated "exporting… N tickets" on stderr, only when a person is watching."""

    def __init__(self) -> None:
        self.shown = False

    def __call__(self, count: int) -> None:
        print(f"\rgridbot: exporting… {count} tickets", end="", file=sys.stderr, flush=True)
        self.shown = True

    def done(self) -> None:
        if self.shown:
            print(file=sys.stderr)


async def _offline_report(args: argparse.Namespace, config: Config) -> int:
    """stats and export read the database directly: no token, no Telegram."""
    from bot.app import build_services
    from bot.domain.clock import SystemClock
    from bot.domain.errors import UserError
    from bot.domain.models import PersonRoles
    from bot.render import plain

    _existing_database(config)
    if args.command == "export":
        window = _export_window(args, config.bot.tz)
        _writable_output(args.output)
    services = await build_services(config, SystemClock())
    everyone = PersonRoles(person=None, is_staff=True)
    try:
        if args.command == "stats":
            period = services.stats.period(args.period)
            grids = await services.stats.visible_grids(everyone, args.grid, None)
            report = await services.stats.report(period, grids)
            shown = sorted(report.grids, key=lambda g: -g.figures.received)
            print(plain(services.renderer.render("stats", None, report=report, shown=shown,
                                                 hidden=0)))
            return 0
        start, end = window
        scope = (await services.stats.visible_grids(everyone, args.grid, None)
                 if args.grid else None)
        progress = _TerminalProgress() if sys.stderr.isatty() else None
        if args.output == "-":
            # Open311 and the CSV are UTF-8 whatever the terminal's locale says.
            out = open(sys.stdout.fileno(), "w", encoding="utf-8", newline="", closefd=False)
            with out:
                count = await services.stats.export(args.format, start, end, scope, out,
                                                    progress)
        else:
            with open(args.output, "w", encoding="utf-8", newline="") as out:
                count = await services.stats.export(args.format, start, end, scope, out,
                                                    progress)
        if progress is not None:
            progress.done()
        print(f"gridbot: exported {count} tickets", file=sys.stderr)
        return 0
    except UserError as exc:
        print(f"gridbot: {plain(services.renderer.render(f'errors/{exc.code}', None, **exc.context))}",
              file=sys.stderr)
        return EXIT_CONFIG
    finally:
        await services.db.close()


def _init(path: str, force: bool) -> int:
    target = Path(path)
    if target.exists() and not force:
        raise UsageError(f"{path} already exists (use --force to overwrite it)")
    if not target.parent.is_dir():
        raise UsageError(f"{path}: the folder {str(target.parent)!r} does not exist")
    target.write_text(example_config_text(), encoding="utf-8")
    print(f"wrote {path}: set the token (or $GRIDBOT_TOKEN) and [roles] staff, then "
          f"`gridbot check-config -c {path} --online`")
    return 0


def _backup(config: Config, path: str) -> int:
    """SQLite's online backup: a consistent copy while the bot keeps writing."""
    import sqlite3

    _existing_database(config)
    source_path = Path(config.database.path).resolve()
    target = Path(path)
    if target.resolve() == source_path:
        raise UsageError(f"{path} is the live database itself")
    if not target.parent.is_dir():
        raise UsageError(f"{path}: the folder {str(target.parent)!r} does not exist")
    source = sqlite3.connect(f"{source_path.as_uri()}?mode=ro", uri=True)
    try:
        copy = sqlite3.connect(target)
        try:
            source.backup(copy, pages=1024)
            verdict = copy.execute("PRAGMA integrity_check").fetchone()[0]
            tickets = copy.execute("SELECT count(*) FROM tickets").fetchone()[0]
        finally:
            copy.close()
    except sqlite3.Error as exc:
        raise UsageError(f"backup to {path} failed: {exc}") from None
    finally:
        source.close()
    if verdict != "ok":
        raise UsageError(f"backup to {path}: the copy failed its integrity check ({verdict})")
    size = target.stat().st_size / 1_000_000
    print(f"gridbot: backed up {tickets} tickets to {path} ({size:.1f} MB, integrity ok)",
          file=sys.stderr)
    return 0


def _check_online(config: Config, token: str) -> int:
    from bot.preflight import online_findings

    findings = asyncio.run(online_findings(config, token))
    marks = {"ok": "OK  ", "warn": "WARN", "fail": "FAIL"}
    for finding in findings:
        print(f"{marks[finding.level]} {finding.text}")
    return 1 if any(f.level == "fail" for f in findings) else 0


def main(argv: Sequence[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    try:
        return _main(args)
    except UsageError as exc:
        print(f"gridbot: {exc}", file=sys.stderr)
        return EXIT_CONFIG
    except BrokenPipeError:
        # The reader went away (`gridbot export | head`): stop quietly, and keep Python
        # from complaining again when it flushes stdout at exit.
        import os

        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return 0


def _main(args: argparse.Namespace) -> int:
    if args.command == "demo":
        from bot.demo import run_demo

        if args.db and Path(args.db).exists():
            raise UsageError(f"--db {args.db}: the file exists; the demo plays its morning on "
                             "a new database (remove the file or pick another name)")
        return run_demo(db_path=args.db, console=args.console, console_port=args.port)
    if args.command == "init":
        return _init(args.path, args.force)
    try:
        if args.command == "eval-intake":
            return _eval_intake(args.file, args.json, args.config)
        if args.command in ("stats", "export"):
            return asyncio.run(_offline_report(args, load_config(Path(args.config))))
        config = load_config(Path(args.config))
        if args.command == "backup":
            return _backup(config, args.path)
        from bot.preflight import check_local

        token = check_local(config)
        if args.command == "check-config":
            if args.online:
                return _check_online(config, token)
            print(f"{args.config}: OK")
            return 0
    except ConfigError as exc:
        print(f"gridbot: config error: {exc}", file=sys.stderr)
        return EXIT_CONFIG
    return _run(config, token)


def _interrupt(signum: int, frame: Any) -> None:
    raise KeyboardInterrupt


def _run(config: Config, token: str) -> int:
    from telegram.error import TelegramError

    from bot.app import run
    from bot.logging_setup import configure_logging
    from bot.preflight import TokenRefused, wait_for_bot_api

    configure_logging(config.bot.log_level, [token, config.telegram.webhook_secret.reveal()],
                      config.bot.tz, config.bot.log_format)
    try:
        # Asked before PTB starts: PTB would log a refused token or an unreachable API
        # with a full traceback and exit; this says it in one line and waits out outages.
        # A stop asked for while waiting (systemd, docker stop) is a clean exit.
        previous = signal.signal(signal.SIGTERM, _interrupt)
        try:
            asyncio.run(wait_for_bot_api(config, token))
        finally:
            signal.signal(signal.SIGTERM, previous)
        run(config, token)
    except TokenRefused as exc:
        print(f"gridbot: {exc}", file=sys.stderr)
        return EXIT_CONFIG
    except KeyboardInterrupt:
        return 0
    except TelegramError as exc:
        # Start-up failures (a bad webhook URL refused by Telegram): one line, no trace.
        print(f"gridbot: Telegram said: {exc.message}", file=sys.stderr)
        return 1
    return 0
