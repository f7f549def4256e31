"""Typed, validated configuration from one TOML file.

One frozen dataclass per TOML table; the table's fields are the only keys allowed.
Values are parsed here, once: durations are `timedelta`s, times of day `time`s, the time
zone a `ZoneInfo`, the weekly report's schedule a `Schedule`; callers never parse text.
Every problem becomes a `ConfigError` that names the file, the key and what was
expected, so an operator can fix it without reading a traceback.
"""

from __future__ import annotations

import datetime as dt
import os
import re
import tomllib
import types
import typing
from collections.abc import Callable
from dataclasses import MISSING, dataclass, field, fields, replace
from datetime import UTC, datetime, time, timedelta
from pathlib import Path
from typing import Any, Union, get_args, get_origin
from urllib.parse import urlsplit, urlunsplit
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from bot.domain.schedule import Schedule, ScheduleError, parse_clock, parse_duration, parse_when

TOKEN_ENV = "GRIDBOT_TOKEN"
DATABASE_URL_ENV = "GRIDBOT_DATABASE_URL"
OFFICIAL_BASE_URL = "https://api.telegram.org/bot"
OFFICIAL_BASE_FILE_URL = "https://api.telegram.org/file/bot"
SUPPORTED_LOCALES = ("zh-CN", "en")
LOG_LEVELS = ("DEBUG", "INFO", "WARNING", "ERROR", "CRITICAL")
LOG_FORMATS = ("text", "json")
_WEBHOOK_SECRET = re.compile(r"[A-Za-z0-9_-]{1,256}")


class ConfigError(Exception):
    """A configuration problem an operator can fix; the message is the whole story."""


class Secret:
    """A string that never shows itself in repr/str, so it cannot leak into logs."""

    __slots__ = ("_value",)

    def __init__(self, value: str) -> None:
        self._value = value

    def reveal(self) -> str:
        """The secret itself, for the one place that needs it (the Bot API client, the webhook
        check).
        """
        return self._value

    def __bool__(self) -> bool:
        return bool(self._value)

    def __repr__(self) -> str:
        return "Secret('***')" if self._value else "Secret('')"

    __str__ = __repr__

    def __eq__(self, other: object) -> bool:
        return isinstance(other, Secret) and other._value == self._value

    def __hash__(self) -> int:
        return hash(self._value)


@dataclass(frozen=True, slots=True)
class TelegramConfig:
    """[telegram]: the token, where the Bot API is, the optional webhook, and the pace limits."""

    token: Secret = field(default_factory=lambda: Secret(""))
    base_url: str = OFFICIAL_BASE_URL
    base_file_url: str = OFFICIAL_BASE_FILE_URL
    webhook_url: str | None = None
    webhook_listen: str = "127.0.0.1"
    webhook_port: int = 8443
    webhook_secret: Secret = field(default_factory=lambda: Secret(""))
    overall_max_rate: float = 30.0
    group_max_rate: float = 20.0
    max_retries: int = 3


@dataclass(frozen=True, slots=True)
class DatabaseConfig:
    """[database]: the SQLite file (its folder must exist: gridbot never creates folders), or a
    PostgreSQL url, which wins when set (several processes on one database).
    """

    path: str = "gridbot.db"
    url: str | None = None

    def where(self) -> str:
        """The database for an operator's message: the file, or the url without its password."""
        return redacted_url(self.url) if self.url else self.path


def redacted_url(url: str) -> str:
    """A database url with any password replaced by ***, fit for logs and error messages."""
    parts = urlsplit(url)
    if parts.password is None:
        return url
    netloc = parts.netloc.replace(f":{parts.password}@", ":***@", 1)
    return urlunsplit(parts._replace(netloc=netloc))


def check_database_url(where: str, url: str, key: str = "[database] url") -> None:
    """ConfigError, in one line without the password, unless `url` names a PostgreSQL database."""
    shown = redacted_url(url)
    expected = "expected postgresql://user@host/database"
    try:
        parts = urlsplit(url)
        parts.port  # noqa: B018 (a malformed port raises here)
    except ValueError:
        raise ConfigError(f"{where}: {key}: {expected}, got {shown!r}") from None
    if parts.scheme not in ("postgresql", "postgres"):
        raise ConfigError(
            f"{where}: {key}: {expected} (only PostgreSQL is supported; "
            f"SQLite is [database] path), got {shown!r}"
        )
    if not parts.hostname and "host=" not in parts.query:
        raise ConfigError(f"{where}: {key}: no host: {expected}, got {shown!r}")
    if not parts.path.strip("/"):
        raise ConfigError(f"{where}: {key}: no database name: {expected}, got {shown!r}")


