"""Staff and heads read the figures: /stats, /export, the weekly report, and the CLI."""

from __future__ import annotations

import csv
import io
import json
import sqlite3
import subprocess
import sys
from datetime import timedelta
from pathlib import Path

import pytest

from bot.domain.clock import FakeClock
from bot.offline import OfflineBot
from tests.e2e.conftest import HEAD, NEIGHBOUR, OTHER_HEAD, RESIDENT, STAFF, bound_grid

# The storage conformance suite: these run on SQLite and on PostgreSQL.
pytestmark = pytest.mark.both_backends

ROOT = Path(__file__).resolve().parents[2]
STREET_DUTY = -100_800


async def a_busy_morning(bot: OfflineBot) -> tuple[int, int]:
    g01 = await bound_grid(bot)
    g02 = await bound_grid(bot, "G02", "第二网格", head=OTHER_HEAD)
    await bot.says(g01, RESIDENT, "3栋电梯又坏了 电话13812345678")
    await bot.says(g01, NEIGHBOUR, "小区门口路灯不亮")
    await bot.says(g02, RESIDENT, "楼下饭店油烟太大了")
    await bot.says(g01, HEAD, "/claim 1")
    ask = (await bot.says(g01, HEAD, "/close 1 已修好")).in_chat(g01)[-1]
    solved = [b for row in ask["reply_markup"]["inline_keyboard"] for b in row]
    await bot.presses(g01, ask["message_id"], RESIDENT, solved[0]["callback_data"])
    await bot.presses(g01, ask["message_id"], RESIDENT, solved[-1]["callback_data"])  # 5⭐
    return g01, g02


async def test_stats_in_a_grid_chat_show_that_grid(bot: OfflineBot) -> None:
    g01, _g02 = await a_busy_morning(bot)
    reply = await bot.says(g01, HEAD, "/stats")
    text = reply.text_in(g01)
    assert "网格 G01 幸福里第一网格" in text
    assert "网格统计 · 本月（2026年11月）" in text
    assert "收到 2 件 · 已结案 1 件（结案率 50%）· 已办结待确认 0 件" in text
    assert "按时认领 100%" in text and "满意度 5.0" in text
    assert "物业管理 1" in text and "市政设施 1" in text
    reply = await bot.says(g01, HEAD, "/stats 7d")
    assert "收到 2 件" in reply.text_in(g01) and "网格统计 · 近7天" in reply.text_in(g01)
    for period, words in (
        ("lastweek", "上周"),
        ("week", "本周"),
        ("today", "今天"),
        ("2026-10", "2026年10月"),
    ):
        heading = (await bot.says(g01, HEAD, f"/stats {period}")).text_in(g01).splitlines()[0]
        assert f"网格统计 · {words}" in heading and period not in heading, heading
    reply = await bot.says(g01, HEAD, "/stats 2026-13")
    assert "看不懂时间段“2026-13”" in reply.text_in(g01)
    reply = await bot.says(g01, HEAD, "/stats yesterday")  # one unknown word: a grid code
    assert "没有代码为“yesterday”的网格" in reply.text_in(g01)


async def test_right_after_close_the_figures_do_not_contradict_each_other(bot: OfflineBot) -> None:
    """A head's /close is "done, awaiting the resident" (已办结待确认), not closed (已结案)."""
    g01 = await bound_grid(bot)
    await bot.says(g01, RESIDENT, "3栋电梯又坏了")
    await bot.says(g01, HEAD, "/claim 1")
    await bot.says(g01, HEAD, "/close 1 已修好")
    text = (await bot.says(g01, HEAD, "/stats")).text_in(g01)
    assert "已结案 0 件（结案率 0%）· 已办结待确认 1 件" in text
    assert "按时办结 100%" in text
    assert "办结 0 件" not in text
    status = (await bot.says(g01, HEAD, "/status 1")).text_in(g01)
    assert "已办结待确认" in status


async def test_per_grid_lines_label_every_figure(bot: OfflineBot) -> None:
    await a_busy_morning(bot)
    staff = (await bot.says_privately(STAFF, "/stats")).text_in(STAFF)
    line = next(line for line in staff.splitlines() if line.startswith("G01 "))
    for label in (
        "收到 2",
        "结案率 50%",
        "按时认领 100%",
        "按时办结 100%",
        "满意度 5.0",
        "当前逾期 0",
    ):
        assert label in line, line
    english = (await bot.says_privately(STAFF, "/stats 7d")).text_in(STAFF)
    assert "按时 100%/100%" not in staff and "7d" not in english.splitlines()[0]


