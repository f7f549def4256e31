"""People the bot has seen, the chats it is in, pending confirmations, chat-id migration."""

from __future__ import annotations

import json
from datetime import datetime
from typing import Any

from bot.domain.models import PendingAction, Person
from bot.storage.database import Database, from_epoch, to_epoch
from bot.storage.grids import person_from_row

# Every (table, column) that names the chat to talk to. A group upgraded to a supergroup
# gets a new id and all of these must follow it in one transaction. Columns that record
# where a past message was (tickets.chat_id, ticket_messages) stay: those messages remain
# in the old group's history and message ids are per chat.
CHAT_ID_COLUMNS: list[tuple[str, str]] = [
    ("grids", "chat_id"),
    ("pending_actions", "chat_id"),
    ("duty_chats", "chat_id"),
]


class PeopleRepository:
    """People the bot has seen (PeopleRepo)."""

    def __init__(self, db: Database) -> None:
        self._db = db

    async def get(self, telegram_id: int) -> Person | None:
        """The person with this Telegram id, or None if the bot has never seen them."""
        row = await self._db.fetchone("SELECT * FROM people WHERE telegram_id = ?", (telegram_id,))
        return person_from_row(row) if row else None

    async def by_username(self, username: str) -> Person | None:
        """The person last seen with this @username, or None."""
        row = await self._db.fetchone(
            "SELECT * FROM people WHERE username = ? ORDER BY last_seen DESC LIMIT 1",
            (username.lstrip("@"),),
        )
        return person_from_row(row) if row else None

    async def language_of(self, telegram_id: int) -> str | None:
        """The language Telegram reports for the person (picks the locale), or None."""
        row = await self._db.fetchone(
            "SELECT language_code FROM people WHERE telegram_id = ?", (telegram_id,)
        )
        return row["language_code"] if row else None

    async def upsert(
        self,
        *,
        telegram_id: int,
        display_name: str,
        username: str | None,
        language_code: str | None,
        now: datetime,
        private_chat: bool = False,
    ) -> None:
        """Record a person seen in an update, or refresh their name, username and language."""
        await self._db.execute(
            "INSERT INTO people (telegram_id, username, display_name, language_code, "
            "has_private_chat, first_seen, last_seen) VALUES (?, ?, ?, ?, ?, ?, ?) "
            "ON CONFLICT (telegram_id) DO UPDATE SET username = excluded.username, "
            "display_name = excluded.display_name, "
            "language_code = COALESCE(excluded.language_code, people.language_code), "
            # 0/1 flags: bitwise or is the larger, in both backends' SQL.
            "has_private_chat = people.has_private_chat | excluded.has_private_chat, "
            "last_seen = excluded.last_seen",
            (
                telegram_id,
                username,
                display_name,
                language_code,
                int(private_chat),
                to_epoch(now),
                to_epoch(now),
            ),
        )

    async def set_private_chat(self, telegram_id: int, reachable: bool) -> None:
        """Whether the bot can write to the person in private (they started it, or blocked it)."""
        await self._db.execute(
            "UPDATE people SET has_private_chat = ? WHERE telegram_id = ?",
            (int(reachable), telegram_id),
        )


