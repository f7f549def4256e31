"""Text over Telegram's 4,096 characters goes out as several valid messages, never an error."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from bot.emulator.text import parse_html
from bot.messenger import MAX_MESSAGE_CHARS, split_message

LINE = '🟢 <b>G{n:02d}</b> 幸福里第{n}网格 · <a href="tg://user?id=1">王网格长</a> &amp; 李'


def test_short_text_is_one_message() -> None:
    assert split_message("<b>你好</b>") == ["<b>你好</b>"]


def test_a_long_list_is_cut_between_lines_each_part_valid() -> None:
    text = "<b>网格列表</b>\n" + "\n".join(LINE.format(n=n) for n in range(300))
    parts = split_message(text)
    assert len(parts) > 1
    words = []
    for part in parts:
        plain, _entities = parse_html(part)  # raises where Telegram would refuse
        assert len(plain) <= MAX_MESSAGE_CHARS
        words.append(plain)
    assert "\n".join(words) == parse_html(text)[0]


def test_one_huge_formatted_stretch_loses_formatting_but_not_words() -> None:
    text = "<b>" + "字" * 10_000 + "\n" + "&lt;" * 10 + "</b>"
    parts = split_message(text)
    assert all(len(parse_html(p)[0]) <= MAX_MESSAGE_CHARS for p in parts)
    assert "".join(parse_html(p)[0] for p in parts).replace("\n", "") == "字" * 10_000 + "<" * 10


@settings(max_examples=60, deadline=None)
@given(
    st.lists(
        st.sampled_from(
            [
                LINE.format(n=7),
                "<i>注意\n停水</i>",
                "x" * 900,
                "&amp;",
                "<b>" + "长" * 5000 + "</b>",
                "",
            ]
        ),
        max_size=30,
    )
)
def test_any_split_is_valid_telegram_html(lines: list[str]) -> None:
    text = "\n".join(lines)
    for part in split_message(text):
        plain, _entities = parse_html(part)
        assert len(plain) <= MAX_MESSAGE_CHARS


@pytest.mark.parametrize("size", [4096, 4097])
def test_right_at_the_limit(size: int) -> None:
    parts = split_message("a" * size)
    assert [len(p) for p in parts] == ([4096] if size == 4096 else [4096, 1])
