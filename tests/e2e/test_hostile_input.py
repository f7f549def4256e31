"""Issue #7: hostile and awkward input through the real bot, and what must never leak.

The emulator answers 400 to malformed HTML, like Telegram, so a reply that arrives proves
the text was escaped.
"""

from __future__ import annotations

import logging
from collections.abc import Iterator

import pytest

from bot.logging_setup import configure_logging
from bot.offline import TOKEN, OfflineBot
from tests.e2e.conftest import HEAD, NEIGHBOUR, OTHER_HEAD, RESIDENT, STAFF, bound_grid
from tests.e2e.test_loop import reported

PHONE = "13812345678"
MASKED = "138****5678"

HOSTILE = [
    "3栋楼道灯坏了" + "好" * (4096 - len("/report 3栋楼道灯坏了")),  # a message at Telegram's limit
    "3栋楼道灯坏了\x07\x1b[31m\x0b\x0c 控制字符",
    "3栋\u202e楼道灯坏了\u200f\u202c 方向标记",
    "3栋楼道灯坏了 👨\u200d👩\u200d👧 零\u200b宽\ufeff字符",
    '3栋<b>楼道灯</b>坏了 &amp; </a> <a href="x"> &lt;script&gt; <i',
    "3栋楼道灯坏了 {{ grid.name }} {% if %} %s {0}",
]


async def ticket_text(bot: OfflineBot, ticket_id: int) -> str:
    row = await bot.db.fetchone("SELECT text FROM tickets WHERE id = ?", (ticket_id,))
    assert row is not None
    return str(row[0])


@pytest.mark.parametrize("text", HOSTILE, ids=["4096", "control", "rtl", "zwj", "html", "jinja"])
async def test_a_hostile_report_renders_and_is_stored_intact(bot: OfflineBot, text: str) -> None:
    chat = await bound_grid(bot)
    assert len("/report " + text) <= 4096
    reply = await bot.says(chat, RESIDENT, "/report " + text)
    assert "#1" in reply.text_in(chat), reply.texts
    assert await ticket_text(bot, 1) == text
    status = await bot.says(chat, RESIDENT, "/status 1")
    assert "#1" in status.text_in(chat)
    listing = await bot.says(chat, HEAD, "/open")
    assert "#1" in listing.text_in(chat)


async def test_phone_numbers_are_masked_in_group_replies(bot: OfflineBot) -> None:
    chat = await bound_grid(bot)
    bot.emulator.private_chat_started(HEAD)
    ack = await bot.says(chat, RESIDENT, f"3栋楼道灯坏了 联系我{PHONE}")
    alert = await bot.says(chat, NEIGHBOUR, f"5栋楼道着火了 冒烟了 快打{PHONE}")
    status = await bot.says(chat, RESIDENT, "/status 1")
    listing = await bot.says(chat, HEAD, "/open")
    for exchange in (ack, alert, status, listing):
        text = exchange.text_in(chat)
        assert text and PHONE not in text
    assert MASKED in status.text_in(chat) and MASKED in alert.text_in(chat)
    assert await ticket_text(bot, 1) == f"3栋楼道灯坏了 联系我{PHONE}"  # stored whole


@pytest.fixture
def production_logging(caplog: pytest.LogCaptureFixture) -> Iterator[pytest.LogCaptureFixture]:
    """Logging as `gridbot run` sets it up (token redacted), at DEBUG everywhere; caplog
    sees each record after the production handler."""
    root = logging.getLogger()
    saved = (list(root.handlers), root.level, logging.getLogger("httpx").level)
    configure_logging("DEBUG", [TOKEN])
    logging.getLogger("httpx").setLevel(logging.DEBUG)
    root.addHandler(caplog.handler)
    try:
        yield caplog
    finally:
        for handler in list(root.handlers):
            root.removeHandler(handler)
        for handler in saved[0]:
            root.addHandler(handler)
        root.setLevel(saved[1])
        logging.getLogger("httpx").setLevel(saved[2])


async def test_the_token_never_appears_in_logs_or_exports(
    bot: OfflineBot,
    production_logging: pytest.LogCaptureFixture,
    capsys: pytest.CaptureFixture[str],
) -> None:
    chat = await bound_grid(bot)
    await reported(bot, chat)
    await bot.says(chat, HEAD, "/claim 1")
    await bot.says(chat, HEAD, f"/note 1 {TOKEN}")  # even when someone pastes it
    await bot.says(chat, RESIDENT, "/claim 1")
    export = await bot.says_privately(STAFF, "/export today all")
    [document] = [m for m in export.in_chat(STAFF) if "document" in m]
    content = bot.emulator.file_content(document["document"]["file_id"]).decode("utf-8-sig")
    assert "#1" in export.text_in(STAFF) or "1" in content
    assert TOKEN not in content
    assert production_logging.records, "the scenario logged nothing: the capture is broken"
    for record in production_logging.records:
        assert TOKEN not in record.getMessage(), record.name
        assert TOKEN not in (record.exc_text or "")
    assert TOKEN not in capsys.readouterr().err


async def test_a_head_cannot_read_another_grids_tickets(bot: OfflineBot) -> None:
    g01 = await bound_grid(bot)
    g02 = await bound_grid(bot, "G02", "第二网格", head=OTHER_HEAD)
    await reported(bot, g01, "3栋楼道灯坏了好几天了")
    await reported(bot, g02, "9栋门口下水道堵了 臭死了", who=NEIGHBOUR)
    for chat, text in (
        (g01, "/open"),
        (HEAD, "/open"),
        (g01, "/open all"),
        (HEAD, "/status 2"),
        (g01, "/status 2"),
        (HEAD, "/stats today G02"),
        (HEAD, "/stats today all"),
        (HEAD, "/export today G02"),
        (HEAD, "/export today all"),
    ):
        exchange = (
            await bot.says_privately(HEAD, text)
            if chat == HEAD
            else await bot.says(chat, HEAD, text)
        )
        seen = exchange.text_in(chat)
        # The refusal may repeat the number asked about, never the ticket itself.
        assert "下水道" not in seen and "9栋" not in seen, (text, seen)
        assert "G02" not in seen.replace(text, ""), (text, seen)
        for message in exchange.in_chat(chat):
            if "document" in message:
                content = bot.emulator.file_content(message["document"]["file_id"])
                assert "G02" not in content.decode("utf-8-sig"), text


async def test_private_reports_are_never_shown_in_the_group(bot: OfflineBot) -> None:
    chat = await bound_grid(bot)
    await bot.says(chat, RESIDENT, "大家好")  # known in one grid: private reports go there
    private = await bot.says_privately(RESIDENT, "我家隔壁天天半夜吵架 很担心")
    assert "#1" in private.text_in(RESIDENT)
    row = await bot.db.fetchone("SELECT private FROM tickets WHERE id = 1")
    assert row is not None and row[0] == 1
    for who, text in (
        (RESIDENT, "/my"),
        (RESIDENT, "/status 1"),
        (HEAD, "/open"),
        (STAFF, "/open"),
    ):
        seen = (await bot.says(chat, who, text)).text_in(chat)
        assert "吵架" not in seen and "隔壁" not in seen, (text, seen)
        assert text == "/status 1" or "#1" not in seen, (text, seen)  # that one refuses
    mine = await bot.says_privately(RESIDENT, "/my")
    assert "#1" in mine.text_in(RESIDENT)
