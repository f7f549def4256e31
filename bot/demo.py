"""`gridbot demo`: a scripted morning across three grids, printed as a transcript.

Runs the real bot against the in-process emulator: no token, no network. Each step is a
person writing (or pressing a button); the transcript shows what the bot answered, where.
"""

from __future__ import annotations

import asyncio
import signal
import sys
import tempfile
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from bot.domain.clock import FakeClock
from bot.emulator import JSONDict
from bot.offline import Exchange, OfflineBot
from bot.render import plain

STAFF = 9001
HEADS = {"G01": 2001, "G02": 2101, "G03": 2201}
WORKER = 2002
ZHANG, LIU, SUN, ZHOU, WU = 3001, 3002, 3003, 3004, 3005
DUTY_OFFICER = 4001
COMMUNITY_DUTY_CHAT = -100_777_000


class Transcript:
    """Prints the demo's conversation as a chat transcript: who said what where, and what the bot
    answered.
    """

    def __init__(self, bot: OfflineBot, out: Any = sys.stdout) -> None:
        self._bot = bot
        self._out = out
        self._names: dict[int, str] = {}
        self._chat_names: dict[int, str] = {}

    def name(self, user_id: int, name: str) -> None:
        """Show `user_id` as `name` in the transcript."""
        self._names[user_id] = name

    def chat(self, chat_id: int, name: str) -> None:
        """Show `chat_id` as `name` in the transcript."""
        self._chat_names[chat_id] = name

    def section(self, title: str) -> None:
        """Start a scene of the scripted morning."""
        print(f"\n━━ {title} ━━", file=self._out)

    def _where(self, chat_id: int) -> str:
        if chat_id in self._chat_names:
            return self._chat_names[chat_id]
        return f"私聊·{self._names.get(chat_id, chat_id)}"

    def said(self, chat_id: int, user_id: int, text: str, exchange: Exchange) -> None:
        """Someone wrote `text` in a chat; then what the bot sent in reply."""
        print(
            f"[{self._where(chat_id)}] {self._names.get(user_id, user_id)}: {text}", file=self._out
        )
        self._answers(exchange)

    def pressed(self, chat_id: int, user_id: int, label: str, exchange: Exchange) -> None:
        """Someone pressed the button labelled `label`; then the toast and what the bot sent."""
        print(
            f"[{self._where(chat_id)}] {self._names.get(user_id, user_id)} 按下 [{label}]",
            file=self._out,
        )
        if exchange.answer and exchange.answer.get("text"):
            print(f"    ↳ 提示：{exchange.answer['text']}", file=self._out)
        self._answers(exchange)

    def answered(self, exchange: Exchange) -> None:
        """What the bot sent in an exchange nobody typed into (a timer, a join)."""
        self._answers(exchange)

    def edited(self, message: JSONDict) -> None:
        """A message of the bot's as it reads after an edit (its buttons gone, say)."""
        lines = plain(message.get("text") or "").splitlines() or [""]
        print(f"    🤖 ✎ [{self._where(message['chat']['id'])}] {lines[0]}", file=self._out)
        for line in lines[1:]:
            print(f"         {line}", file=self._out)

    def _answers(self, exchange: Exchange) -> None:
        for message in exchange.messages:
            self._show(message)

    def _show(self, message: JSONDict) -> None:
        body = plain(message.get("text") or message.get("caption") or "")
        if "document" in message:
            data = self._bot.emulator.file_content(message["document"]["file_id"])
            rows = data.decode("utf-8-sig").splitlines()
            body = (
                f"📎 {message['document']['file_name']}（{len(rows) - 1} 行）\n{body}\n"
                + "\n".join(f"  {row}" for row in rows[:3])
            )
        where = self._where(message["chat"]["id"])
        lines = body.splitlines() or [""]
        print(f"    🤖 → [{where}] {lines[0]}", file=self._out)
        for line in lines[1:]:
            print(f"         {line}", file=self._out)
        keyboard = message.get("reply_markup", {}).get("inline_keyboard", [])
        buttons = " ".join(f"[{b['text']}]" for row in keyboard for b in row)
        if buttons:
            print(f"         {buttons}", file=self._out)