class ChatRepository:
    """The chats the bot is in (ChatRepo)."""

    def __init__(self, db: Database) -> None:
        self._db = db

    async def upsert(
        self,
        *,
        chat_id: int,
        type_: str,
        title: str | None,
        bot_member: bool,
        now: datetime,
    ) -> None:
        """Record a chat the bot is in, or refresh its type, title and whether the bot is still a
        member.
        """
        await self._db.execute(
            "INSERT INTO chats (chat_id, type, title, bot_member, updated_at) "
            "VALUES (?, ?, ?, ?, ?) ON CONFLICT (chat_id) DO UPDATE SET type = excluded.type, "
            "title = COALESCE(excluded.title, chats.title), bot_member = excluded.bot_member, "
            "updated_at = excluded.updated_at",
            (chat_id, type_, title, int(bot_member), to_epoch(now)),
        )

    async def move_chat_id(self, old_chat_id: int, new_chat_id: int) -> None:
        """Re-key every row from a migrated group to its supergroup, in the caller's transaction."""
        for table, column in CHAT_ID_COLUMNS:
            self._db.touches(table)
            await self._db.execute(
                f"UPDATE {table} SET {column} = ? WHERE {column} = ?", (new_chat_id, old_chat_id)
            )
        # The supergroup's row, if the bot already has one, gives way to the group's (as
        # UPDATE OR REPLACE would; portable SQL spells it as a DELETE first).
        await self._db.execute(
            "DELETE FROM chats WHERE chat_id = ? AND EXISTS "
            "(SELECT 1 FROM chats WHERE chat_id = ?)",
            (new_chat_id, old_chat_id),
        )
        await self._db.execute(
            "UPDATE chats SET chat_id = ?, type = 'supergroup' WHERE chat_id = ?",
            (new_chat_id, old_chat_id),
        )


class PendingActionRepository:
    """Questions waiting for an answer (PendingActionRepo); knows when none is live without asking
    SQLite.
    """

    def __init__(self, db: Database) -> None:
        self._db = db
        # Per kind, the version of the table (Database.version) at which none was live: a
        # new one comes only by `create`, which moves the version.
        self._none_live: dict[str, int] = {}

    async def create(
        self,
        *,
        kind: str,
        chat_id: int,
        actor_id: int,
        payload: dict[str, Any],
        now: datetime,
        expires_at: datetime,
    ) -> int:
        """Keep a question waiting for the person's answer until `expires_at`; its id."""
        self._db.touches("pending_actions")
        rows = await self._db.execute_returning(
            "INSERT INTO pending_actions (kind, chat_id, actor_id, payload, created_at, "
            "expires_at) VALUES (?, ?, ?, ?, ?, ?) RETURNING id",
            (
                kind,
                chat_id,
                actor_id,
                json.dumps(payload, ensure_ascii=False),
                to_epoch(now),
                to_epoch(expires_at),
            ),
        )
        return int(rows[0][0])

    async def take_latest(
        self, kind: str, chat_id: int, actor_id: int, now: datetime
    ) -> PendingAction | None:
        """The person's newest live action of this kind in this chat, taken (once)."""
        # Asked of every group message, and nearly always there is none anywhere: known
        # without a query until the next `create`.
        version = self._db.version("pending_actions")
        if self._none_live.get(kind) == version:
            return None
        row = await self._db.fetchone(
            "SELECT id FROM pending_actions WHERE kind = ? AND chat_id = ? AND actor_id = ? "
            "AND done_at IS NULL AND expires_at >= ? ORDER BY id DESC LIMIT 1",
            (kind, chat_id, actor_id, to_epoch(now)),
        )
        if row is None:
            live = await self._db.fetchone(
                "SELECT 1 FROM pending_actions WHERE kind = ? AND done_at IS NULL "
                "AND expires_at >= ? LIMIT 1",
                (kind, to_epoch(now)),
            )
            if live is None and self._db.version("pending_actions") == version:
                self._none_live[kind] = version
            return None
        return await self.take(row["id"], now)

    async def take(self, action_id: int, now: datetime) -> PendingAction | None:
        """Mark the action done and return it, once: a second press finds nothing."""
        rows = await self._db.execute_returning(
            "UPDATE pending_actions SET done_at = ? WHERE id = ? AND done_at IS NULL RETURNING *",
            (to_epoch(now), action_id),
        )
        if not rows:
            return None
        row = rows[0]
        created = from_epoch(row["created_at"])
        expires = from_epoch(row["expires_at"])
        assert created is not None and expires is not None
        return PendingAction(
            id=row["id"],
            kind=row["kind"],
            chat_id=row["chat_id"],
            actor_id=row["actor_id"],
            payload=json.loads(row["payload"]),
            created_at=created,
            expires_at=expires,
            done_at=from_epoch(row["done_at"]),
        )
