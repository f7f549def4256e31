"""The SQLite adapter of the services' ports (bot.services.ports): one unit of work per use case.

Every repository here is built once on the bot's one connection and shared: their caches
(grids by chat, duty chats) then outlive a use case. A unit of work is the transaction
around them — BEGIN IMMEDIATE on entry, COMMIT on a clean exit, ROLLBACK when the use case
raises — and a write outside one fails (`NoUnitOfWork`), so no statement can commit half a
use case on its own. A use case that calls another inside its unit of work joins it.

A second backend implements the same Protocols with its own unit of work (a PostgreSQL
one would take a pooled connection on entry and bind its repositories to it).
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


class SqliteStorage:
    """The repositories on one database file, and units of work over them."""

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
    async def open(cls, path: str | Path) -> SqliteStorage:
        """The database file (created and migrated as needed) and its repositories."""
        return cls(await Database.open(path))

    async def close(self) -> None:
        """Close the database at exit."""
        await self.db.close()

    def unit_of_work(self) -> SqliteUnitOfWork:
        """A new unit of work on this database: one transaction per `async with`."""
        return SqliteUnitOfWork(self)


class SqliteUnitOfWork:
    """`async with uow:` — the repositories inside one SQLite transaction."""

    def __init__(self, storage: SqliteStorage) -> None:
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

    async def __aenter__(self) -> SqliteUnitOfWork:
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
