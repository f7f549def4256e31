"""Typed callback data: packed within Telegram's 64 bytes, parsed strictly, prefixes unique."""

from __future__ import annotations

from dataclasses import dataclass

import pytest

from handlers import BUTTONS
from handlers.buttons import Button, ButtonTable, CallbackData
from handlers.cards import CardAction, CardPress, VerifyAnswer, VerifyPress
from handlers.staff import BindAnswer, BindPress


def test_packed_data_reads_back_as_the_same_value() -> None:
    for data in (
        CardPress(CardAction.CLAIM, 42),
        VerifyPress(7, 2, VerifyAnswer.SCORE_4),
        BindPress(BindAnswer.CANCEL, 3),
    ):
        assert type(data).unpack(data.pack()) == data
    assert CardPress(CardAction.RESOLVE, 5).pack() == "k:resolve:5"


@pytest.mark.parametrize(
    "raw",
    [
        "k:claim",
        "k:claim:1:2",
        "k:delete:1",
        "k:claim:abc",
        "k:claim:",
        "k:claim:1.5",
        "k:claim:１",
        "k:claim:" + "9" * 40,
        "v:1:1:9",
        "v:1:1:",
        "x:claim:1",
    ],
)
def test_anything_else_is_refused(raw: str) -> None:
    parsed = ButtonTable(BUTTONS).parse(raw)
    assert parsed is None


def test_data_over_64_bytes_cannot_be_packed() -> None:
    @dataclass(frozen=True, slots=True)
    class Long(CallbackData, prefix="long"):
        text: str

    assert Long("a" * 59).pack()
    with pytest.raises(ValueError):
        Long("a" * 60).pack()
    with pytest.raises(ValueError):
        Long("a:b").pack()


def test_every_prefix_is_declared_once() -> None:
    prefixes = [b.data.prefix for b in BUTTONS]
    assert len(prefixes) == len(set(prefixes))

    async def nothing(_press: object) -> None:
        return None

    with pytest.raises(ValueError):
        ButtonTable([*BUTTONS, Button(CardPress, nothing, BUTTONS[0].audience)])


def test_every_button_handler_has_a_docstring() -> None:
    assert all(b.callback.__doc__ for b in BUTTONS)