DEFAULT_TIMEZONE = "Asia/Shanghai"
DEFAULT_WEEKLY = "每周一 09:00"
# (claim within, resolve within)
TimeLimits = tuple[timedelta, timedelta]


@dataclass(frozen=True, slots=True)
class BotConfig:
    """[bot]: the time zone chats and logs speak in, the default language, logging, and template
    overrides.
    """

    timezone: ZoneInfo = field(default_factory=lambda: ZoneInfo(DEFAULT_TIMEZONE))
    locale: str = "zh-CN"
    log_level: str = "INFO"
    log_format: str = "text"
    templates_dir: str | None = None
    concurrent_chats: int = 8


@dataclass(frozen=True, slots=True)
class RolesConfig:
    """[roles]: street staff, by Telegram user id; everyone else gets a role inside the bot."""

    staff: tuple[int, ...] = ()


@dataclass(frozen=True, slots=True)
class EscalationConfig:
    """[escalation]: duty chats per level set in the file; they override those set with /setduty."""

    # 0 means "not configured", so the example file can show every key.
    community: int = 0
    street: int = 0
    district: int = 0

    def duty_chat(self, level: str) -> int | None:
        """The chat id set in the file for `level` (community, street, district), or None."""
        chat_id = int(getattr(self, level))
        return chat_id or None


@dataclass(frozen=True, slots=True)
class IntakeConfig:
    """[intake]: how reports are acknowledged, the per-person rate limit, and the recogniser's extra
    words and model.
    """

    # "reply": a short reply with the ticket number and buttons; "reaction": only a ✍ reaction
    # on the resident's message (emergencies always get the full alert).
    acknowledge: str = "reply"
    max_tickets_per_hour: int = 10
    # Extra vocabulary, same structure as bot/domain/data/intake_vocabulary.toml.
    vocabulary: dict[str, Any] = field(default_factory=dict)
    # A model file written by `gridbot train-intake`; empty: the shipped model.
    model: str = ""


@dataclass(frozen=True, slots=True)
class SlaConfig:
    """[sla]: time limits to claim and resolve, per urgency and optionally per category, as (claim,
    resolve).
    """

    # In the file each urgency table holds `claim` and `resolve` durations ("10m", "2h",
    # "3d"); a table that sets one keeps the other's default. A `category.<code>` table
    # sets both for one category. Parsed by _build_sla.
    emergency: TimeLimits = (timedelta(minutes=10), timedelta(hours=2))
    high: TimeLimits = (timedelta(hours=1), timedelta(hours=24))
    normal: TimeLimits = (timedelta(hours=24), timedelta(hours=72))
    category: dict[str, TimeLimits] = field(default_factory=dict)


@dataclass(frozen=True, slots=True)
class VerificationConfig:
    """[verification]: how long a resident has to confirm a fix before it counts as confirmed."""

    timeout: timedelta = timedelta(hours=48)


@dataclass(frozen=True, slots=True)
class DigestConfig:
    """[digest]: the local time each grid's heads get the daily digest."""

    # dt.time: a field named `time` would shadow the type in its own annotation.
    time: dt.time = dt.time(8, 30)


def _default_weekly() -> Schedule:
    return _weekly_schedule("config", DEFAULT_WEEKLY, ZoneInfo(DEFAULT_TIMEZONE))


@dataclass(frozen=True, slots=True)
class ReportsConfig:
    """[reports]: when the weekly report goes to the street duty chat."""

    # When last week's figures and chart go to the [escalation] street duty chat: any
    # repeating schedule /notice accepts ("每周一 09:00", "every mon 09:00", "cron 0 9 * * 1"),
    # in [bot] timezone.
    weekly: Schedule = field(default_factory=_default_weekly)


@dataclass(frozen=True, slots=True)
class NoticesConfig:
    """[notices]: late runs after downtime, progress messages, and how many sends run at once."""

    # A run missed while the bot was down goes out late within `grace`, else is recorded
    # as missed. Durations as in [sla]: "30m", "1h".
    grace: timedelta = timedelta(hours=1)
    # How often the "发送中 120/186" message is edited during a long run.
    progress_every: timedelta = timedelta(seconds=5)
    # Messages in flight at once during a run (the rate limiter still paces them).
    parallel_sends: int = 8


