"""Updates of one chat in order, different chats side by side, never more than the cap."""

from __future__ import annotations

import asyncio

from telegram import Chat, Message, Update, User

from bot.update_order import ChatOrderedUpdateProcessor, order_key

ALICE = User(1, "Alice", False)


def message_update(update_id: int, chat_id: int) -> Update:
    chat = Chat(chat_id, Chat.SUPERGROUP if chat_id < 0 else Chat.PRIVATE)
    return Update(update_id, message=Message(update_id, None, chat, from_user=ALICE))  # type: ignore[arg-type]


async def run_all(
    processor: ChatOrderedUpdateProcessor, updates: list[Update], seconds: dict[int, float]
) -> tuple[list[tuple[str, int, int]], int]:
    """Handle `updates` as PTB does (a task each, created in arrival order)."""
    log: list[tuple[str, int, int]] = []
    running = peak = 0

    async def handle(update: Update) -> None:
        nonlocal running, peak
        assert update.effective_chat is not None
        running += 1
        peak = max(peak, running)
        log.append(("start", update.effective_chat.id, update.update_id))
        await asyncio.sleep(seconds.get(update.update_id, 0.01))
        log.append(("end", update.effective_chat.id, update.update_id))
        running -= 1

    await asyncio.gather(*(processor.process_update(u, handle(u)) for u in updates))
    return log, peak


async def test_one_chat_is_handled_in_arrival_order_even_when_an_update_is_slow() -> None:
    processor = ChatOrderedUpdateProcessor(8)
    updates = [message_update(n, -100) for n in range(1, 6)]
    log, peak = await run_all(processor, updates, {1: 0.05})  # the first one is slow
    assert [e for e in log if e[0] == "start"] == [("start", -100, n) for n in range(1, 6)]
    assert peak == 1
    for n in range(1, 5):  # each ends before the next starts
        assert log.index(("end", -100, n)) < log.index(("start", -100, n + 1))


async def test_different_chats_run_side_by_side_up_to_the_cap() -> None:
    processor = ChatOrderedUpdateProcessor(3)
    updates = [message_update(n, -100 - n) for n in range(1, 11)]
    log, peak = await run_all(processor, updates, {})
    assert peak == 3
    assert sorted(u for kind, _c, u in log if kind == "end") == list(range(1, 11))
    assert processor._queues == {}  # nothing kept for chats that went quiet


async def test_a_busy_chat_does_not_hold_back_the_others() -> None:
    processor = ChatOrderedUpdateProcessor(2)
    busy = [message_update(n, -100) for n in range(1, 6)]
    other = message_update(99, -200)
    log, _peak = await run_all(processor, [*busy, other], {n: 0.02 for n in range(1, 6)})
    # The other chat's update is done long before the busy chat's queue is worked off.
    assert log.index(("end", -200, 99)) < log.index(("start", -100, 3))


def test_order_key_is_the_chat_or_else_the_user() -> None:
    assert order_key(message_update(1, -100)) == -100
    assert order_key(Update(2)) is None
    assert order_key("not an update") is None
