"""Logs to stderr, level from config, the bot token scrubbed from every line.

httpx logs request URLs and Telegram's URLs contain the token, so redaction happens
on the handler, for every logger, rather than trusting each library to behave.
Time stamps are in `[bot] timezone`, the zone the chats speak in, not the machine's:
an operator matching "the alert at 13:29" with the log should not have to convert.
"""

from __future__ import annotations

import json
import logging
import sys
from datetime import datetime
from zoneinfo import ZoneInfo

REDACTED = "<token>"


class RedactingFilter(logging.Filter):
    """Replaces the token and other secrets in every log line, tracebacks included."""

    def __init__(self, secrets: list[str]) -> None:
        super().__init__()
        self._secrets = [s for s in secrets if s]

    def filter(self, record: logging.LogRecord) -> bool:
        """Redact the record's message and traceback; never drops a record."""
        if not self._secrets:
            return True
        message = record.getMessage()
        text = message
        for secret in self._secrets:
            text = text.replace(secret, REDACTED)
        if record.exc_info and not record.exc_text:
            record.exc_text = logging.Formatter().formatException(record.exc_info)
        if record.exc_text:
            for secret in self._secrets:
                record.exc_text = record.exc_text.replace(secret, REDACTED)
        if text != message:
            record.msg, record.args = text, None
        return True


class ZonedFormatter(logging.Formatter):
    """`2026-12-05 15:42:07.123+08:00 INFO bot.app: …`, in the configured zone."""

    def __init__(self, tz: ZoneInfo) -> None:
        super().__init__("%(asctime)s %(levelname)s %(name)s: %(message)s")
        self._tz = tz

    def formatTime(self, record: logging.LogRecord, datefmt: str | None = None) -> str:  # noqa: N802
        """The record's time in [bot] timezone, with milliseconds."""
        moment = datetime.fromtimestamp(record.created, self._tz)
        return moment.isoformat(sep=" ", timespec="milliseconds")


class JsonFormatter(ZonedFormatter):
    """One JSON object per line: time (ISO 8601 with offset), level, logger, message[, exc]."""

    def format(self, record: logging.LogRecord) -> str:
        """The record as one JSON object on one line."""
        moment = datetime.fromtimestamp(record.created, self._tz)
        entry = {
            "time": moment.isoformat(timespec="milliseconds"),
            "level": record.levelname,
            "logger": record.name,
            "message": record.getMessage(),
        }
        if record.exc_info and not record.exc_text:
            record.exc_text = self.formatException(record.exc_info)
        if record.exc_text:
            entry["exc"] = record.exc_text
        return json.dumps(entry, ensure_ascii=False)


def configure_logging(
    level: str, secrets: list[str], tz: ZoneInfo | None = None, log_format: str = "text"
) -> None:
    """Send logs to stderr at `level`, time-stamped in `tz`, as text or JSON, with `secrets`
    redacted.
    """
    zone = tz or ZoneInfo("UTC")
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(JsonFormatter(zone) if log_format == "json" else ZonedFormatter(zone))
    handler.addFilter(RedactingFilter(secrets))
    root = logging.getLogger()
    for old in list(root.handlers):
        root.removeHandler(old)
    root.addHandler(handler)
    root.setLevel(level.upper())
    # One line per HTTP request is noise at INFO.
    logging.getLogger("httpx").setLevel(logging.WARNING)
    logging.getLogger("apscheduler").setLevel(logging.WARNING)