@dataclass(frozen=True, slots=True)
class WebConfig:
    """[web]: the staff console served by the bot process (off by default)."""

    # The staff console (Telegram Mini App and web page), served by the bot process itself.
    enabled: bool = False
    listen: str = "127.0.0.1"
    # 0 picks a free port (tests); the console's address is then logged at start.
    port: int = 8080
    # The address people open, as seen from outside (a reverse proxy's https URL). A Mini
    # App button needs https; without public_url the console is reached at listen:port.
    public_url: str = ""


@dataclass(frozen=True, slots=True)
class Config:
    """The whole configuration, one typed section per TOML table, every value already parsed."""

    telegram: TelegramConfig = field(default_factory=TelegramConfig)
    database: DatabaseConfig = field(default_factory=DatabaseConfig)
    bot: BotConfig = field(default_factory=BotConfig)
    roles: RolesConfig = field(default_factory=RolesConfig)
    escalation: EscalationConfig = field(default_factory=EscalationConfig)
    intake: IntakeConfig = field(default_factory=IntakeConfig)
    sla: SlaConfig = field(default_factory=SlaConfig)
    verification: VerificationConfig = field(default_factory=VerificationConfig)
    digest: DigestConfig = field(default_factory=DigestConfig)
    notices: NoticesConfig = field(default_factory=NoticesConfig)
    reports: ReportsConfig = field(default_factory=ReportsConfig)
    web: WebConfig = field(default_factory=WebConfig)
    source: Path | None = None

    @property
    def staff_ids(self) -> frozenset[int]:
        """Street staff's Telegram ids, as a set for membership tests."""
        return frozenset(self.roles.staff)


_SECTIONS: dict[str, type] = {
    "telegram": TelegramConfig,
    "database": DatabaseConfig,
    "bot": BotConfig,
    "roles": RolesConfig,
    "escalation": EscalationConfig,
    "intake": IntakeConfig,
    "sla": SlaConfig,
    "verification": VerificationConfig,
    "digest": DigestConfig,
    "notices": NoticesConfig,
    "reports": ReportsConfig,
    "web": WebConfig,
}


def load_config(path: Path | str, *, env: typing.Mapping[str, str] | None = None) -> Config:
    """Read, validate and return the configuration; raise ConfigError on any problem."""
    path = Path(path)
    env = os.environ if env is None else env
    try:
        raw_bytes = path.read_bytes()
    except FileNotFoundError:
        raise ConfigError(
            f"{path}: file not found (write a commented one with `gridbot init {path}`, then "
            "edit it)"
        ) from None
    except OSError as exc:
        raise ConfigError(f"{path}: cannot read the file ({exc.strerror})") from None
    try:
        data = tomllib.loads(raw_bytes.decode("utf-8"))
    except UnicodeDecodeError:
        raise ConfigError(f"{path}: not UTF-8 text") from None
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(f"{path}: invalid TOML: {exc}") from None
    return config_from_mapping(data, source=path, env=env)


def config_from_mapping(
    data: typing.Mapping[str, Any],
    *,
    source: Path | None = None,
    env: typing.Mapping[str, str] | None = None,
) -> Config:
    """Build a Config from already-parsed TOML (tests, the demo); same checks and errors as
    load_config.
    """
    where = str(source) if source else "config"
    for name, value in data.items():
        if name not in _SECTIONS:
            known = ", ".join(f"[{s}]" for s in _SECTIONS)
            raise ConfigError(f"{where}: unknown table [{name}] (known tables: {known})")
        if not isinstance(value, dict):
            raise ConfigError(f"{where}: {name} must be a table ([{name}]), got {_kind(value)}")
    sections: dict[str, Any] = {}
    # In _SECTIONS' order, so [reports] weekly is read in the [bot] timezone.
    for name, section_type in _SECTIONS.items():
        if name == "sla":
            sections[name] = _build_sla(where, data.get(name, {}))
        elif name == "reports":
            sections[name] = _build_reports(where, data.get(name, {}), sections["bot"].timezone)
        else:
            sections[name] = _build_section(where, name, section_type, data.get(name, {}))
    config = Config(**sections, source=source)
    token = (env or {}).get(TOKEN_ENV)
    if token:
        config = _replace_section(config, "telegram", token=Secret(token.strip()))
    database_url = (env or {}).get(DATABASE_URL_ENV, "").strip() or config.database.url
    # An empty url (as the example file has it) means the SQLite file.
    config = _replace_section(config, "database", url=(database_url or "").strip() or None)
    _check_semantics(where, config)
    return config


