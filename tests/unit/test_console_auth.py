"""Who is at the console: Telegram's initData signature, login links, the session cookie."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from urllib.parse import parse_qsl, urlencode

import pytest

from bot.domain.clock import FakeClock
from bot.domain.console_auth import (
    INIT_DATA_MAX_AGE,
    LOGIN_LINK_LIFETIME,
    ConsoleUser,
    NotAuthenticated,
    read_session,
    session_key,
    sign_init_data,
    sign_session,
    validate_init_data,
)
from bot.services.console import ConsoleService
from bot.storage.database import Database
from bot.storage.unit_of_work import SqlStorage

TOKEN = "123456:ABC-real-looking-token"
NOW = datetime(2026, 12, 5, 9, 0, tzinfo=UTC)
USER = {"id": 2001, "first_name": "王", "language_code": "zh-hans"}


def init_data(*, auth_date: datetime = NOW, token: str = TOKEN, **extra: str) -> str:
    fields = {
        "auth_date": str(int(auth_date.timestamp())),
        "query_id": "AAE-x",
        "user": json.dumps(USER, ensure_ascii=False),
        **extra,
    }
    return sign_init_data(fields, token)


def test_good_init_data_names_the_user() -> None:
    user = validate_init_data(init_data(), TOKEN, NOW)
    assert user == ConsoleUser(2001, "zh-hans")


def test_the_documented_algorithm_by_hand() -> None:
    """Telegram's own recipe, written out independently of the module under test."""
    import hashlib
    import hmac

    fields = {
        "auth_date": str(int(NOW.timestamp())),
        "user": json.dumps(USER),
        "signature": "ed25519-sig-is-a-field-too",
    }
    check = "\n".join(f"{k}={v}" for k, v in sorted(fields.items()))
    secret = hmac.new(b"WebAppData", TOKEN.encode(), hashlib.sha256).digest()
    digest = hmac.new(secret, check.encode(), hashlib.sha256).hexdigest()
    assert validate_init_data(urlencode({**fields, "hash": digest}), TOKEN, NOW).telegram_id == 2001


@pytest.mark.parametrize("change", ["user", "auth_date", "add", "hash", "token"])
def test_tampered_init_data_is_refused(change: str) -> None:
    fields = dict(parse_qsl(init_data()))
    token = TOKEN
    if change == "user":
        fields["user"] = json.dumps({**USER, "id": 9001})  # claim to be staff
    elif change == "auth_date":
        fields["auth_date"] = str(int(NOW.timestamp()) + 60)
    elif change == "add":
        fields["start_param"] = "x"
    elif change == "hash":
        fields["hash"] = "0" * 64
    else:
        token = "654321:another-bot"
    with pytest.raises(NotAuthenticated):
        validate_init_data(urlencode(fields), token, NOW)


def test_expired_init_data_is_refused() -> None:
    old = init_data(auth_date=NOW - INIT_DATA_MAX_AGE - timedelta(seconds=1))
    with pytest.raises(NotAuthenticated, match="expired"):
        validate_init_data(old, TOKEN, NOW)
    assert validate_init_data(
        init_data(auth_date=NOW - INIT_DATA_MAX_AGE + timedelta(minutes=1)), TOKEN, NOW
    )
    with pytest.raises(NotAuthenticated, match="expired"):
        validate_init_data(init_data(auth_date=NOW + timedelta(hours=1)), TOKEN, NOW)


@pytest.mark.parametrize("raw", ["", "hash=abc", "user=%7B%7D&hash=", "a=1&a=2", "%%%"])
def test_malformed_init_data_is_refused(raw: str) -> None:
    with pytest.raises(NotAuthenticated):
        validate_init_data(raw, TOKEN, NOW)


def test_session_cookie_round_trip_forgery_and_expiry() -> None:
    key = session_key(TOKEN)
    value = sign_session(key, ConsoleUser(2001, "en"), NOW + timedelta(hours=1))
    assert read_session(key, value, NOW) == ConsoleUser(2001, "en")
    forged = value.replace("2001", "9001", 1)
    with pytest.raises(NotAuthenticated):
        read_session(key, forged, NOW)
    with pytest.raises(NotAuthenticated):
        read_session(session_key("654321:other"), value, NOW)
    with pytest.raises(NotAuthenticated, match="expired"):
        read_session(key, value, NOW + timedelta(hours=1))
    with pytest.raises(NotAuthenticated):
        read_session(key, "garbage", NOW)


async def _console(database: dict[str, str], clock: FakeClock) -> tuple[ConsoleService, Database]:
    from bot.app import build_services
    from bot.config import config_from_mapping

    config = config_from_mapping({"database": database})
    services = await build_services(config, clock)
    storage = services.storage
    assert isinstance(storage, SqlStorage)
    return services.console, storage.db


async def test_a_login_link_works_once_and_only_in_time(database: dict[str, str]) -> None:
    clock = FakeClock(NOW)
    console, db = await _console(database, clock)
    try:
        secret = await console.issue_login_link(2001)
        assert await console.use_login_link(secret) == 2001
        assert await console.use_login_link(secret) is None  # used twice
        late = await console.issue_login_link(2001)
        clock.advance(LOGIN_LINK_LIFETIME + timedelta(seconds=1))
        assert await console.use_login_link(late) is None  # expired
        assert await console.use_login_link("forged-" + secret[7:]) is None  # forged
        assert await console.use_login_link("") is None
        stored = await db.fetchall("SELECT secret_hash FROM console_logins")
        assert all(secret not in row[0] for row in stored)  # only hashes are kept
    finally:
        await db.close()