async def test_stats_privately_cover_only_the_grids_one_may_see(bot: OfflineBot) -> None:
    await a_busy_morning(bot)
    staff = (await bot.says_privately(STAFF, "/stats")).text_in(STAFF)
    assert "合计 2 个网格" in staff and "收到 3 件" in staff
    assert "G01" in staff and "G02" in staff
    head = (await bot.says_privately(HEAD, "/stats")).text_in(HEAD)
    assert "网格 G01" in head and "收到 2 件" in head
    refused = (await bot.says_privately(HEAD, "/stats month G02")).text_in(HEAD)
    assert "您不是本网格的网格长或网格员" in refused
    resident = (await bot.says_privately(RESIDENT, "/stats")).text_in(RESIDENT)
    assert "仅限网格长、网格员和值班人员" in resident


async def test_export_sends_an_excel_ready_csv_of_ones_own_grids(bot: OfflineBot) -> None:
    g01, _g02 = await a_busy_morning(bot)
    reply = await bot.says(g01, HEAD, "/export")
    [document] = [m for m in reply.in_chat(g01) if "document" in m]
    assert document["document"]["file_name"].endswith(".csv")
    assert "工单 2 件" in document["caption"]
    content = bot.emulator.file_content(document["document"]["file_id"])
    assert content.startswith(b"\xef\xbb\xbf")
    rows = list(csv.reader(io.StringIO(content.decode("utf-8-sig"))))
    assert rows[0][0] == "工单号" and len(rows) == 3
    assert {r[1] for r in rows[1:]} == {"G01"}  # grid A's head never sees grid B
    assert b"13812345678" not in content


async def test_weekly_report_with_chart_goes_to_the_street(tmp_path: Path) -> None:
    clock = FakeClock()  # Monday 2026-11-23 09:00 in Shanghai
    async with OfflineBot(
        tmp_path / "w.db",
        staff=(STAFF,),
        clock=clock,
        settings={"escalation": {"street": STREET_DUTY}},
    ) as bot:
        for uid, name in (
            (STAFF, "小李"),
            (HEAD, "王网格长"),
            (RESIDENT, "张阿姨"),
            (NEIGHBOUR, "刘大爷"),
            (OTHER_HEAD, "陈网格长"),
        ):
            bot.person(uid, name)
        bot.emulator.create_group("街道值班群", chat_id=STREET_DUTY)
        bot.emulator.chat(STREET_DUTY).bot_status = "member"
        await a_busy_morning(bot)
        week = await bot.advance(timedelta(days=7))
        report = [m for m in week.in_chat(STREET_DUTY) if "text" in m and "周报" in m["text"]]
        assert report and "收到 3 件" in report[0]["text"]
        [photo] = [m for m in week.in_chat(STREET_DUTY) if "photo" in m]
        png = bot.emulator.file_content(photo["photo"][-1]["file_id"])
        assert png.startswith(b"\x89PNG")
        # The next one is scheduled, once.
        pending = await bot.runtime.services.timers.pending("report.weekly")
        assert len(pending) == 1


async def test_command_line_stats_and_exports(bot: OfflineBot, tmp_path: Path) -> None:
    await a_busy_morning(bot)
    assert bot.config is not None
    config = tmp_path / "cli.toml"
    database = bot.config.database
    where = f'url = "{database.url}"' if database.url else f'path = "{database.path}"'
    config.write_text(f"[database]\n{where}\n", encoding="utf-8")

    def cli(*args: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [sys.executable, "-m", "bot", *args, "-c", str(config)],
            cwd=ROOT,
            capture_output=True,
            text=True,
            timeout=120,
        )

    stats = cli("stats", "2026-11")
    assert stats.returncode == 0, stats.stderr
    assert "收到 3 件" in stats.stdout and "<b>" not in stats.stdout
    out = tmp_path / "export.json"
    result = cli(
        "export",
        "--since",
        "2026-11-01",
        "--until",
        "2026-11-30",
        "--format",
        "open311",
        "-o",
        str(out),
    )
    assert result.returncode == 0, result.stderr
    requests = json.loads(out.read_text(encoding="utf-8"))
    assert len(requests) == 3 and requests[0]["status"] == "closed"
    assert requests[0]["agency_responsible"] == "G01 幸福里第一网格"
    csv_out = cli("export", "--since", "2026-11-01", "--until", "2026-11-30", "--grid", "G02")
    assert csv_out.returncode == 0 and csv_out.stdout.count("\n") == 2
    bad = cli("export", "--since", "2026-13-01", "--until", "2026-11-30")
    assert bad.returncode == 2 and "Traceback" not in bad.stderr


def test_command_line_stats_before_any_grid_says_so(tmp_path: Path) -> None:
    config = tmp_path / "cli.toml"
    config.write_text(f'[database]\npath = "{tmp_path / "new.db"}"\n', encoding="utf-8")
    sqlite3.connect(tmp_path / "new.db").close()  # the bot has started once: an empty database
    empty = subprocess.run(
        [sys.executable, "-m", "bot", "stats", "-c", str(config)],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert empty.returncode == 2
    assert "还没有绑定任何网格" in empty.stderr and "Traceback" not in empty.stderr
