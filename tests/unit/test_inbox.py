"""Fetched updates are stored before Telegram is told; what was not handled comes back."""

from __future__ import annotations

from telegram import Chat, Message, Update, User

from bot.domain.clock import FakeClock
from bot.inbox import Inbox
from bot.storage.inbox import InboxRepository
from tests.conftest import open_storage


async def test_stored_updates_not_yet_handled_are_handed_over_again(
    database: dict[str, str],
) -> None:
    """What was stored before its offset was confirmed survives the process."""
    db = (await open_storage(database)).db
    try:
        clock = FakeClock()
        inbox = Inbox(InboxRepository(db), clock)
        chat = Chat(-5, Chat.SUPERGROUP)
        updates = [
            Update(
                n,
                message=Message(
                    n, clock.now(), chat, from_user=User(7, "A", False), text=f"消息 {n}"
                ),
            )
            for n in (1, 2, 3)
        ]
        await inbox.received(updates)
        inbox.handled(updates[0])
        await inbox.close()
        # The process stops; a new one finds what was not handled, in order.
        again = Inbox(InboxRepository(db), clock)
        replayed = await again.replay(None)  # type: ignore[arg-type]
        assert [u.update_id for u in replayed] == [2, 3]
        assert replayed[0].message is not None and replayed[0].message.text == "消息 2"
        # Telegram delivers 2 and 3 once more (their offset was never confirmed): once each.
        await again.received(updates[1:])
        assert [again.is_duplicate(u) for u in updates[1:] * 2] == [True, True, False, False]
    finally:
        await db.close()