def _replace_section(config: Config, section: str, **changes: Any) -> Config:
    return replace(config, **{section: replace(getattr(config, section), **changes)})


def _build_section(where: str, section: str, cls: type, table: dict[str, Any]) -> Any:
    hints = typing.get_type_hints(cls, globalns={**globals(), "Secret": Secret})
    allowed = {f.name: f for f in fields(cls)}
    values: dict[str, Any] = {}
    for key, value in table.items():
        if key not in allowed:
            known = ", ".join(allowed)
            raise ConfigError(f"{where}: [{section}] {key}: unknown key (known keys: {known})")
        values[key] = _coerce(where, f"[{section}] {key}", hints[key], value)
    for name, f in allowed.items():
        if name not in values and f.default is MISSING and f.default_factory is MISSING:
            raise ConfigError(f"{where}: [{section}] {name}: required")
    return cls(**values)


def _time_zone(where: str, key: str, text: str) -> ZoneInfo:
    try:
        return ZoneInfo(text)
    except (ZoneInfoNotFoundError, ValueError):
        raise ConfigError(
            f"{where}: {key}: unknown time zone {text!r} "
            '(expected an IANA name such as "Asia/Shanghai")'
        ) from None


def _time_of_day(where: str, key: str, text: str) -> time:
    try:
        return parse_clock(text)
    except ScheduleError:
        raise ConfigError(
            f'{where}: {key}: expected a local time such as "08:30", got {text!r}'
        ) from None


# Values written as strings in the file and held parsed: the parser for each type.
_PARSED: dict[Any, Callable[[str, str, Any], Any]] = {
    ZoneInfo: _time_zone,
    time: _time_of_day,
}


def _coerce(where: str, key: str, hint: Any, value: Any) -> Any:
    if hint is timedelta:
        return _duration(where, key, value)
    if hint in _PARSED:
        if not isinstance(value, str):
            raise ConfigError(f"{where}: {key}: expected a string, got {_kind(value)}")
        return _PARSED[hint](where, key, value)
    origin = get_origin(hint)
    if origin in (Union, types.UnionType):
        options = [a for a in get_args(hint) if a is not type(None)]
        # TOML has no null; an empty string is the conventional "unset" for optional keys.
        if value == "" and type(None) in get_args(hint):
            return None
        return _coerce(where, key, options[0], value)
    if origin is dict:
        if not isinstance(value, dict):
            raise ConfigError(f"{where}: {key}: expected a table, got {_kind(value)}")
        return value
    if hint is Secret:
        if not isinstance(value, str):
            raise ConfigError(f"{where}: {key}: expected a string, got {_kind(value)}")
        return Secret(value.strip())
    if origin is tuple:
        (item_type, _ellipsis) = get_args(hint)
        if not isinstance(value, list):
            raise ConfigError(
                f"{where}: {key}: expected a list of {_type_name(item_type)}, got {_kind(value)}"
            )
        return tuple(_coerce(where, f"{key}[{i}]", item_type, v) for i, v in enumerate(value))
    if hint is bool:
        if not isinstance(value, bool):
            raise ConfigError(f"{where}: {key}: expected true or false, got {_kind(value)}")
        return value
    if hint is int:
        if isinstance(value, bool) or not isinstance(value, int):
            raise ConfigError(f"{where}: {key}: expected an integer, got {_kind(value)}")
        return value
    if hint is float:
        if isinstance(value, bool) or not isinstance(value, (int, float)):
            raise ConfigError(f"{where}: {key}: expected a number, got {_kind(value)}")
        return float(value)
    if hint is str:
        if not isinstance(value, str):
            raise ConfigError(f"{where}: {key}: expected a string, got {_kind(value)}")
        return value
    raise AssertionError(f"unsupported config type {hint!r} for {key}")


