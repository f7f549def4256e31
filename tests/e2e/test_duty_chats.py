"""Duty chats set from Telegram: /setduty in the duty group, shown by /grids and /whoami,
used by every alert, moved with the group when it becomes a supergroup; the config's
[escalation] keys override it."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

from bot.domain.clock import FakeClock
from bot.offline import OfflineBot
from tests.e2e.conftest import HEAD, RESIDENT, STAFF, bound_grid

FIRE = "5栋楼道有烟 好像着火了"
OFFICER = 4001


async def duty_group(bot: OfflineBot, title: str = "社区值班群") -> int:
    return await bot.group(title, added_by=STAFF)


async def test_setduty_makes_the_group_the_levels_duty_chat(bot: OfflineBot) -> None:
    grid = await bound_grid(bot)
    duty = await duty_group(bot)
    reply = await bot.says(duty, STAFF, "/setduty community")
    assert f"本群（ID {duty}）现在是社区值班群" in reply.text_in(duty)
    listing = (await bot.says_privately(STAFF, "/grids")).text_in(STAFF)
    assert f"值班群：社区 {duty}（/setduty）" in listing
    # An emergency in the grid now alerts this group, without any config change.
    alerted = await bot.says(grid, RESIDENT, FIRE)
    [alert] = alerted.in_chat(duty)
    assert "🚨" in alert["text"] and "5栋" in alert["text"]
    # Escalation after the claim limit lands here too, with the buttons.
    escalated = await bot.advance(timedelta(minutes=10, seconds=1))
    [card] = escalated.in_chat(duty)
    assert "已上报到社区" in card["text"]
    labels = [b["text"] for row in card["reply_markup"]["inline_keyboard"] for b in row]
    assert "认领" in labels


async def test_setduty_moves_and_survives_restart(bot: OfflineBot) -> None:
    first = await duty_group(bot, "旧值班群")
    second = await duty_group(bot, "新值班群")
    await bot.says(first, STAFF, "/setduty street")
    reply = await bot.says(second, STAFF, "/setduty street")
    assert f"原值班群（ID {first}）不再接收" in reply.text_in(second)
    await bot.restart()
    who = (await bot.says(second, STAFF, "/whoami")).text_in(second)
    assert f"本群 ID：{second} · 街道值班群" in who
    who = (await bot.says(first, STAFF, "/whoami")).text_in(first)
    assert "未绑定网格，也不是值班群" in who


async def test_wrong_uses_of_setduty_change_nothing(bot: OfflineBot) -> None:
    grid = await bound_grid(bot)
    duty = await duty_group(bot)
    refused = await bot.says(duty, RESIDENT, "/setduty community")
    assert "社区值班群" not in refused.text_in(duty) and refused.text_in(duty)
    usage = await bot.says(duty, STAFF, "/setduty village")
    assert "请写明层级" in usage.text_in(duty)
    in_grid = await bot.says(grid, STAFF, "/setduty community")
    assert "本群是网格群，不能作为值班群" in in_grid.text_in(grid)
    privately = await bot.says_privately(STAFF, "/setduty community")
    assert "/setduty 需要在值班群里使用" in privately.text_in(STAFF)
    listing = (await bot.says_privately(STAFF, "/grids")).text_in(STAFF)
    assert "值班群：尚未设置" in listing


async def test_whoami_in_groups_tells_what_the_chat_is(bot: OfflineBot) -> None:
    grid = await bound_grid(bot)
    duty = await duty_group(bot)
    await bot.says(duty, STAFF, "/setduty community")
    bot.person(OFFICER, "社区值班员")
    await bot.says(duty, OFFICER, "我是值班员")
    await bot.says(duty, STAFF, "/duty community", reply_to=bot.last_message_id(duty))
    officer = (await bot.says(duty, OFFICER, "/whoami")).text_in(duty)
    assert "社区值班人员" in officer and "您是居民" not in officer
    assert f"本群 ID：{duty} · 社区值班群" in officer
    resident = (await bot.says(grid, RESIDENT, "/whoami")).text_in(grid)
    assert f"本群 ID：{grid} · 网格群：G01 幸福里第一网格" in resident
    assert "您是居民" in resident
    private = (await bot.says_privately(RESIDENT, "/whoami")).text_in(RESIDENT)
    assert "本群 ID" not in private


async def test_a_duty_group_that_becomes_a_supergroup_stays_the_duty_chat(bot: OfflineBot) -> None:
    grid = await bound_grid(bot)
    duty = await duty_group(bot)
    await bot.says(duty, STAFF, "/setduty community")
    new_id = await bot.migrates(duty)
    alerted = await bot.says(grid, RESIDENT, FIRE)
    assert alerted.in_chat(new_id) and not alerted.in_chat(duty)
    listing = (await bot.says_privately(STAFF, "/grids")).text_in(STAFF)
    assert f"社区 {new_id}" in listing


async def test_the_config_overrides_setduty(tmp_path: Path, clock: FakeClock) -> None:
    configured = -100_700
    bot = OfflineBot(
        tmp_path / "o.db",
        staff=(STAFF,),
        clock=clock,
        settings={"escalation": {"community": configured}},
    )
    await bot.start()
    try:
        for uid, name in ((STAFF, "小李"), (HEAD, "王网格长"), (RESIDENT, "张阿姨")):
            bot.person(uid, name)
        bot.emulator.create_group("配置的值班群", chat_id=configured)
        bot.emulator.chat(configured).bot_status = "member"
        grid = await bound_grid(bot)
        other = await duty_group(bot)
        reply = await bot.says(other, STAFF, "/setduty community")
        assert f"[escalation] community = {configured} 仍然优先" in reply.text_in(other)
        alerted = await bot.says(grid, RESIDENT, FIRE)
        assert alerted.in_chat(configured) and not alerted.in_chat(other)
        listing = (await bot.says_privately(STAFF, "/grids")).text_in(STAFF)
        assert f"社区 {configured}（配置文件）" in listing
    finally:
        await bot.stop()
