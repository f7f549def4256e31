"""The street teaches the recogniser: corrections become examples, a retrained model uses them.

Correction → stored example → `gridbot train-intake --from-db` → the bot restarted with
`[intake] model` → a better answer to the same kind of message.
"""

from __future__ import annotations

import asyncio
import json
from datetime import timedelta
from pathlib import Path

import pytest

from bot.cli import main
from bot.domain.clock import FakeClock
from bot.offline import OfflineBot
from tests.e2e.conftest import HEAD, NEIGHBOUR, RESIDENT, bound_grid

# This street sends restaurant fumes to the city inspectors (order), not to sanitation
# (environment) as the labelling guide and the shipped model do.
FUMES = [
    "楼下烧烤店油烟太大 熏得窗户都不敢开",
    "3栋底下那家火锅店的油烟直往楼上冒",
    "小区门口餐馆排油烟 呛死人了",
]
FUMES_AGAIN = "楼下烧烤店油烟太大 熏得人受不了"
# Chat the shipped model files as a property complaint; the neighbour withdraws it.
PARCELS = "楼下快递柜满了 我的件放门卫了"


async def _cli(capsys: pytest.CaptureFixture[str], *args: str) -> tuple[int, str]:
    """Run `gridbot …` as an operator would, in a thread (it runs its own event loop)."""
    capsys.readouterr()
    code = await asyncio.to_thread(main, list(args))
    return code, capsys.readouterr().out


async def test_corrections_are_kept_and_a_retrained_model_learns_them(
    tmp_path: Path, clock: FakeClock, capsys: pytest.CaptureFixture[str]
) -> None:
    database = tmp_path / "gridbot.db"
    config = tmp_path / "config.toml"
    config.write_text(f'[database]\npath = "{database}"\n', encoding="utf-8")
    async with OfflineBot(database, staff=(9001,), clock=clock) as bot:
        bot.person(9001, "街道小李")
        bot.person(HEAD, "王网格长")
        bot.person(RESIDENT, "张阿姨")
        bot.person(NEIGHBOUR, "刘大爷")
        chat = await bound_grid(bot)
        for number, text in enumerate(FUMES, start=1):
            reply = await bot.says(chat, RESIDENT, text)
            assert f"已登记 #{number}" in reply.text_in(chat)
            assert "环境卫生" in reply.text_in(chat)  # the shipped model's reading
            fixed = await bot.says(chat, HEAD, f"/category {number} order")
            assert "秩序管理" in fixed.text_in(chat)
            clock.advance(timedelta(hours=25))  # a new complaint, not a +1 of the last
        ack = (await bot.says(chat, NEIGHBOUR, PARCELS)).in_chat(chat)[0]
        assert "已登记 #4" in ack["text"]
        withdraw = ack["reply_markup"]["inline_keyboard"][0][0]["callback_data"]
        await bot.presses(chat, ack["message_id"], NEIGHBOUR, withdraw)
        clock.advance(timedelta(hours=25))
        rows = await bot.db.fetchall(
            "SELECT ticket_id, is_request, category, kind FROM intake_examples ORDER BY ticket_id"
        )
        assert [tuple(row) for row in rows] == [
            (1, 1, "order", "category"),
            (2, 1, "order", "category"),
            (3, 1, "order", "category"),
            (4, 0, None, "withdrawn"),
        ]

        # The deployment measures the recogniser on its own corrections ...
        code, out = await _cli(capsys, "eval-intake", "--from-db", "-c", str(config), "--json")
        assert code == 0
        before = json.loads(out)
        assert before["n"] == 4 and before["category_accuracy"] == 0.0
        assert before["false_ticket_rate"] == 1.0
        assert before["category_confusion"] == {"order": {"environment": 3}}

        # ... adapts the model to them, and names the new file in the config.
        model = tmp_path / "street.npz"
        code, out = await _cli(
            capsys, "train-intake", "--from-db", "-c", str(config), "-o", str(model)
        )
        assert code == 0 and model.exists(), out
        config.write_text(
            f'[database]\npath = "{database}"\n[intake]\nmodel = "{model}"\n', encoding="utf-8"
        )
        code, out = await _cli(capsys, "eval-intake", "--from-db", "-c", str(config), "--json")
        after = json.loads(out)
        assert code == 0 and after["category_accuracy"] == 1.0
        assert after["false_ticket_rate"] == 0.0

        await bot.restart(settings={"intake": {"model": str(model)}})
        reply = await bot.says(chat, NEIGHBOUR, FUMES_AGAIN)
        assert "已登记 #5" in reply.text_in(chat) and "秩序管理" in reply.text_in(chat)
        assert (await bot.says(chat, NEIGHBOUR, PARCELS)).messages == []
        # What the street never corrected reads as before.
        reply = await bot.says(chat, NEIGHBOUR, "5栋2单元楼道灯坏了好几天了")
        assert "已登记 #6" in reply.text_in(chat) and "物业管理" in reply.text_in(chat)


async def test_a_withdrawn_ticket_is_kept_as_not_a_request(
    tmp_path: Path, clock: FakeClock
) -> None:
    async with OfflineBot(tmp_path / "w.db", staff=(9001,), clock=clock) as bot:
        bot.person(9001, "街道小李")
        bot.person(HEAD, "王网格长")
        bot.person(RESIDENT, "张阿姨")
        chat = await bound_grid(bot)
        ack = (await bot.says(chat, RESIDENT, "小区门口路灯不亮 晚上黑漆漆的")).in_chat(chat)[0]
        withdraw = ack["reply_markup"]["inline_keyboard"][0][0]["callback_data"]
        await bot.presses(chat, ack["message_id"], RESIDENT, withdraw)
        rows = await bot.db.fetchall(
            "SELECT ticket_id, text, is_request, category, kind, actor_id FROM intake_examples"
        )
        assert [tuple(row) for row in rows] == [
            (1, "小区门口路灯不亮 晚上黑漆漆的", 0, None, "withdrawn", RESIDENT)
        ]
        # A head then says it was a request after all: the latest word wins, one row.
        await bot.says(chat, HEAD, "/category 1 municipal")
        rows = await bot.db.fetchall("SELECT is_request, category, kind FROM intake_examples")
        assert [tuple(row) for row in rows] == [(1, "municipal", "category")]