def _check_semantics(where: str, config: Config) -> None:
    if config.bot.locale not in SUPPORTED_LOCALES:
        raise ConfigError(
            f"{where}: [bot] locale: expected one of {', '.join(SUPPORTED_LOCALES)}, "
            f"got {config.bot.locale!r}"
        )
    if config.bot.log_level.upper() not in LOG_LEVELS:
        raise ConfigError(
            f"{where}: [bot] log_level: expected one of {', '.join(LOG_LEVELS)}, "
            f"got {config.bot.log_level!r}"
        )
    if config.bot.log_format not in LOG_FORMATS:
        raise ConfigError(
            f"{where}: [bot] log_format: expected one of {', '.join(LOG_FORMATS)}, "
            f"got {config.bot.log_format!r}"
        )
    for key in ("base_url", "base_file_url", "webhook_url"):
        url = getattr(config.telegram, key)
        if url is not None and not url.startswith(("http://", "https://")):
            raise ConfigError(f"{where}: [telegram] {key}: expected an http(s) URL, got {url!r}")
    if config.web.public_url and not config.web.public_url.startswith(("http://", "https://")):
        raise ConfigError(
            f"{where}: [web] public_url: expected an http(s) URL, got {config.web.public_url!r}"
        )
    if not 0 <= config.web.port <= 65535:
        raise ConfigError(f"{where}: [web] port: expected 0–65535, got {config.web.port}")
    if config.telegram.webhook_url and not config.telegram.webhook_url.startswith("https://"):
        raise ConfigError(
            f"{where}: [telegram] webhook_url: Telegram delivers webhooks only over "
            f"HTTPS, got {config.telegram.webhook_url!r}"
        )
    secret = config.telegram.webhook_secret.reveal()
    if secret and not _WEBHOOK_SECRET.fullmatch(secret):
        # The secret is not echoed: it is a secret even when it is malformed.
        raise ConfigError(
            f"{where}: [telegram] webhook_secret: Telegram accepts 1-256 characters "
            "of A-Z, a-z, 0-9, _ and - only"
        )
    if not 0 < config.telegram.webhook_port < 65536:
        raise ConfigError(f"{where}: [telegram] webhook_port: expected a port 1-65535")
    if config.telegram.webhook_url and not config.telegram.webhook_secret:
        raise ConfigError(
            f"{where}: [telegram] webhook_secret: required when webhook_url is set "
            "(Telegram sends it back so the bot can reject forged updates)"
        )
    if config.telegram.overall_max_rate <= 0 or config.telegram.group_max_rate <= 0:
        raise ConfigError(f"{where}: [telegram] overall_max_rate/group_max_rate: must be > 0")
    if config.intake.acknowledge not in ("reply", "reaction"):
        raise ConfigError(
            f'{where}: [intake] acknowledge: expected "reply" or "reaction", '
            f"got {config.intake.acknowledge!r}"
        )
    if config.intake.max_tickets_per_hour < 1:
        raise ConfigError(f"{where}: [intake] max_tickets_per_hour: must be at least 1")
    if config.bot.concurrent_chats < 1:
        raise ConfigError(f"{where}: [bot] concurrent_chats: must be at least 1")
    if config.notices.parallel_sends < 1:
        raise ConfigError(f"{where}: [notices] parallel_sends: must be at least 1")
    if config.intake.vocabulary:
        from bot.domain.intake import Vocabulary, VocabularyError

        try:
            Vocabulary.default().merged_with(config.intake.vocabulary)
        except VocabularyError as exc:
            raise ConfigError(f"{where}: [intake] vocabulary: {exc}") from None
    if config.intake.model:
        from bot.domain.intake_model import IntakeModel, ModelError

        try:
            IntakeModel.load(Path(config.intake.model))
        except ModelError as exc:
            raise ConfigError(f"{where}: [intake] model: {exc}") from None
    if config.database.url is not None:
        check_database_url(where, config.database.url)
    elif not config.database.path:
        raise ConfigError(f"{where}: [database] path: must not be empty")


def _duration(where: str, key: str, value: Any) -> timedelta:
    if not isinstance(value, str):
        raise ConfigError(
            f'{where}: {key}: expected a duration string such as "10m", "2h" or '
            f'"3d", got {_kind(value)}'
        )
    try:
        return parse_duration(value)
    except ScheduleError:
        raise ConfigError(
            f'{where}: {key}: expected a duration such as "10m", "2h" or "3d", got {value!r}'
        ) from None


