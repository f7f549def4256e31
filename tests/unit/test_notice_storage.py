"""Notice storage on a real SQLite file: conditional transitions, one run per moment, reports."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest

from bot.domain.notices import NoticeStatus, RunStatus, parse_notice_command
from bot.domain.schedule import Targets
from bot.storage.database import Database
from bot.storage.grids import GridRepository
from bot.storage.notices import NoticeRepository

NOW = datetime(2026, 11, 23, 1, 0, tzinfo=UTC)


@pytest.fixture
async def db(tmp_path: Path) -> AsyncIterator[Database]:
    database = await Database.open(tmp_path / "notices.db")
    async with database.transaction() as tx:
        for n, (code, active) in enumerate((("G01", True), ("G02", True), ("G03", False)), 1):
            await GridRepository.create(tx, code=code, name=f"{code}网格", chat_id=-n,
                                        chat_title=None, now=NOW)
            if not active:
                await GridRepository.set_active_by_chat(tx, -n, False, NOW)
        await GridRepository.set_tags(tx, 2, ["幸福社区"])
    yield database
    await database.close()


async def draft(db: Database) -> int:
    request = parse_notice_command("每天 09:00 all", "停水", now=NOW, tz=ZoneInfo("Asia/Shanghai"))
    async with db.transaction() as tx:
        return await NoticeRepository.create(
            tx, author_id=9001, text=request.text, schedule=request.schedule,
            targets=request.targets, pin=False, locale="zh-CN", now=NOW,
        )


async def test_targets_reach_active_grids_by_all_code_or_tag(db: Database) -> None:
    ids = NoticeRepository.target_grid_ids
    assert await ids(db, Targets(all=True)) == [1, 2]  # G03: the bot is not in its chat
    assert await ids(db, Targets(all=False, grid_codes=("g01", "G03"))) == [1]
    assert await ids(db, Targets(all=False, tags=("幸福社区",), grid_codes=("G01",))) == [1, 2]
    assert await ids(db, Targets(all=False, tags=("nowhere",))) == []


async def test_status_changes_are_conditional(db: Database) -> None:
    notice_id = await draft(db)
    async with db.transaction() as tx:
        change = NoticeRepository.change_status
        assert await change(tx, notice_id, NoticeStatus.ACTIVE, from_=[NoticeStatus.DRAFT],
                            next_run_at=NOW, now=NOW)
        # A second [确认] (or a [取消] after it) finds no draft any more.
        assert not await change(tx, notice_id, NoticeStatus.DISCARDED,
                                from_=[NoticeStatus.DRAFT], next_run_at=None, now=NOW)
    notice = await NoticeRepository(db).get(notice_id)
    assert notice is not None and notice.status is NoticeStatus.ACTIVE
    assert notice.next_run_at == NOW and notice.schedule.cron == "0 9 * * *"


async def test_one_run_per_moment_finished_once_when_nothing_is_pending(db: Database) -> None:
    notice_id = await draft(db)
    repo = NoticeRepository(db)
    async with db.transaction() as tx:
        run_id = await NoticeRepository.create_run(tx, notice_id, NOW, RunStatus.SENDING, NOW)
        assert run_id is not None
        assert await NoticeRepository.create_run(tx, notice_id, NOW, RunStatus.SENDING, NOW) is None
        await NoticeRepository.add_deliveries(tx, run_id, [1, 2])
    assert await repo.pending_grid_ids(run_id) == [1, 2]
    async with db.transaction() as tx:
        await NoticeRepository.mark_sent(tx, run_id, 1, chat_id=-1, message_id=7, now=NOW)
        assert not await NoticeRepository.finish_run(tx, run_id, NOW)  # G02 still pending
        assert await NoticeRepository.mark_failed(tx, run_id, 2, "Forbidden: kicked", NOW)
        assert not await NoticeRepository.mark_failed(tx, run_id, 2, "again", NOW)
        assert await NoticeRepository.finish_run(tx, run_id, NOW + timedelta(seconds=5))
        assert not await NoticeRepository.finish_run(tx, run_id, NOW)  # reported once
    report = await repo.report(run_id)
    assert report is not None and report.status is RunStatus.DONE
    assert (report.total, report.sent, report.failed, report.pending) == (2, 1, 1, 0)
    assert [(f.grid_code, f.reason) for f in report.failures] == [("G02", "Forbidden: kicked")]
    assert await repo.unfinished_runs() == []


async def test_cancelling_fails_what_is_still_pending(db: Database) -> None:
    notice_id = await draft(db)
    async with db.transaction() as tx:
        run_id = await NoticeRepository.create_run(tx, notice_id, NOW, RunStatus.SENDING, NOW)
        assert run_id is not None
        await NoticeRepository.add_deliveries(tx, run_id, [1, 2])
        await NoticeRepository.mark_sent(tx, run_id, 1, chat_id=-1, message_id=7, now=NOW)
        assert await NoticeRepository.fail_pending(tx, notice_id, "cancelled", NOW) == 1
    assert await NoticeRepository(db).pending_grid_ids(run_id) == []
    assert await NoticeRepository(db).unfinished_runs() == [run_id]  # the sender finishes it
