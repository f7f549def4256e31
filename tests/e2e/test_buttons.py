"""Every press is answered; button data is only honoured on the message it sits on."""

from __future__ import annotations

from bot.offline import OfflineBot
from tests.e2e.conftest import HEAD, RESIDENT, STAFF, bound_grid

STALE = "按钮已失效"


async def test_data_no_button_knows_is_answered_and_changes_nothing(bot: OfflineBot) -> None:
    chat = await bound_grid(bot)
    ack = (await bot.says(chat, RESIDENT, "3栋电梯坏了 困人了")).in_chat(chat)[0]
    before = bot.emulator.message(chat, ack["message_id"])
    for data in ("zz:1", "", "k:claim:99999999999999999999", "k:claim:１", "t:nr", "x" * 64):
        pressed = await bot.presses(chat, ack["message_id"], HEAD, data, check=False)
        assert pressed.answer is not None, data  # no spinner left turning
        assert STALE in pressed.answer["text"], data
    assert bot.emulator.message(chat, ack["message_id"]) == before
    ticket = await bot.runtime.services.loop.ticket(1)
    assert ticket is not None and ticket.status.value == "open"


async def test_bind_no_of_another_move_pressed_under_a_card_changes_nothing(
    bot: OfflineBot,
) -> None:
    old_chat = await bound_grid(bot, head=HEAD)
    new_chat = await bot.group("幸福里新群", added_by=STAFF)
    [asking] = (await bot.says(new_chat, STAFF, "/bind G01")).in_chat(new_chat)
    cancel = asking["reply_markup"]["inline_keyboard"][0][1]["callback_data"]
    assert cancel.startswith("bind:no:")
    ack = (await bot.says(old_chat, RESIDENT, "3栋电梯坏了 困人了")).in_chat(old_chat)[0]
    card_before = bot.emulator.message(old_chat, ack["message_id"])
    # Staff press the move's [取消] data under the unrelated ticket card.
    forged = await bot.presses(old_chat, ack["message_id"], STAFF, cancel, check=False)
    assert forged.answer is not None and STALE in forged.answer["text"]
    assert bot.emulator.message(old_chat, ack["message_id"]) == card_before
    # The move question itself still works: its own [取消] cancels it, once.
    done = await bot.presses(new_chat, asking["message_id"], STAFF, cancel)
    assert done.answer is not None
    assert "已取消" in bot.emulator.message(new_chat, asking["message_id"])["text"]
    again = await bot.presses(new_chat, asking["message_id"], STAFF, cancel, check=False)
    assert again.answer is not None and again.answer.get("text")


async def test_a_button_removed_by_an_edit_is_stale(bot: OfflineBot) -> None:
    chat = await bound_grid(bot)
    ack = (await bot.says(chat, RESIDENT, "3栋电梯坏了 困人了")).in_chat(chat)[0]
    claim = next(
        b["callback_data"]
        for row in ack["reply_markup"]["inline_keyboard"]
        for b in row
        if b["callback_data"].startswith("k:claim:")
    )
    first = await bot.presses(chat, ack["message_id"], HEAD, claim)
    assert first.answer is not None and "已认领" in first.answer["text"]
    # [认领] is gone from the card now; a client that still shows it gets a clear answer.
    second = await bot.presses(chat, ack["message_id"], HEAD, claim, check=False)
    assert second.answer is not None and STALE in second.answer["text"]