def _limits(where: str, key: str, table: Any, default: TimeLimits | None = None) -> TimeLimits:
    if not isinstance(table, dict):
        raise ConfigError(f"{where}: {key}: expected a table with claim and resolve")
    unknown = set(table) - {"claim", "resolve"}
    if unknown:
        raise ConfigError(
            f"{where}: {key} {sorted(unknown)[0]}: unknown key (known keys: claim, resolve)"
        )
    missing = {"claim", "resolve"} - set(table)
    if missing and default is None:
        raise ConfigError(f"{where}: {key} {sorted(missing)[0]}: required")
    claim = (
        _duration(where, f"{key} claim", table["claim"])
        if "claim" in table
        else default[0]
        if default
        else timedelta(0)
    )
    resolve = (
        _duration(where, f"{key} resolve", table["resolve"])
        if "resolve" in table
        else default[1]
        if default
        else timedelta(0)
    )
    if resolve < claim:
        raise ConfigError(f"{where}: {key}: resolve must not be shorter than claim")
    return claim, resolve


def _build_sla(where: str, table: dict[str, Any]) -> SlaConfig:
    """[sla]: an urgency table that sets only `claim` keeps the default `resolve`, and the
    other way round; a category table sets both.
    """
    defaults = SlaConfig()
    known = ("emergency", "high", "normal", "category")
    for key in table:
        if key not in known:
            raise ConfigError(f"{where}: [sla] {key}: unknown key (known keys: {', '.join(known)})")
    per_urgency = {
        name: _limits(where, f"[sla.{name}]", table[name], getattr(defaults, name))
        for name in known[:3]
        if name in table
    }
    categories = table.get("category", {})
    if not isinstance(categories, dict):
        raise ConfigError(f"{where}: [sla] category: expected a table, got {_kind(categories)}")
    per_category = {
        code: _limits(where, f"[sla.category.{code}]", limits)
        for code, limits in categories.items()
    }
    return replace(defaults, **per_urgency, category=per_category)


def _weekly_schedule(where: str, text: Any, tz: ZoneInfo) -> Schedule:
    schedule: Schedule | None = None
    rest = "?"
    if isinstance(text, str):
        try:
            schedule, rest = parse_when(text, now=datetime.now(UTC), tz=tz)
        except ScheduleError:
            schedule = None
    if schedule is None or not schedule.is_repeating or rest.strip():
        raise ConfigError(
            f"{where}: [reports] weekly: expected a repeating schedule such as "
            f'"每周一 09:00" or "every mon 09:00", got {text!r}'
        )
    return schedule


def _build_reports(where: str, table: dict[str, Any], tz: ZoneInfo) -> ReportsConfig:
    for key in table:
        if key != "weekly":
            raise ConfigError(f"{where}: [reports] {key}: unknown key (known keys: weekly)")
    return ReportsConfig(weekly=_weekly_schedule(where, table.get("weekly", DEFAULT_WEEKLY), tz))


def example_config_text() -> str:
    """The commented example configuration: shipped inside the wheel, or the checkout's."""
    packaged = Path(__file__).parent / "config.example.toml"
    source = (
        packaged
        if packaged.is_file()
        else Path(__file__).resolve().parent.parent / ("config.example.toml")
    )
    return source.read_text(encoding="utf-8")


def require_token(config: Config) -> str:
    """The token for a real run; ConfigError (without the token) when it is missing or malformed."""
    token = config.telegram.token.reveal()
    where = str(config.source) if config.source else "config"
    if not token:
        raise ConfigError(
            f"{where}: [telegram] token: missing (set it in the file or in ${TOKEN_ENV})"
        )
    head, sep, tail = token.partition(":")
    if not sep or not head.isdigit() or len(tail) < 10:
        raise ConfigError(
            f"{where}: [telegram] token: does not look like a BotFather token "
            "(expected digits, a colon, then a long secret)"
        )
    return token


def _kind(value: Any) -> str:
    if isinstance(value, bool):
        return f"a boolean ({str(value).lower()})"
    if isinstance(value, int):
        return f"an integer ({value})"
    if isinstance(value, float):
        return f"a number ({value})"
    if isinstance(value, str):
        return f"a string ({value!r})"
    if isinstance(value, list):
        return "a list"
    if isinstance(value, dict):
        return "a table"
    return type(value).__name__


def _type_name(hint: Any) -> str:
    return {int: "integers", str: "strings", float: "numbers", bool: "booleans"}.get(hint, "values")
