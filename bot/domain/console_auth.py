"""Who is at the staff console: Telegram Mini App initData and the console's session cookie.

Pure: the bot token and the moment come in as arguments. initData is checked exactly as
Telegram documents it (core.telegram.org/bots/webapps, "Validating data received via the
Mini App"): the data-check-string is every received field except `hash`, sorted by key,
as `key=value` lines; the secret key is HMAC-SHA256 of the bot token keyed with
"WebAppData"; the hash is HMAC-SHA256 of the data-check-string with that secret key.
"""

from __future__ import annotations

import hashlib
import hmac
import json
from dataclasses import dataclass
from datetime import datetime, timedelta
from urllib.parse import parse_qsl, urlencode

# How old initData may be. Telegram signs it when the Mini App opens; the page sends it at
# once, so a day is generous and still keeps a leaked copy from working for long.
INIT_DATA_MAX_AGE = timedelta(hours=24)
# Clocks differ a little; initData from the future by more than this is refused.
CLOCK_SKEW = timedelta(minutes=5)
# A login link works once, for this long after /console sent it.
LOGIN_LINK_LIFETIME = timedelta(minutes=10)
SESSION_LIFETIME = timedelta(hours=12)


class NotAuthenticated(Exception):
    """The request does not prove who it comes from (tampered, expired, malformed)."""


@dataclass(frozen=True, slots=True)
class ConsoleUser:
    """Who a console session or a Mini App login belongs to, and their Telegram language."""

    telegram_id: int
    language_code: str | None = None


def _hmac(key: bytes, message: str | bytes) -> bytes:
    data = message.encode() if isinstance(message, str) else message
    return hmac.new(key, data, hashlib.sha256).digest()


def _init_data_hash(fields: dict[str, str], bot_token: str) -> str:
    check = "\n".join(f"{k}={v}" for k, v in sorted(fields.items()))
    return hmac.new(_hmac(b"WebAppData", bot_token), check.encode(), hashlib.sha256).hexdigest()


def sign_init_data(fields: dict[str, str], bot_token: str) -> str:
    """`initData` as Telegram would send it (tests, the demo): the fields and their hash."""
    return urlencode({**fields, "hash": _init_data_hash(fields, bot_token)})


def validate_init_data(
    init_data: str, bot_token: str, now: datetime, max_age: timedelta = INIT_DATA_MAX_AGE
) -> ConsoleUser:
    """The Telegram user a Mini App's initData speaks for, or NotAuthenticated."""
    try:
        pairs = parse_qsl(init_data, keep_blank_values=True, strict_parsing=True)
    except ValueError:
        raise NotAuthenticated("malformed initData") from None
    fields = dict(pairs)
    if len(fields) != len(pairs):
        raise NotAuthenticated("a field appears twice")
    received = fields.pop("hash", "")
    if not hmac.compare_digest(_init_data_hash(fields, bot_token), received):
        raise NotAuthenticated("initData signature does not match")
    try:
        signed_at = int(fields["auth_date"])
        user = json.loads(fields["user"])
        telegram_id = int(user["id"])
    except (KeyError, ValueError, TypeError):
        raise NotAuthenticated("initData without auth_date or user") from None
    age = now.timestamp() - signed_at
    if age > max_age.total_seconds() or age < -CLOCK_SKEW.total_seconds():
        raise NotAuthenticated("initData expired")
    language = user.get("language_code")
    return ConsoleUser(telegram_id, language if isinstance(language, str) else None)


def login_secret_hash(secret: str) -> str:
    """What the database keeps of a login link's secret (never the secret itself)."""
    return hashlib.sha256(secret.encode()).hexdigest()


def session_key(bot_token: str) -> bytes:
    """The cookie signing key: derived from the token, so rotating the token logs everyone out."""
    return _hmac(b"gridbot console session", bot_token)


def sign_session(key: bytes, user: ConsoleUser, expires_at: datetime) -> str:
    """A session cookie's value: who, their language, until when, and a signature."""
    body = f"{user.telegram_id}|{user.language_code or ''}|{int(expires_at.timestamp())}"
    return f"{body}|{_hmac(key, body).hex()}"


def read_session(key: bytes, value: str, now: datetime) -> ConsoleUser:
    """The user a signed session cookie names; NotAuthenticated if it is forged, malformed or
    expired.
    """
    body, _sep, signature = value.rpartition("|")
    if not hmac.compare_digest(_hmac(key, body).hex(), signature):
        raise NotAuthenticated("session signature does not match")
    try:
        raw_id, language, raw_expiry = body.split("|")
        telegram_id, expires = int(raw_id), int(raw_expiry)
    except ValueError:
        raise NotAuthenticated("malformed session") from None
    if now.timestamp() >= expires:
        raise NotAuthenticated("session expired")
    return ConsoleUser(telegram_id, language or None)
