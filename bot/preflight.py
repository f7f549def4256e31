"""What `gridbot run` needs before it starts, checked the same way by `gridbot check-config`.

``check_local`` refuses what a real run would refuse without asking anyone: no token or
a malformed one, a templates folder or a database folder that does not exist. Both
commands call it, so "check-config says OK, then run fails" cannot happen for these.

``probe`` asks the configured Bot API once and tells three failures apart, each in one
line: nothing answers (``BotApiUnreachable``), something answers that is not a Bot API
(``NotABotApi``: a wrong ``base_url``), or the Bot API refuses the token
(``TokenRefused``). ``wait_for_bot_api`` keeps probing with backoff while the API cannot
be reached, logging one line when the trouble starts and one when it ends.

``online_findings`` is `check-config --online`: getMe, privacy mode, the webhook, and
every configured duty chat (reachable, the bot a member).
"""

from __future__ import annotations

import asyncio
import logging
import os
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx

from bot.config import Config, ConfigError, require_token

log = logging.getLogger(__name__)

PROBE_TIMEOUT_SECONDS = 10.0
FIRST_RETRY_SECONDS = 1.0
MAX_RETRY_SECONDS = 60.0
DUTY_LEVELS = ("community", "street", "district")


def check_local(config: Config) -> str:
    """The token for a real run; ConfigError naming the key for anything run would refuse."""
    where = str(config.source) if config.source else "config"
    token = require_token(config)
    templates = config.bot.templates_dir
    if templates and not Path(templates).is_dir():
        raise ConfigError(f"{where}: [bot] templates_dir: {templates!r} is not a folder")
    if config.database.url:
        return token  # the url's form was checked with the config; the server is asked at start
    database = Path(config.database.path)
    if database.is_dir():
        raise ConfigError(
            f"{where}: [database] path: {str(database)!r} is a folder, expected a file name"
        )
    folder = database.parent
    if not folder.is_dir():
        raise ConfigError(
            f"{where}: [database] path: the folder {str(folder)!r} does not exist "
            "(create it first; gridbot does not guess where data should live)"
        )
    if not os.access(folder, os.W_OK) or (database.exists() and not os.access(database, os.W_OK)):
        raise ConfigError(f"{where}: [database] path: {str(database)!r} is not writable")
    return token


class BotApiProblem(Exception):
    """The Bot API could not be used; the message is one line for an operator."""


class BotApiUnreachable(BotApiProblem):
    """Nothing answered (refused, timed out, DNS) or the server failed (5xx, 429)."""


class NotABotApi(BotApiProblem):
    """Something answered, but not the way a Telegram Bot API does: check base_url."""


class TokenRefused(BotApiProblem):
    """A Bot API answered and refused the token."""


def api_url(base_url: str, token: str, method: str) -> str:
    """The method's URL as python-telegram-bot builds it: `{token}` in base_url, or appended."""
    base = base_url.format(token=token) if "{token}" in base_url else base_url + token
    return f"{base}/{method}"


def _where(base_url: str) -> str:
    """The API's address without any token in it, for messages."""
    return base_url.split("{token}")[0].rstrip("/")


async def probe(
    config: Config, token: str, *, client: httpx.AsyncClient | None = None
) -> dict[str, Any]:
    """`getMe` through the configured base_url; the bot's user object, or a BotApiProblem."""
    where = _where(config.telegram.base_url)
    own_client = client is None
    client = client or httpx.AsyncClient(timeout=PROBE_TIMEOUT_SECONDS)
    try:
        response = await client.post(api_url(config.telegram.base_url, token, "getMe"))
    except httpx.TimeoutException:
        raise BotApiUnreachable(
            f"{where}: no answer within {PROBE_TIMEOUT_SECONDS:.0f} s"
        ) from None
    except httpx.TransportError as exc:
        raise BotApiUnreachable(f"{where}: {_transport_reason(exc)}") from None
    finally:
        if own_client:
            await client.aclose()
    try:
        body = response.json()
    except ValueError:
        body = None
    if not isinstance(body, dict) or "ok" not in body:
        if response.status_code in (502, 503, 504):
            # A proxy in front of the Bot API that cannot reach it.
            raise BotApiUnreachable(
                f"{where}: the gateway could not reach it (HTTP {response.status_code})"
            )
        kind = response.headers.get("content-type", "no content type").split(";")[0]
        raise NotABotApi(
            f"{where} does not answer like a Telegram Bot API (HTTP "
            f"{response.status_code}, {kind}); check [telegram] base_url"
        )
    if body.get("ok") is True and isinstance(body.get("result"), dict):
        return dict(body["result"])
    code = body.get("error_code")
    if code in (401, 404):
        raise TokenRefused(
            "Telegram refused the bot token (check [telegram] token or $GRIDBOT_TOKEN)"
        )
    if code == 429 or (isinstance(code, int) and code >= 500):
        raise BotApiUnreachable(f"{where}: {body.get('description', 'busy')} (HTTP {code})")
    raise NotABotApi(f"{where} answered getMe with an error: {body.get('description', code)}")


