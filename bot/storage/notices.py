"""Notices, their runs and one delivery per grid per run (all SQL for the notice feature)."""

from __future__ import annotations

import json
from collections import defaultdict
from collections.abc import Iterable
from datetime import datetime

from bot.domain.notices import (
    FAILURES_SHOWN,
    DeliveryStatus,
    Failure,
    GridHead,
    Notice,
    NoticeStatus,
    RunReport,
    RunStatus,
    TargetGrid,
)
from bot.domain.schedule import Schedule, Targets
from bot.domain.tickets import OPEN_STATES
from bot.storage.database import Database, Row, from_epoch, to_epoch

_NOTICE_COLUMNS = (
    "id, author_id, text, schedule, targets, pin, status, locale, next_run_at, created_at"
)
_GRID_COLUMNS = "g.id, g.code, g.name, g.chat_id"
# Listings leave out what was never scheduled.
_LISTED = (NoticeStatus.ACTIVE, NoticeStatus.PAUSED, NoticeStatus.FINISHED, NoticeStatus.CANCELLED)


def _notice(row: Row) -> Notice:
    created = from_epoch(row["created_at"])
    assert created is not None
    return Notice(
        id=row["id"],
        author_id=row["author_id"],
        text=row["text"],
        schedule=Schedule.from_storage(json.loads(row["schedule"])),
        targets=Targets.from_storage(json.loads(row["targets"])),
        pin=bool(row["pin"]),
        status=NoticeStatus(row["status"]),
        locale=row["locale"],
        created_at=created,
        next_run_at=from_epoch(row["next_run_at"]),
    )


def _marks(values: Iterable[object]) -> str:
    return ",".join("?" for _ in values)


