"""The `gridbot` command: run, check-config, init, demo, stats, export, backup, and the
recogniser's eval-intake and train-intake.

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

from bot.config import Config, ConfigError, check_database_url, example_config_text, load_config

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
    check.add_argument(
        "--online",
        action="store_true",
        help="also ask Telegram: the token, privacy mode, the webhook, duty chats",
    )
    init = commands.add_parser("init", help="write a commented configuration file to edit")
    init.add_argument("path", nargs="?", default="config.toml", help="where (config.toml)")
    init.add_argument("--force", action="store_true", help="overwrite an existing file")
    backup = commands.add_parser(
        "backup", help="copy the database safely while the bot runs (SQLite online backup)"
    )
    backup.add_argument("path", help="the backup file to write")
    backup.add_argument("-c", "--config", default="config.toml", help="config file (config.toml)")
    move = commands.add_parser(
        "migrate-db",
        help="copy an SQLite database into PostgreSQL (idempotent, verified by counts)",
    )
    move.add_argument("--from", dest="source", required=True, help="the SQLite file")
    move.add_argument(
        "--to", dest="target", required=True, help="the PostgreSQL url (postgresql://…)"
    )
    demo = commands.add_parser(
        "demo", help="play a scripted scenario on a local emulator (no token, no network)"
    )
    demo.add_argument("--db", default=None, help="keep the demo database at this path (a new file)")
    demo.add_argument(
        "--console",
        action="store_true",
        help="then serve the staff console on the demo's data until interrupted",
    )
    demo.add_argument(
        "--port",
        type=int,
        default=0,
        help="the console's port with --console (default: any free port)",
    )
    export = commands.add_parser("export", help="export tickets as CSV or Open311 JSON")
    export.add_argument("-c", "--config", default="config.toml", help="config file (config.toml)")
    export.add_argument("--since", required=True, help="first day, YYYY-MM-DD (local time)")
    export.add_argument("--until", required=True, help="last day, YYYY-MM-DD (inclusive)")
    export.add_argument("--format", choices=("csv", "open311"), default="csv")
    export.add_argument("--grid", default=None, help="one grid code (default: all grids)")
    export.add_argument("-o", "--output", default="-", help="file to write (default: stdout)")
    stats = commands.add_parser("stats", help="print the figures /stats shows")
    stats.add_argument("-c", "--config", default="config.toml", help="config file (config.toml)")
    stats.add_argument(
        "period",
        nargs="?",
        default="month",
        help="today, 7d, 30d, month, week, lastweek or YYYY-MM",
    )
    stats.add_argument("grid", nargs="?", default="all", help="a grid code or all")
    evaluate = commands.add_parser(
        "eval-intake", help="measure the request recogniser on a labelled JSONL file"
    )
    evaluate.add_argument(
        "file",
        nargs="?",
        default=None,
        help="JSONL: text, is_request, category, urgency, building, unit, room",
    )
    evaluate.add_argument("--json", action="store_true", help="print one JSON object")
    evaluate.add_argument(
        "-c", "--config", default=None, help="use this config's [intake] vocabulary and model too"
    )
    evaluate.add_argument(
        "--from-db",
        action="store_true",
        help="measure on the deployment's own corrections (needs -c)",
    )
    evaluate.add_argument(
        "--model", default=None, help="a model file (default: the config's, else the shipped one)"
    )
    evaluate.add_argument("--rules-only", action="store_true", help="the rules without a model")
    train = commands.add_parser(
        "train-intake", help="train the request model, or adapt it to a deployment's corrections"
    )
    train.add_argument(
        "data",
        nargs="*",
        help="labelled JSONL files: train from scratch on them (with --from-db, "
        "the corrections are added)",
    )
    train.add_argument(
        "-c", "--config", default=None, help="config whose database and vocabulary to use"
    )
    train.add_argument(
        "--from-db",
        action="store_true",
        help="learn from the /category corrections and [不是报事] withdrawals "
        "in the database (needs -c); without data files the shipped model "
        "is adapted to them",
    )
    train.add_argument(
        "--base", default=None, help="adapt this model file instead of the shipped one"
    )
    train.add_argument("-o", "--output", required=True, help="model file to write (.npz)")
    train.add_argument("--steps", type=int, default=None, help="optimiser steps")
    return parser


def _intake_usage_ok(args: argparse.Namespace, has_input: bool, wanted: str) -> bool:
    """Say what is missing from an eval-intake or train-intake command line."""
    if not has_input:
        print(f"gridbot: {args.command}: give {wanted}", file=sys.stderr)
        return False
    if args.from_db and not args.config:
        print(
            f"gridbot: {args.command} --from-db: -c config.toml names the database", file=sys.stderr
        )
        return False
    return True


def _intake_inputs(config_path: str | None) -> tuple[Any, Any]:
    """The vocabulary and the configured model file (or None) of ``config_path``."""
    from bot.domain.intake import Vocabulary

    vocabulary = Vocabulary.default()
    config = load_config(Path(config_path)) if config_path else None
    if config is not None and config.intake.vocabulary:
        vocabulary = vocabulary.merged_with(config.intake.vocabulary)
    return vocabulary, config


async def _db_examples(config: Config) -> list[Any]:
    from bot.storage.unit_of_work import SqlStorage

    storage = await SqlStorage.open_configured(path=config.database.path, url=config.database.url)
    try:
        async with storage.unit_of_work() as uow:
            return await uow.intake_examples.all()
    finally:
        await storage.close()


def _eval_intake(args: argparse.Namespace) -> int:
    import json

    from bot.domain.intake import IntakeParser
    from bot.domain.intake_eval import evaluate, format_report, load_records, report_as_json
    from bot.domain.intake_model import IntakeModel, ModelError

    if not _intake_usage_ok(
        args, (args.file is None) != (not args.from_db), "a JSONL file or --from-db"
    ):
        return EXIT_CONFIG
    vocabulary, config = _intake_inputs(args.config)
    try:
        if args.from_db:
            records = asyncio.run(_db_examples(config))
        else:
            records = load_records(Path(args.file))
    except (OSError, ValueError) as exc:
        print(f"gridbot: {args.file}: {exc}", file=sys.stderr)
        return EXIT_CONFIG
    model = None
    try:
        if args.model:
            model = IntakeModel.load(Path(args.model))
        elif config is not None and config.intake.model:
            model = IntakeModel.load(Path(config.intake.model))
        elif not args.rules_only:
            model = IntakeModel.shipped()
    except ModelError as exc:
        print(f"gridbot: {exc}", file=sys.stderr)
        return EXIT_CONFIG
    report = evaluate(IntakeParser(vocabulary, model), records)
    if args.json:
        print(json.dumps(report_as_json(report), ensure_ascii=False))
    else:
        print(format_report(report))
    return 0


def _train_intake(args: argparse.Namespace) -> int:
    from dataclasses import replace

    from bot.domain.intake import IntakeParser
    from bot.domain.intake_eval import evaluate, format_report, load_records
    from bot.domain.intake_model import IntakeModel
    from bot.domain.intake_training import (
        ADAPT_SETTINGS,
        TrainingSettings,
        examples_from_records,
        train,
    )

    if not _intake_usage_ok(
        args, bool(args.data or args.from_db), "labelled JSONL files and/or --from-db"
    ):
        return EXIT_CONFIG
    vocabulary, config = _intake_inputs(args.config)
    try:
        records = [record for path in args.data for record in load_records(Path(path))]
        corrections = asyncio.run(_db_examples(config)) if args.from_db else []
        base = None
        if not args.data:
            base = IntakeModel.load(Path(args.base)) if args.base else IntakeModel.shipped()
    except (OSError, ValueError) as exc:  # ModelError is a ValueError
        print(f"gridbot: {exc}", file=sys.stderr)
        return EXIT_CONFIG
    if args.from_db and not corrections:
        print(
            "gridbot: the database holds no corrections yet (/category or [不是报事])",
            file=sys.stderr,
        )
        return EXIT_CONFIG
    settings = ADAPT_SETTINGS if base is not None else TrainingSettings()
    if args.steps:
        settings = replace(settings, steps=args.steps)
    # A correction is the street's own word on its own chat: it counts three times.
    examples = examples_from_records(records, vocabulary) + examples_from_records(
        corrections, vocabulary, weight=3.0
    )
    model = train(examples, settings, base=base)
    model.save(Path(args.output))
    what = f"{len(records)} labelled messages" if records else "the shipped model"
    if corrections:
        what += f" + {len(corrections)} corrections"
        before = evaluate(
            IntakeParser(vocabulary, base or IntakeModel.shipped()), corrections, timed=False
        )
        after = evaluate(IntakeParser(vocabulary, model), corrections, timed=False)
        print("on the corrections, before:\n" + format_report(before, worst=0))
        print("after:\n" + format_report(after, worst=0))
    print(f"gridbot: wrote {args.output} ({len(model.grams)} features) from {what}")
    return 0


def _local_day(flag: str, text: str, tz: Any) -> datetime:
    try:
        return datetime.combine(date.fromisoformat(text), time(0), tzinfo=tz)
    except ValueError:
        raise UsageError(f"{flag} {text!r}: expected a date as YYYY-MM-DD") from None


def _existing_database(config: Config) -> None:
    """stats, export and backup read data: a mistyped path must not create an empty file.

    A PostgreSQL url is checked by connecting (its tables are made at the bot's first start).
    """
    if config.database.url:
        return
    path = Path(config.database.path)
    if not path.is_file():
        raise UsageError(
            f"[database] path {str(path)!r}: no database there (has the bot run with this config?)"
        )


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
    """An "exporting… N tickets" line on stderr, rewritten in place, only when a person watches."""

    def __init__(self) -> None:
        self.shown = False

    def __call__(self, count: int) -> None:
        print(f"\rgridbot: exporting… {count} tickets", end="", file=sys.stderr, flush=True)
        self.shown = True

    def done(self) -> None:
        if self.shown:
            print(file=sys.stderr)


async def _offline_report(args: argparse.Namespace, config: Config) -> int:
    """`stats` and `export` read the database directly: no token, no Telegram."""
    from bot.app import build_services
    from bot.domain.clock import SystemClock
    from bot.domain.errors import UserError
    from bot.domain.models import PersonRoles
    from bot.render import plain

    _existing_database(config)
    if args.command == "export":
        window = _export_window(args, config.bot.timezone)
        _writable_output(args.output)
    services = await build_services(config, SystemClock())
    everyone = PersonRoles(person=None, is_staff=True)
    try:
        if args.command == "stats":
            period = services.stats.period(args.period)
            grids = await services.stats.visible_grids(everyone, args.grid, None)
            report = await services.stats.report(period, grids)
            shown = sorted(report.grids, key=lambda g: -g.figures.received)
            print(
                plain(services.renderer.render("stats", None, report=report, shown=shown, hidden=0))
            )
            return 0
        start, end = window
        scope = await services.stats.visible_grids(everyone, args.grid, None) if args.grid else None
        progress = _TerminalProgress() if sys.stderr.isatty() else None
        if args.output == "-":
            # Open311 and the CSV are UTF-8 whatever the terminal's locale says.
            # The CLI's loop runs this one task, so a blocking open stalls nobody.
            out = open(  # noqa: ASYNC230
                sys.stdout.fileno(), "w", encoding="utf-8", newline="", closefd=False
            )
            with out:
                count = await services.stats.export(args.format, start, end, scope, out, progress)
        else:
            with open(args.output, "w", encoding="utf-8", newline="") as out:  # noqa: ASYNC230
                count = await services.stats.export(args.format, start, end, scope, out, progress)
        if progress is not None:
            progress.done()
        print(f"gridbot: exported {count} tickets", file=sys.stderr)
        return 0
    except UserError as exc:
        message = plain(services.renderer.render(f"errors/{exc.code}", None, **exc.context))
        print(f"gridbot: {message}", file=sys.stderr)
        return EXIT_CONFIG
    finally:
        await services.storage.close()


def _init(path: str, force: bool) -> int:
    target = Path(path)
    if target.exists() and not force:
        raise UsageError(f"{path} already exists (use --force to overwrite it)")
    if not target.parent.is_dir():
        raise UsageError(f"{path}: the folder {str(target.parent)!r} does not exist")
    target.write_text(example_config_text(), encoding="utf-8")
    print(
        f"wrote {path}: set the token (or $GRIDBOT_TOKEN) and [roles] staff, then "
        f"`gridbot check-config -c {path} --online`"
    )
    return 0


def _backup(config: Config, path: str) -> int:
    """SQLite's online backup: a consistent copy while the bot keeps writing."""
    import sqlite3

    if config.database.url:
        raise UsageError(
            "[database] url: backup copies the SQLite file; back PostgreSQL up with its own "
            "tools (pg_dump, or continuous archiving: docs/deployment.md)"
        )
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
    print(
        f"gridbot: backed up {tickets} tickets to {path} ({size:.1f} MB, integrity ok)",
        file=sys.stderr,
    )
    return 0


async def _migrate_db(source_path: str, url: str) -> int:
    """Copy a street's SQLite file into PostgreSQL and print the verified per-table counts."""
    from bot.config import redacted_url
    from bot.storage.database import DatabaseError
    from bot.storage.postgres import PostgresDatabase
    from bot.storage.sqlite import SqliteDatabase
    from bot.storage.transfer import TransferError, copy_sqlite_to_postgres

    try:
        source = await SqliteDatabase.open(source_path)
        try:
            target = await PostgresDatabase.open(url)
            try:
                counts = await copy_sqlite_to_postgres(source, target)
            finally:
                await target.close()
        finally:
            await source.close()
    except (DatabaseError, TransferError) as exc:
        print(f"gridbot: migrate-db: {exc}", file=sys.stderr)
        return 1
    for count in counts:
        print(f"{count.table:<22} {count.source:>9} → {count.target:>9}")
    total = sum(c.source for c in counts)
    print(
        f"gridbot: {total} rows of {source_path} are in {redacted_url(url)} (counts verified)",
        file=sys.stderr,
    )
    return 0


def _check_online(config: Config, token: str) -> int:
    from bot.preflight import online_findings

    findings = asyncio.run(online_findings(config, token))
    marks = {"ok": "OK  ", "warn": "WARN", "fail": "FAIL"}
    for finding in findings:
        print(f"{marks[finding.level]} {finding.text}")
    return 1 if any(f.level == "fail" for f in findings) else 0


def main(argv: Sequence[str] | None = None) -> int:
    """The `gridbot` command: parse the arguments, run the subcommand, and turn every error an
    operator can cause into one line on stderr and an exit status (2 for configuration).
    """
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
            raise UsageError(
                f"--db {args.db}: the file exists; the demo plays its morning on "
                "a new database (remove the file or pick another name)"
            )
        return run_demo(db_path=args.db, console=args.console, console_port=args.port)
    if args.command == "init":
        return _init(args.path, args.force)
    if args.command == "migrate-db":
        # Checked before anything is opened: a mistyped --from must not create a file.
        if not Path(args.source).is_file():
            raise UsageError(f"migrate-db: --from {args.source}: no SQLite database there")
        try:
            check_database_url("migrate-db", args.target, key="--to")
        except ConfigError as exc:
            raise UsageError(str(exc)) from None
        return asyncio.run(_migrate_db(args.source, args.target))
    try:
        if args.command == "eval-intake":
            return _eval_intake(args)
        if args.command == "train-intake":
            return _train_intake(args)
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
    from bot.storage.database import DatabaseError

    configure_logging(
        config.bot.log_level,
        [token, config.telegram.webhook_secret.reveal()],
        config.bot.timezone,
        config.bot.log_format,
    )
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
    except DatabaseError as exc:
        # A newer schema, an unreadable file, a PostgreSQL server that cannot be used.
        print(f"gridbot: {exc}", file=sys.stderr)
        return 1
    return 0
