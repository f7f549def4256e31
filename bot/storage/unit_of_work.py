"""The storage adapter of the services' ports (bot.services.ports): one unit of work per use case.

One set of repositories, written once in SQL both backends run, over either database
adapter: SQLite (bot.storage.sqlite) or PostgreSQL (bot.storage.postgres). Every
repository is built once and shared: their caches (grids by chat, duty chats) then
outlive a use case. A unit of work is the database's transaction around them — COMMIT on
a clean exit, ROLLBACK when the use case raises — and a write outside one fails
(`NoUnitOfWork`), so no statement can commit half a use case on its own. A use case that
calls another inside its unit of work joins it. On PostgreSQL the transaction holds one
pooled connection, which the repositories reach through the task that opened it.
"""

from __future__ import annotations

from contextlib import AbstractAsyncContextManager
from pathlib import Path
from types import TracebackType

from bot.storage.console import ConsoleRepository
from bot.storage.database import Database, Transaction
from bot.storage.grids import AuditLog, DutyChatRepository, GridRepository
from bot.storage.inbox import InboxRepository
from bot.storage.intake_examples import IntakeExampleRepository
from bot.storage.notices import NoticeRepository
from bot.storage.people import ChatRepository, PendingActionRepository, PeopleRepository
from bot.storage.stats import StatsRepository
from bot.storage.tickets import TicketRepository
from bot.storage.timers import TimerRepository


class SqlStorage:
    """The repositories on one database (SQLite or PostgreSQL), and units of work over them."""

    def __init__(self, db: Database) -> None:
        self.db = db
        self.tickets = TicketRepository(db)
        self.grids = GridRepository(db)
        self.people = PeopleRepository(db)
        self.chats = ChatRepository(db)
        self.pending = PendingActionRepository(db)
        self.audit = AuditLog(db)
        self.duty_chats = DutyChatRepository(db)
        self.timers = TimerRepository(db)
        self.notices = NoticeRepository(db)
        self.intake_examples = IntakeExampleRepository(db)
        self.console = ConsoleRepository(db)
        # Read models: long aggregate reads on their own thread, outside any transaction.
        self.stats = StatsRepository(db)
        self.inbox = InboxRepository(db)

    @classmethod
    async def open(cls, path: str | Path) -> SqlStorage:
        """An SQLite file (created and migrated as needed) and its repositories."""
        from bot.storage.sqlite import SqliteDatabase

        return cls(await SqliteDatabase.open(path))

    @classmethod
    async def open_url(cls, url: str) -> SqlStorage:
        """A PostgreSQL database (migrated as needed) and its repositories."""
        from bot.storage.postgres import PostgresDatabase

        return cls(await PostgresDatabase.open(url))

    @classmethod
    async def open_configured(cls, *, path: str, url: str | None) -> SqlStorage:
        """The database `[database]` names: PostgreSQL when a url is set, else the SQLite file."""
        if url:
            return await cls.open_url(url)
        return await cls.open(path)

    async def close(self) -> None:
        """Close the database at exit."""
        await self.db.close()

    def unit_of_work(self) -> SqlUnitOfWork:
        """A new unit of work on this database: one transaction per `async with`."""
        return SqlUnitOfWork(self)


class SqlUnitOfWork:
    """`async with uow:` — the repositories inside one transaction."""

    def __init__(self, storage: SqlStorage) -> None:
        self._db = storage.db
        self.tickets = storage.tickets
        self.grids = storage.grids
        self.people = storage.people
        self.chats = storage.chats
        self.pending = storage.pending
        self.audit = storage.audit
        self.duty_chats = storage.duty_chats
        self.timers = storage.timers
        self.notices = storage.notices
        self.intake_examples = storage.intake_examples
        self.console = storage.console
        self._transaction: AbstractAsyncContextManager[Transaction] | None = None

    async def __aenter__(self) -> SqlUnitOfWork:
        self._transaction = self._db.transaction()
        await self._transaction.__aenter__()
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        transaction, self._transaction = self._transaction, None
        assert transaction is not None, "unit of work left without being entered"
        await transaction.__aexit__(exc_type, exc, tb)