class NoticeRepository:
    """Notices, their runs and one delivery per grid per run (NoticeRepo)."""

    def __init__(self, db: Database) -> None:
        self._db = db

    # --- notices ---

    async def get(self, notice_id: int) -> Notice | None:
        """The notice with this id, or None."""
        row = await self._db.fetchone(
            f"SELECT {_NOTICE_COLUMNS} FROM notices WHERE id = ?", (notice_id,)
        )
        return _notice(row) if row else None

    async def listing(self, limit: int = 15) -> list[Notice]:
        """Scheduled and past notices, the live ones first, newest first."""
        rows = await self._db.fetchall(
            f"SELECT {_NOTICE_COLUMNS} FROM notices WHERE status IN ({_marks(_LISTED)}) "
            "ORDER BY status NOT IN ('active', 'paused'), id DESC LIMIT ?",
            (*_LISTED, limit),
        )
        return [_notice(r) for r in rows]

    async def create(
        self,
        *,
        author_id: int,
        text: str,
        schedule: Schedule,
        targets: Targets,
        pin: bool,
        locale: str,
        now: datetime,
    ) -> int:
        """Save a new notice as a draft; its id."""
        rows = await self._db.execute_returning(
            "INSERT INTO notices (author_id, text, schedule, targets, pin, status, locale, "
            "created_at, updated_at) VALUES (?, ?, ?, ?, ?, 'draft', ?, ?, ?) RETURNING id",
            (
                author_id,
                text,
                json.dumps(schedule.to_storage(), ensure_ascii=False),
                json.dumps(targets.to_storage(), ensure_ascii=False),
                int(pin),
                locale,
                to_epoch(now),
                to_epoch(now),
            ),
        )
        return int(rows[0][0])

    async def change_status(
        self,
        notice_id: int,
        to: NoticeStatus,
        *,
        from_: Iterable[NoticeStatus],
        next_run_at: datetime | None,
        now: datetime,
    ) -> bool:
        """Move to `to` only from one of `from_`; False if someone got there first."""
        allowed = tuple(from_)
        changed = await self._db.execute(
            "UPDATE notices SET status = ?, next_run_at = ?, updated_at = ? "
            f"WHERE id = ? AND status IN ({_marks(allowed)})",
            (
                to.value,
                to_epoch(next_run_at) if next_run_at else None,
                to_epoch(now),
                notice_id,
                *allowed,
            ),
        )
        return changed == 1

    async def set_next_run(
        self, notice_id: int, next_run_at: datetime | None, now: datetime
    ) -> None:
        """When the notice next goes out (None: it does not)."""
        await self._db.execute(
            "UPDATE notices SET next_run_at = ?, updated_at = ? WHERE id = ?",
            (to_epoch(next_run_at) if next_run_at else None, to_epoch(now), notice_id),
        )

    # --- target grids ---

    async def grids_by_code(self, codes: Iterable[str]) -> list[tuple[str, int | None, bool]]:
        """(code, chat_id, active) of the grids with these codes (case-insensitive)."""
        wanted = list(codes)
        if not wanted:
            return []
        rows = await self._db.fetchall(
            f"SELECT code, chat_id, active FROM grids WHERE code IN ({_marks(wanted)})", wanted
        )
        return [(r["code"], r["chat_id"], bool(r["active"])) for r in rows]

    async def target_grid_ids(self, targets: Targets) -> list[int]:
        """The grids a notice reaches now: active, in a chat, and named by the targets."""
        sql = "SELECT g.id FROM grids g WHERE g.active = 1 AND g.chat_id IS NOT NULL"
        params: list[object] = []
        if not targets.all:
            conditions = []
            if targets.grid_codes:
                conditions.append(f"g.code IN ({_marks(targets.grid_codes)})")
                params.extend(targets.grid_codes)
            if targets.tags:
                conditions.append(
                    f"g.id IN (SELECT grid_id FROM grid_tags WHERE tag IN ({_marks(targets.tags)}))"
                )
                params.extend(targets.tags)
            sql += f" AND ({' OR '.join(conditions) or 'FALSE'})"
        rows = await self._db.fetchall(sql + " ORDER BY g.code", params)
        return [r["id"] for r in rows]

    async def target_grids(self, grid_ids: list[int]) -> list[TargetGrid]:
        """Grids with their tags, heads and open-ticket counts, in the order given.

        Everything is read table by table and joined here: a notice may go to thousands
        of grids, more than SQLite accepts as `?` parameters.
        """
        if not grid_ids:
            return []
        wanted = set(grid_ids)
        tags: dict[int, list[str]] = defaultdict(list)
        for row in await self._db.fetchall("SELECT grid_id, tag FROM grid_tags ORDER BY tag"):
            tags[row["grid_id"]].append(row["tag"])
        heads: dict[int, list[GridHead]] = defaultdict(list)
        for row in await self._db.fetchall(
            "SELECT m.grid_id, p.display_name, p.username FROM memberships m "
            "JOIN people p ON p.telegram_id = m.telegram_id WHERE m.role = 'head' "
            "ORDER BY m.assigned_at, p.telegram_id"
        ):
            heads[row["grid_id"]].append(GridHead(row["display_name"], row["username"]))
        open_states = sorted(OPEN_STATES)
        counts = {
            row["grid_id"]: row["n"]
            for row in await self._db.fetchall(
                "SELECT grid_id, COUNT(*) AS n FROM tickets "
                f"WHERE status IN ({_marks(open_states)}) GROUP BY grid_id",
                open_states,
            )
        }
        grids = {
            row["id"]: row
            for row in await self._db.fetchall(f"SELECT {_GRID_COLUMNS} FROM grids g")
            if row["id"] in wanted
        }
        return [
            TargetGrid(
                id=grid_id,
                code=grids[grid_id]["code"],
                name=grids[grid_id]["name"],
                chat_id=grids[grid_id]["chat_id"],
                tags=tuple(tags[grid_id]),
                heads=tuple(heads[grid_id]),
                open_tickets=counts.get(grid_id, 0),
            )
            for grid_id in grid_ids
            if grid_id in grids
        ]

    # --- runs and deliveries ---

    async def create_run(
        self, notice_id: int, due_at: datetime, status: RunStatus, now: datetime
    ) -> int | None:
        """A run for this moment, once: None if the notice already has one for it."""
        finished = to_epoch(now) if status is not RunStatus.SENDING else None
        rows = await self._db.execute_returning(
            "INSERT INTO notice_runs (notice_id, due_at, status, started_at, finished_at) "
            "VALUES (?, ?, ?, ?, ?) ON CONFLICT DO NOTHING RETURNING id",
            (notice_id, to_epoch(due_at), status.value, to_epoch(now), finished),
        )
        return int(rows[0][0]) if rows else None

    async def add_deliveries(self, run_id: int, grid_ids: Iterable[int]) -> None:
        """One pending delivery per grid for a run; a grid already in the run is not added twice."""
        await self._db.executemany(
            "INSERT INTO notice_deliveries (run_id, grid_id) VALUES (?, ?) ON CONFLICT DO NOTHING",
            [(run_id, grid_id) for grid_id in grid_ids],
        )

    async def unfinished_runs(self) -> list[int]:
        """Runs still sending: resumed after a restart."""
        rows = await self._db.fetchall(
            "SELECT id FROM notice_runs WHERE status = 'sending' ORDER BY id"
        )
        return [r["id"] for r in rows]

    async def run_notice(self, run_id: int) -> tuple[Notice, int | None] | None:
        """The notice a run belongs to, and the run's progress message (if any)."""
        row = await self._db.fetchone(
            "SELECT notice_id, progress_message_id FROM notice_runs WHERE id = ?", (run_id,)
        )
        if row is None:
            return None
        notice = await self.get(row["notice_id"])
        return (notice, row["progress_message_id"]) if notice else None

    async def pending_grid_ids(self, run_id: int) -> list[int]:
        """The grids of a run still waiting for their delivery, by grid code."""
        rows = await self._db.fetchall(
            "SELECT d.grid_id FROM notice_deliveries d JOIN grids g ON g.id = d.grid_id "
            "WHERE d.run_id = ? AND d.status = 'pending' ORDER BY g.code",
            (run_id,),
        )
        return [r["grid_id"] for r in rows]

    async def is_pending(self, run_id: int, grid_id: int) -> bool:
        """Whether a run's delivery to a grid has still to go out."""
        row = await self._db.fetchone(
            "SELECT 1 FROM notice_deliveries WHERE run_id = ? AND grid_id = ? "
            "AND status = 'pending'",
            (run_id, grid_id),
        )
        return row is not None

    async def mark_sent(
        self,
        run_id: int,
        grid_id: int,
        *,
        chat_id: int,
        message_id: int,
        now: datetime,
    ) -> None:
        """A delivery went out as this message; recorded whatever happened meanwhile (a cancel)."""
        # Not conditional: it went out, whatever happened meanwhile (a cancel) is history.
        await self._db.execute(
            "UPDATE notice_deliveries SET status = 'sent', chat_id = ?, message_id = ?, "
            "reason = NULL, updated_at = ? WHERE run_id = ? AND grid_id = ?",
            (chat_id, message_id, to_epoch(now), run_id, grid_id),
        )

    async def mark_pinned(self, run_id: int, grid_id: int, refused: str | None) -> None:
        """A sent delivery's pin: done, or the reason Telegram refused (kept in `reason`)."""
        await self._db.execute(
            "UPDATE notice_deliveries SET pinned = ?, reason = ? WHERE run_id = ? AND grid_id = ?",
            (int(refused is None), refused, run_id, grid_id),
        )

    async def mark_failed(self, run_id: int, grid_id: int, reason: str, now: datetime) -> bool:
        """A pending delivery failed for `reason`; False when it was no longer pending."""
        failed = await self._db.execute(
            "UPDATE notice_deliveries SET status = 'failed', reason = ?, updated_at = ? "
            "WHERE run_id = ? AND grid_id = ? AND status = 'pending'",
            (reason, to_epoch(now), run_id, grid_id),
        )
        return failed == 1

    async def is_sending(self, notice_id: int) -> bool:
        """Whether a run of the notice is sending now."""
        row = await self._db.fetchone(
            "SELECT 1 FROM notice_runs WHERE notice_id = ? AND status = 'sending'", (notice_id,)
        )
        return row is not None

    async def fail_pending(self, notice_id: int, reason: str, now: datetime) -> int:
        """Every delivery of the notice not sent yet fails (the notice was cancelled)."""
        return await self._db.execute(
            "UPDATE notice_deliveries SET status = 'failed', reason = ?, updated_at = ? "
            "WHERE status = 'pending' AND run_id IN "
            "(SELECT id FROM notice_runs WHERE notice_id = ? AND status = 'sending')",
            (reason, to_epoch(now), notice_id),
        )

    async def finish_run(self, run_id: int, now: datetime) -> bool:
        """Sending → done once nothing is pending; True only for the caller that did it."""
        finished = await self._db.execute(
            "UPDATE notice_runs SET status = 'done', finished_at = ? WHERE id = ? "
            "AND status = 'sending' AND NOT EXISTS (SELECT 1 FROM notice_deliveries "
            "WHERE run_id = ? AND status = 'pending')",
            (to_epoch(now), run_id, run_id),
        )
        return finished == 1

    async def set_progress_message(self, run_id: int, message_id: int) -> None:
        """Remember the message that shows the run's progress to its author."""
        await self._db.execute(
            "UPDATE notice_runs SET progress_message_id = ? WHERE id = ?", (message_id, run_id)
        )

    # --- reports ---

    async def report(self, run_id: int) -> RunReport | None:
        """A run's outcome: sent, pinned and failed deliveries (None: no such run)."""
        reports = await self._reports("r.id = ?", (run_id,), 1)
        return reports[0] if reports else None

    async def reports_of(self, notice_id: int, limit: int) -> list[RunReport]:
        """The notice's latest runs, newest first."""
        return await self._reports("r.notice_id = ?", (notice_id,), limit)

    async def _reports(self, where: str, params: tuple[object, ...], limit: int) -> list[RunReport]:
        rows = await self._db.fetchall(
            "SELECT r.id, r.notice_id, r.due_at, r.status, r.started_at, r.finished_at, "
            "COUNT(d.grid_id) AS total, "
            "COUNT(*) FILTER (WHERE d.status = 'sent') AS sent, "
            "COUNT(*) FILTER (WHERE d.status = 'failed') AS failed, "
            # A sent delivery keeps a reason only when pinning it failed.
            "COUNT(*) FILTER (WHERE d.status = 'sent' AND d.reason IS NOT NULL) AS pin_failures "
            "FROM notice_runs r LEFT JOIN notice_deliveries d ON d.run_id = r.id "
            f"WHERE {where} GROUP BY r.id ORDER BY r.due_at DESC, r.id DESC LIMIT ?",
            (*params, limit),
        )
        reports = []
        for row in rows:
            failures = await self._db.fetchall(
                "SELECT g.code, g.name, d.reason FROM notice_deliveries d "
                "JOIN grids g ON g.id = d.grid_id WHERE d.run_id = ? AND d.status = ? "
                "ORDER BY g.code LIMIT ?",
                (row["id"], DeliveryStatus.FAILED.value, FAILURES_SHOWN),
            )
            due = from_epoch(row["due_at"])
            assert due is not None
            reports.append(
                RunReport(
                    id=row["id"],
                    notice_id=row["notice_id"],
                    due_at=due,
                    status=RunStatus(row["status"]),
                    total=row["total"],
                    sent=row["sent"],
                    failed=row["failed"],
                    started_at=from_epoch(row["started_at"]),
                    finished_at=from_epoch(row["finished_at"]),
                    failures=tuple(
                        Failure(f["code"], f["name"], f["reason"] or "") for f in failures
                    ),
                    pin_failures=row["pin_failures"],
                )
            )
        return reports