async def play(bot: OfflineBot, out: Any = sys.stdout) -> None:
    """Play the scripted morning across three grids on `bot` and print it to `out`."""
    show = Transcript(bot, out)
    people = {
        DUTY_OFFICER: "社区值班·孙主任",
        STAFF: "街道·小李",
        HEADS["G01"]: "王网格长",
        HEADS["G02"]: "陈网格长",
        HEADS["G03"]: "李网格长",
        WORKER: "赵网格员",
        ZHANG: "张阿姨",
        LIU: "刘大爷",
        SUN: "孙先生",
        ZHOU: "周姐",
        WU: "吴师傅",
    }
    for user_id, name in people.items():
        bot.person(user_id, name)
        show.name(user_id, name)

    async def say(chat: int, who: int, text: str, **kwargs: Any) -> Exchange:
        exchange = await bot.says(chat, who, text, **kwargs)
        show.said(chat, who, text, exchange)
        return exchange

    async def say_privately(who: int, text: str) -> Exchange:
        exchange = await bot.says_privately(who, text)
        show.said(who, who, text, exchange)
        return exchange

    async def press(chat: int, who: int, message: JSONDict, label: str) -> Exchange:
        for row in message["reply_markup"]["inline_keyboard"]:
            for key in row:
                if key["text"].startswith(label):
                    exchange = await bot.presses(
                        chat, message["message_id"], who, key["callback_data"]
                    )
                    show.pressed(chat, who, key["text"], exchange)
                    return exchange
        raise LookupError(f"no button {label} on message {message['message_id']}")

    async def wait(minutes: int, why: str) -> Exchange:
        print(f"    …… {why}（时间快进 {minutes} 分钟）", file=out)
        exchange = await bot.advance(timedelta(minutes=minutes))
        show.answered(exchange)
        return exchange

    show.section("1. 街道工作人员把三个群绑定为网格，任命网格长")
    grids: dict[str, int] = {}
    for code, name in (("G01", "幸福里第一网格"), ("G02", "幸福里第二网格"), ("G03", "和平苑网格")):
        chat = await bot.group(f"{name}群", added_by=STAFF)
        grids[code] = chat
        show.chat(chat, f"{name}群")
        await say(chat, STAFF, f"/bind {code} {name}")
        await say(chat, HEADS[code], "大家好，我是本网格的网格长")
        await say(chat, STAFF, "/head", reply_to=bot.last_message_id(chat))
    await say(grids["G01"], WORKER, "我是网格员小赵，有事找我")
    await say(grids["G01"], STAFF, "/worker", reply_to=bot.last_message_id(grids["G01"]))
    await bot.runtime.services.grids.set_tags(STAFF, "G01", ["幸福社区"])
    for code in ("G01", "G02", "G03"):
        await say_privately(HEADS[code], "/start")
    await say_privately(STAFF, "/grids")

    duty_chat = bot.emulator.create_group("社区值班群", chat_id=COMMUNITY_DUTY_CHAT)
    bot.emulator.chat(duty_chat["id"]).bot_status = "member"
    show.chat(COMMUNITY_DUTY_CHAT, "社区值班群")
    await say(COMMUNITY_DUTY_CHAT, DUTY_OFFICER, "本周社区值班：孙主任")
    await say(
        COMMUNITY_DUTY_CHAT,
        STAFF,
        "/duty community",
        reply_to=bot.last_message_id(COMMUNITY_DUTY_CHAT),
    )

    show.section("2. 居民照常说话：报事被登记，闲聊不打扰")
    g01, g02, g03 = grids["G01"], grids["G02"], grids["G03"]
    await say(g01, ZHANG, "3栋电梯又坏了 老人下不了楼")
    await say(g01, LIU, "收到")
    await say(g01, LIU, "今天广场舞好开心😄")
    await say(g01, ZHOU, "明天停水，大家注意储水")
    await say(g02, WU, "楼下饭店油烟熏死人了，窗户都不敢开")
    await say(g02, ZHOU, "谢谢网格员 路灯已经亮了👍")

    show.section("3. 同一个问题再有人说：记为 +1，不重复立案")
    await say(g01, LIU, "3栋的电梯坏了好几天了 没人管吗")

    show.section("4. 紧急事件：立即在群里提醒网格长、私信网格长")
    await say(g03, SUN, "5号楼2单元楼道里好大的煤气味！！")

    show.section("5. 私下反映：不在群里公开")
    start = await say(g02, ZHOU, "/start")
    del start
    await say_privately(ZHOU, "/start g_G02")
    await say_privately(ZHOU, "我家楼上天天半夜装修 吵得睡不着 不想在群里说")
    await say(g01, ZHANG, "/my")

    show.section("6. 网格长闭环：认领 → 办结 → 居民确认并评分")
    await say(g01, HEADS["G01"], "/open")
    await say(g01, HEADS["G01"], "/claim 1")
    closing = await say(g01, HEADS["G01"], "/close 1 已联系电梯公司更换控制板，今天恢复运行")
    ask = closing.in_chat(g01)[-1]
    await press(g01, ZHANG, ask, "已解决")
    await press(g01, ZHANG, ask, "5")

    show.section("7. 居民说没解决：重新打开，回到原处理人")
    await say(g02, HEADS["G02"], "/claim 2")
    closing = await say(g02, HEADS["G02"], "/close 2 已约谈饭店老板，要求清洗油烟机")
    await press(g02, WU, closing.in_chat(g02)[-1], "未解决")

    show.section("8. 超时督办：紧急事件10分钟无人认领，自动上报社区值班")
    await wait(8, "李网格长一直没有响应")
    escalated = await wait(2, "认领时限到了")
    card = escalated.in_chat(COMMUNITY_DUTY_CHAT)[-1]
    await press(COMMUNITY_DUTY_CHAT, DUTY_OFFICER, card, "认领")

    async def confirm_notice(preview: Exchange) -> None:
        """[确认] under a notice's preview: the preview becomes the confirmation."""
        asking = next(m for m in preview.messages if m.get("reply_markup"))
        key = asking["reply_markup"]["inline_keyboard"][0][0]
        exchange = await bot.presses(STAFF, asking["message_id"], STAFF, key["callback_data"])
        show.pressed(STAFF, STAFF, key["text"], Exchange())
        edited = bot.emulator.message(STAFF, asking["message_id"])
        assert edited is not None
        show.edited(edited)
        show.answered(exchange)

    show.section("9. 街道通知：先预览再确认，逐群生成内容送达每个网格，发完有报告")
    await confirm_notice(
        await say_privately(
            STAFF,
            "/notice now all\n各位{{ grid.name }}的居民：本周六 8:00–12:00 停水检修，请提前储水。\n"
            "有事请找网格长{{ heads|map(attribute='name')|join('、') }}。",
        )
    )
    await confirm_notice(
        await say_privately(
            STAFF,
            "/notice 每周一 09:00 all\n🔥 {{ grid.name }}消防安全提醒：楼道不堆物，电动车不进楼。"
            "本网格还有 {{ open_tickets }} 件事在办。",
        )
    )
    await say_privately(STAFF, "/notices")
    await wait(20, "周一 09:00 到了，每周的消防提醒按时发出")

    show.section("10. 向上报数：统计与导出")
    await say_privately(STAFF, "/stats")
    await say(g01, HEADS["G01"], "/stats 7d")
    await say_privately(STAFF, "/export month all")