def _transport_reason(exc: httpx.TransportError) -> str:
    text = str(exc) or type(exc).__name__
    if isinstance(exc, httpx.ConnectError):
        if "Name or service not known" in text or "nodename nor servname" in text:
            return "the host name does not resolve"
        return f"cannot connect ({text.splitlines()[0][:100]})"
    return text.splitlines()[0][:120]


async def wait_for_bot_api(
    config: Config,
    token: str,
    *,
    sleep: Callable[[float], Awaitable[Any]] = asyncio.sleep,
    first_delay: float = FIRST_RETRY_SECONDS,
    max_delay: float = MAX_RETRY_SECONDS,
) -> dict[str, Any]:
    """Probe until the Bot API answers; TokenRefused is raised at once, never retried.

    While the API is unreachable or not a Bot API, one WARNING says so with the retry
    delay, later attempts log at DEBUG only, and one INFO line says when it answered.
    """
    delay = first_delay
    failing_since: str | None = None
    async with httpx.AsyncClient(timeout=PROBE_TIMEOUT_SECONDS) as client:
        while True:
            try:
                me = await probe(config, token, client=client)
            except (BotApiUnreachable, NotABotApi) as exc:
                if failing_since is None:
                    failing_since = str(exc)
                    log.warning(
                        "%s; retrying in %.0f s, backing off to every %.0f s", exc, delay, max_delay
                    )
                else:
                    log.debug("%s; retrying in %.0f s", exc, delay)
                await sleep(delay)
                delay = min(delay * 2, max_delay)
                continue
            if failing_since is not None:
                log.info("Bot API answered at %s; starting", _where(config.telegram.base_url))
            return me


@dataclass(frozen=True, slots=True)
class Finding:
    """One line of `check-config --online`: ok, warn (works, but look) or fail."""

    level: str
    text: str


async def online_findings(config: Config, token: str) -> list[Finding]:
    """Ask Telegram what a run depends on. A failing probe is the only finding then."""
    from telegram import Bot
    from telegram.error import TelegramError

    try:
        me = await probe(config, token)
    except BotApiProblem as exc:
        return [Finding("fail", str(exc))]
    findings = [
        Finding(
            "ok",
            f"bot @{me.get('username')} (id {me.get('id')}) at {_where(config.telegram.base_url)}",
        )
    ]
    if me.get("can_read_all_group_messages"):
        findings.append(Finding("ok", "privacy mode is off: the bot reads every group message"))
    else:
        findings.append(
            Finding(
                "warn",
                "privacy mode is on: in groups where the bot is not an "
                "admin it sees only commands (BotFather /setprivacy → "
                "Disable, then remove and re-add the bot)",
            )
        )
    bot = Bot(token, base_url=config.telegram.base_url, base_file_url=config.telegram.base_file_url)
    try:
        async with bot:
            findings.append(await _webhook_finding(bot, config))
            stored = _stored_duty_chats(config)
            for level in DUTY_LEVELS:
                chat_id = config.escalation.duty_chat(level) or stored.get(level)
                if chat_id is not None:
                    findings.append(await _duty_chat_finding(bot, level, chat_id))
    except TelegramError as exc:
        findings.append(Finding("fail", f"Telegram said: {exc.message}"))
    return findings


def _stored_duty_chats(config: Config) -> dict[str, int]:
    """Duty chats staff set with /setduty, read from the database without changing it."""
    import sqlite3

    if config.database.url:
        return {}  # read at start instead: asking a server here would need a connection pool
    path = Path(config.database.path)
    if not path.is_file():
        return {}
    try:
        connection = sqlite3.connect(f"{path.resolve().as_uri()}?mode=ro", uri=True)
        try:
            rows = connection.execute("SELECT level, chat_id FROM duty_chats").fetchall()
        finally:
            connection.close()
    except sqlite3.Error:  # an older schema, before /setduty existed
        return {}
    return {str(level): int(chat_id) for level, chat_id in rows}


async def _webhook_finding(bot: Any, config: Config) -> Finding:
    info = await bot.get_webhook_info()
    wanted = config.telegram.webhook_url
    trouble = f"; last error: {info.last_error_message}" if info.last_error_message else ""
    if wanted:
        if info.url == wanted:
            return Finding("warn" if trouble else "ok", f"webhook set to {wanted}{trouble}")
        return Finding(
            "ok", f"webhook will be set to {wanted} at start (now: {info.url or 'none'})"
        )
    if info.url:
        return Finding("warn", f"a webhook is set ({info.url}); run long-polls and removes it")
    return Finding("ok", f"long polling; {info.pending_update_count} updates waiting")


async def _duty_chat_finding(bot: Any, level: str, chat_id: int) -> Finding:
    from telegram.error import TelegramError

    try:
        chat = await bot.get_chat(chat_id)
        member = await bot.get_chat_member(chat_id, bot.id)
    except TelegramError as exc:
        return Finding("fail", f"{level} duty chat {chat_id}: {exc.message}")
    title = chat.title or chat_id
    if member.status in ("member", "administrator", "creator"):
        return Finding(
            "ok", f"{level} duty chat {title!s} ({chat_id}): the bot is a {member.status}"
        )
    return Finding(
        "fail",
        f"{level} duty chat {chat_id} ({title!s}): the bot is not a "
        f"member ({member.status}); add it to the chat",
    )
