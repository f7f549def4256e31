"""Reading Bot API call parameters the way Telegram does.

PTB sends form fields, so numbers and booleans arrive as strings and nested objects as JSON
text, while a test calling :meth:`~bot.emulator.world.World.call` may pass them decoded;
both read the same here.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any

from bot.emulator.records import bad_request


def loose_int(value: Any) -> int | None:
    """An int, or a string of one; anything else (bools included) is None."""
    if isinstance(value, bool):
        return None
    if isinstance(value, int):
        return value
    if isinstance(value, str):
        try:
            return int(value)
        except ValueError:
            return None
    return None


def int_param(params: Mapping[str, Any], name: str, *, required: bool = True) -> int | None:
    """An integer parameter; Telegram's 400 when it is missing (if required) or not a number."""
    value = params.get(name)
    if value is None or value == "":
        if required:
            raise bad_request(f"{name} is empty")
        return None
    number = loose_int(value)
    if number is None:
        raise bad_request(f"invalid {name} specified")
    return number


def required_int(params: Mapping[str, Any], name: str) -> int:
    """A required integer parameter."""
    value = int_param(params, name)
    assert value is not None
    return value


def bool_param(params: Mapping[str, Any], name: str) -> bool:
    """A boolean parameter; form fields say ``true`` or ``1``."""
    value = params.get(name)
    if isinstance(value, str):
        return value.lower() in ("true", "1")
    return bool(value)


def json_param(params: Mapping[str, Any], name: str) -> Any:
    """A parameter that travels as a JSON string, whether or not it was decoded already."""
    value = params.get(name)
    if isinstance(value, str):
        try:
            return json.loads(value)
        except ValueError as exc:
            raise bad_request(f"can't parse {name} JSON object") from exc
    return value
