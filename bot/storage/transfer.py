"""`gridbot migrate-db`: a street's SQLite file into PostgreSQL, so a street can grow into a city.

Both databases are opened through their adapters first, so both schemas are current. Every
table is then copied in one PostgreSQL transaction, parents before children, keeping row
ids (ticket numbers people quote stay the same); a row already there is left as it is, so
running it again changes nothing (or adds what the street filed since). A target holding
another street's grids is refused: ids are kept, so its rows would stand in for these. The
identity sequences then continue after the highest copied id. Finally every table's rows
are counted on both sides: the copy is verified, not assumed.
"""

from __future__ import annotations

from dataclasses import dataclass

from bot.storage.postgres import PostgresDatabase
from bot.storage.sqlite import SqliteDatabase

# Parents before the tables whose foreign keys name them.
TABLES: tuple[str, ...] = (
    "grids",
    "grid_tags",
    "people",
    "memberships",
    "chats",
    "pending_actions",
    "audit_log",
    "tickets",
    "ticket_messages",
    "ticket_followers",
    "ticket_attachments",
    "ticket_events",
    "grid_residents",
    "private_reporting",
    "timers",
    "ticket_verifications",
    "duty_staff",
    "patrol_logs",
    "notices",
    "notice_runs",
    "notice_deliveries",
    "inbox",
    "console_logins",
    "duty_chats",
    "intake_examples",
    "message_answers",
)
# Tables whose `id` comes from an identity sequence in PostgreSQL.
_IDENTITY_TABLES = (
    "grids",
    "pending_actions",
    "audit_log",
    "tickets",
    "ticket_attachments",
    "ticket_events",
    "timers",
    "patrol_logs",
    "notices",
    "notice_runs",
)
_BATCH = 5000


class TransferError(Exception):
    """The copy cannot be made or does not verify; one line for the operator."""


@dataclass(frozen=True, slots=True)
class TableCount:
    """A table's rows in the SQLite file, and in PostgreSQL after the copy."""

    table: str
    source: int
    target: int


async def copy_sqlite_to_postgres(
    source: SqliteDatabase, target: PostgresDatabase
) -> list[TableCount]:
    """Copy every row not yet in the target; the per-table counts, verified equal."""
    present = {
        str(row[0])
        for row in await source.fetchall(
            "SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%'"
        )
    }
    unknown = present - set(TABLES)
    if unknown:
        raise TransferError(f"tables this gridbot cannot copy: {', '.join(sorted(unknown))}")
    # Row ids are kept, so another street's rows would silently stand in for this one's:
    # the target must be empty or hold this street's grids (a copy made before).
    ours = {(int(r[0]), str(r[1])) for r in await source.fetchall("SELECT id, code FROM grids")}
    theirs = {(int(r[0]), str(r[1])) for r in await target.fetchall("SELECT id, code FROM grids")}
    if theirs and not theirs <= ours:
        others = ", ".join(sorted(code for _id, code in theirs - ours))
        raise TransferError(
            f"the target already holds other grids ({others}): migrate-db fills an empty "
            "database, or one it filled from this file before"
        )
    async with target.transaction() as tx:
        for table in TABLES:
            columns = [str(row[1]) for row in await source.fetchall(f"PRAGMA table_info({table})")]
            names = ", ".join(columns)
            marks = ", ".join("?" for _ in columns)
            insert = f"INSERT INTO {table} ({names}) VALUES ({marks}) ON CONFLICT DO NOTHING"
            batch: list[tuple[object, ...]] = []
            async for row in source.stream(f"SELECT {names} FROM {table}", batch=_BATCH):
                batch.append(tuple(row))
                if len(batch) == _BATCH:
                    await tx.executemany(insert, batch)
                    batch = []
            await tx.executemany(insert, batch)
        for table in _IDENTITY_TABLES:
            await tx.fetchone(
                f"SELECT setval(pg_get_serial_sequence('{table}', 'id'), "
                f"(SELECT COALESCE(MAX(id), 0) + 1 FROM {table}), false)"
            )
        # Every process's caches (grids, duty chats) start again from what is now there.
        for table in TABLES:
            tx.touches(table)
    counts = []
    for table in TABLES:
        in_source = await source.fetchone(f"SELECT COUNT(*) FROM {table}")
        in_target = await target.fetchone(f"SELECT COUNT(*) FROM {table}")
        assert in_source is not None and in_target is not None
        counts.append(TableCount(table, int(in_source[0]), int(in_target[0])))
    different = [c for c in counts if c.source != c.target]
    if different:
        shown = ", ".join(f"{c.table} {c.source} → {c.target}" for c in different)
        raise TransferError(
            f"copied, but the counts differ ({shown}): the target held other data before"
        )
    return counts
