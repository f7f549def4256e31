"""What one resident's request costs the database, as the statements SQLite runs show it
(SQLite only: it reads SQLite's statement trace and query plans).

A request is one transaction for the ticket, its first event, its four timers, its link
and the answer it is owed, then one small transaction once its acknowledgement went out.
Chit-chat costs nothing (beyond the inbox every update goes through), and the duplicate
search reads an index of open tickets by grid and category instead of scanning.
"""

from __future__ import annotations

from bot.offline import OfflineBot
from bot.render import Renderer
from tests.e2e.conftest import NEIGHBOUR, RESIDENT, bound_grid


def transactions(statements: list[str]) -> list[list[str]]:
    """The statements between each BEGIN and its COMMIT, leaving out the inbox's."""
    found: list[list[str]] = []
    current: list[str] | None = None
    for sql in statements:
        if sql.startswith("BEGIN"):
            current = []
        elif sql.startswith(("COMMIT", "ROLLBACK")) and current is not None:
            if not any(" inbox" in s for s in current):
                found.append(current)
            current = None
        elif current is not None:
            current.append(sql)
    return found


async def traced(bot: OfflineBot, chat: int, who: int, text: str) -> list[str]:
    statements: list[str] = []
    bot.db._conn.set_trace_callback(statements.append)
    try:
        await bot.says(chat, who, text)
    finally:
        bot.db._conn.set_trace_callback(None)
    return statements


async def test_a_request_is_one_transaction_and_its_acknowledgement_one_more(
    bot: OfflineBot,
) -> None:
    chat = await bound_grid(bot)
    await bot.says(chat, RESIDENT, "大家好")  # seen before: nothing to note about them
    statements = await traced(bot, chat, RESIDENT, "3栋2单元502 楼道灯坏了好几天了")
    filed, acknowledged = transactions(statements)
    writes = [s.split("(")[0].strip() for s in filed if not s.startswith("SELECT")]
    # People seen writing in the grid ride along with a transaction that writes anyway.
    assert "INSERT INTO grid_residents" in writes
    writes = [w for w in writes if w != "INSERT INTO grid_residents"]
    assert writes == [
        "INSERT INTO tickets",
        "INSERT INTO ticket_messages",
        "INSERT INTO ticket_events",
        "INSERT INTO message_answers",
        *["INSERT INTO timers"] * 4,
    ]
    assert not any("FROM tickets WHERE id" in s for s in filed)  # no read-back of the row
    assert [s.split(" SET")[0].split("(")[0].strip() for s in acknowledged] == [
        "UPDATE tickets",
        "INSERT INTO ticket_messages",
        "UPDATE message_answers",
    ]
    assert not any("INSERT INTO people" in s for s in statements)


async def test_chit_chat_from_someone_known_costs_no_query(bot: OfflineBot) -> None:
    chat = await bound_grid(bot)
    await bot.says(chat, RESIDENT, "大家好")
    statements = await traced(bot, chat, RESIDENT, "今天天气不错")
    assert transactions(statements) == []
    assert [
        s for s in statements if " inbox" not in s and not s.startswith(("BEGIN", "COMMIT"))
    ] == []


async def test_the_duplicate_search_reads_an_index_not_the_grid(bot: OfflineBot) -> None:
    chat = await bound_grid(bot)
    await bot.says(chat, RESIDENT, "3栋电梯坏了")
    statements = await traced(bot, chat, NEIGHBOUR, "3栋电梯又坏了")
    [search] = [s for s in statements if "created_at >=" in s and "private = 0" in s]
    plan = " ".join(
        str(tuple(row)) for row in bot.db._conn.execute(f"EXPLAIN QUERY PLAN {search}").fetchall()
    )
    assert "tickets_open_by_grid_category" in plan, plan
    assert "SCAN" not in plan


def test_small_texts_are_rendered_once_per_template_locale_and_values() -> None:
    renderer = Renderer("zh-CN")
    first = renderer.render_small("buttons/follow", "zh-CN", count=2)
    assert renderer.render_small("buttons/follow", "zh-CN", count=2) is first
    assert renderer.render_small("buttons/follow", "zh-CN", count=3) != first
