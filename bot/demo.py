"""`gridbot demo`: a scripted morning across three grids, printed as a transcript.

Runs the real bot against the in-process emulator: no token, no network. Each step is a
person writing (or pressing a button); the transcript shows what the bot answered, where.
"""

from __future__ import annotations

import asyncio
import html
import re
import sys
import tempfile
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from bot.domain.clock import FakeClock
from bot.emulator import JSONDict
from bot.offline import Exchange, OfflineBot

STAFF = 9001
HEADS = {"G01": 2001, "G02": 2101, "G03": 2201}
WORKER = 2002
ZHANG, LIU, SUN, ZHOU, WU = 3001, 3002, 3003, 3004, 3005

_TAG = re.compile(r"<[^>]+>")


def plain(text: str) -> str:
    return html.unescape(_TAG.sub("", text))


class Transcript:
    def __init__(self, bot: OfflineBot, out: Any = sys.stdout) -> None:
        self._bot = bot
        self._out = out
        self._names: dict[int, str] = {}
        self._chat_names: dict[int, str] = {}

    def name(self, user_id: int, name: str) -> None:
        self._names[user_id] = name

    def chat(self, chat_id: int, name: str) -> None:
        self._chat_names[chat_id] = name

    def section(self, title: str) -> None:
        print(f"\n━━ {title} ━━", file=self._out)

    def _where(self, chat_id: int) -> str:
        if chat_id in self._chat_names:
            return self._chat_names[chat_id]
        return f"私聊·{self._names.get(chat_id, chat_id)}"

    def said(self, chat_id: int, user_id: int, text: str, exchange: Exchange) -> None:
        print(f"[{self._where(chat_id)}] {self._names.get(user_id, user_id)}: {text}",
              file=self._out)
        self._answers(exchange)

    def pressed(self, chat_id: int, user_id: int, label: str, exchange: Exchange) -> None:
        print(f"[{self._where(chat_id)}] {self._names.get(user_id, user_id)} 按下 [{label}]",
              file=self._out)
        if exchange.answer and exchange.answer.get("text"):
            print(f"    ↳ 提示：{exchange.answer['text']}", file=self._out)
        self._answers(exchange)

    def _answers(self, exchange: Exchange) -> None:
        for message in exchange.messages:
            self._show(message)

    def _show(self, message: JSONDict) -> None:
        body = plain(message.get("text") or message.get("caption") or "")
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
    show = Transcript(bot, out)
    people = {
        STAFF: "街道·小李", HEADS["G01"]: "王网格长", HEADS["G02"]: "陈网格长",
        HEADS["G03"]: "李网格长", WORKER: "赵网格员", ZHANG: "张阿姨", LIU: "刘大爷",
        SUN: "孙先生", ZHOU: "周姐", WU: "吴师傅",
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


def run_demo(db_path: str | None = None, out: Any = sys.stdout) -> int:
    async def main() -> None:
        with tempfile.TemporaryDirectory(prefix="gridbot-demo-") as scratch:
            path = Path(db_path) if db_path else Path(scratch) / "demo.db"
            clock = FakeClock(datetime(2026, 11, 23, 0, 30, tzinfo=UTC))  # 08:30 in Shanghai
            async with OfflineBot(path, staff=(STAFF,), clock=clock) as bot:
                print("gridbot demo — 本地模拟的 Telegram，没有网络、无需 token", file=out)
                await play(bot, out)
                print("\n演示结束。", file=out)

    asyncio.run(main())
    return 0
