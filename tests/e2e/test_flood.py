"""One resident's flood holds back no other chat, and no emergency (#13)."""

from __future__ import annotations

from bot.offline import OfflineBot
from tests.e2e.conftest import NEIGHBOUR, OTHER_HEAD, RESIDENT, bound_grid

THINGS = ["路灯坏了", "水管漏水了", "楼道堆满杂物", "垃圾好几天没人清了", "楼道灯坏了"]
FLOOD = [f"{n}栋{THINGS[n % len(THINGS)]}" for n in range(1, 61)]
RATE_LIMITED = "您一小时内已反映了"


async def test_a_flood_in_one_grid_holds_back_neither_other_grids_nor_an_emergency(
    bot: OfflineBot,
) -> None:
    g1 = await bound_grid(bot)
    g2 = await bound_grid(bot, "G02", "幸福里第二网格", head=OTHER_HEAD)
    # Telegram answers slowly in G1: each reply there keeps G1's queue busy a while.
    bot.emulator.inject_fault("sendMessage", kind="slow", delay=0.2, chat_id=g1, count=1000)
    mark = bot.emulator.mark()
    for text in FLOOD:
        bot.emulator.post_message(g1, RESIDENT, text)
    # The flood is stored and confirmed to Telegram long before G1's backlog is worked off.
    await bot.emulator.wait_until_delivered(timeout=10)
    bot.emulator.post_message(g2, NEIGHBOUR, "7栋楼道灯坏了")
    bot.emulator.post_message(g1, NEIGHBOUR, "3栋电梯坏了 困人了")
    await bot.settle(timeout=60)

    said = [(m["chat"]["id"], m.get("text", "")) for m in bot.emulator.bot_messages_since(mark)]
    last_flood_reply = max(
        i for i, (chat, text) in enumerate(said) if chat == g1 and "紧急" not in text
    )
    g2_ack = next(i for i, (chat, _text) in enumerate(said) if chat == g2)
    alert = next(i for i, (chat, text) in enumerate(said) if chat == g1 and "紧急事件" in text)
    assert g2_ack < last_flood_reply, said  # fetched and answered while G1 was still busy
    assert alert < last_flood_reply, said  # the emergency overtook G1's backlog
    # The cap holds, and the flooder hears about it once, not once per message.
    assert sum(RATE_LIMITED in text for _chat, text in said) == 1
    tickets = await bot.db.fetchall(
        "SELECT reporter_id, urgency FROM tickets WHERE reporter_id IN (?, ?)",
        (RESIDENT, NEIGHBOUR),
    )
    assert sum(t["reporter_id"] == RESIDENT for t in tickets) == 10
    assert sorted(t["urgency"] for t in tickets if t["reporter_id"] == NEIGHBOUR) == [
        "emergency",
        "normal",
    ]