def run_demo(
    db_path: str | None = None,
    out: Any = sys.stdout,
    *,
    console: bool = False,
    console_port: int = 0,
) -> int:
    """Play the morning; with `console`, then serve the staff console on its data until ^C."""

    async def main() -> None:
        with tempfile.TemporaryDirectory(prefix="gridbot-demo-") as scratch:
            path = Path(db_path) if db_path else Path(scratch) / "demo.db"
            clock = FakeClock(datetime(2026, 11, 23, 0, 30, tzinfo=UTC))  # 08:30 in Shanghai
            settings: dict[str, dict[str, Any]] = {
                "escalation": {"community": COMMUNITY_DUTY_CHAT},
            }
            if console:
                settings["web"] = {"enabled": True, "port": console_port}
            async with OfflineBot(path, staff=(STAFF,), clock=clock, settings=settings) as bot:
                print("gridbot demo — 本地模拟的 Telegram，没有网络、无需 token", file=out)
                await play(bot, out)
                print("\n演示结束。", file=out)
                if console:
                    await serve_console(bot, out)

    try:
        asyncio.run(main())
    except KeyboardInterrupt:
        pass
    return 0


async def serve_console(bot: OfflineBot, out: Any) -> None:
    """Print a login link for the demo's street staff member and serve until interrupted."""
    secret = await bot.runtime.services.console.issue_login_link(STAFF)
    print(f"\n工作台 / staff console: {bot.runtime.console.login_url(secret)}", file=out)
    print("（按 Ctrl+C 结束 / Ctrl+C to stop）", file=out, flush=True)
    stop = asyncio.Event()
    # A service manager or a terminal closing sends SIGTERM: stop as cleanly as on Ctrl+C.
    asyncio.get_running_loop().add_signal_handler(signal.SIGTERM, stop.set)
    await stop.wait()
