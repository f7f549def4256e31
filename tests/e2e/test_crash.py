"""`gridbot run` killed with SIGKILL at random moments and restarted on the same database.

The bot is a real process long-polling the in-process emulator. Residents keep writing
(requests and chit-chat) while it is killed at points drawn from a fixed seed, once more
while its escalation timers are about to fire, and restarted each time. Afterwards:

- every request message has exactly one ticket ('report' row), chit-chat none;
- the database passes PRAGMA integrity_check (SQLite);
- every ticket was escalated automatically exactly once per level (the claim limit is 3 s,
  and each escalation gives fresh limits at the next level): a timer that fell due while
  the bot was dead fired late after the restart, none fired twice.

They run on SQLite and on PostgreSQL (the process is killed while it holds pooled
connections in the middle of transactions: the server rolls them back).
"""

from __future__ import annotations

import asyncio
import random
import re
import signal
import sqlite3
import sys
import time
from collections import Counter
from collections.abc import Callable
from pathlib import Path

import pytest

from bot.emulator import BotApiEmulator, JSONDict
from tests.conftest import open_storage, run_blocking

pytestmark = pytest.mark.both_backends

TOKEN = "778899:CRASH-TEST-TOKEN"
ROOT = Path(__file__).resolve().parents[2]
STAFF = 9001
RESIDENT = 40_000
GRIDS = 4
SEED = 20261122
CHATTER = ["大家早上好", "今天天气不错", "谢谢网格员", "收到", "哈哈哈", "好的", "孩子放学了吗"]


class Store:
    """The database under the killed process, read from outside it (SQLite or PostgreSQL)."""

    def __init__(self, database: dict[str, str]) -> None:
        self.database = database
        self.is_sqlite = "path" in database

    def toml(self) -> str:
        return "\n".join(f'{key} = "{value}"' for key, value in self.database.items())

    def query(self, sql: str) -> list[tuple]:
        if self.is_sqlite:
            conn = sqlite3.connect(f"file:{self.database['path']}?mode=ro", uri=True, timeout=10)
            try:
                return conn.execute(sql).fetchall()
            finally:
                conn.close()
        return run_blocking(self._pg_query(sql))  # type: ignore[return-value]

    async def _pg_query(self, sql: str) -> list[tuple]:
        import asyncpg

        conn = await asyncpg.connect(self.database["url"])
        try:
            return [tuple(row) for row in await conn.fetch(sql)]
        finally:
            await conn.close()

    def is_sound(self) -> bool:
        """SQLite's integrity check; PostgreSQL checks its own pages (it answered the queries)."""
        return not self.is_sqlite or self.query("PRAGMA integrity_check") == [("ok",)]


def write_config(
    tmp_path: Path, emulator: BotApiEmulator, db: Store, overall_max_rate: int = 1000
) -> Path:
    config = tmp_path / "config.toml"
    sla = "\n".join(
        f'[sla.{u}]\nclaim = "3s"\nresolve = "1h"' for u in ("emergency", "high", "normal")
    )
    config.write_text(
        f"""
[telegram]
base_url = "{emulator.base_url}"
base_file_url = "{emulator.base_file_url}"
overall_max_rate = {overall_max_rate}
group_max_rate = 100000
[database]
{db.toml()}
[bot]
log_level = "WARNING"
[roles]
staff = [{STAFF}]
{sla}
""",
        encoding="utf-8",
    )
    return config


async def seed(db: Store, count: int = GRIDS, inactive: int = 0) -> list[int]:
    """Bound grids, written before the first start; returns their chat ids.

    The last `inactive` of them are inactive (the bot was removed from their chats).
    """
    storage = await open_storage(db.database)
    chats = [-3_000_001 - n for n in range(count)]
    async with storage.db.transaction() as tx:
        await tx.executemany(
            "INSERT INTO grids (code, name, chat_id, active, created_at, updated_at) "
            "VALUES (?, ?, ?, ?, 0, 0)",
            [
                (f"K{n:02d}", f"崩溃测试网格{n}", chat, int(n < count - inactive))
                for n, chat in enumerate(chats)
            ],
        )
    await storage.close()
    return chats


def replies_to(emulator: BotApiEmulator, chat: int, message_id: int) -> list[JSONDict]:
    """The bot's messages in `chat` that answer the resident's message `message_id`."""
    return [
        m
        for m in emulator.messages_in(chat)
        if (m.get("reply_to_message") or {}).get("message_id") == message_id
    ]


# An acknowledgement ("已登记", edited to "已撤销" by a withdrawal) or a "+1" reply; progress
# news (reminders, escalations) replies to the report too and is not its answer.
ANSWER_MARKS = ("已登记", "已撤销", "也遇到")


def answers_to(emulator: BotApiEmulator, chat: int, message_id: int) -> list[JSONDict]:
    return [
        m
        for m in replies_to(emulator, chat, message_id)
        if any(mark in m.get("text", "") for mark in ANSWER_MARKS)
    ]


async def until(condition: Callable[[], bool], timeout: float, what: str) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out after {timeout} s waiting for {what}")
        await asyncio.sleep(0.05)


class BotProcess:
    def __init__(self, config: Path, emulator: BotApiEmulator) -> None:
        self.config = config
        self.emulator = emulator
        self.process: asyncio.subprocess.Process | None = None
        self.starts = 0

    async def start(self) -> None:
        since = len(self.emulator.calls)
        self.process = await asyncio.create_subprocess_exec(
            sys.executable,
            "-m",
            "bot",
            "run",
            "-c",
            str(self.config),
            cwd=ROOT,
            env={"GRIDBOT_TOKEN": TOKEN, "PATH": "/usr/bin:/bin", "PTB_TIMEDELTA": "1"},
            stdout=asyncio.subprocess.DEVNULL,
            stderr=asyncio.subprocess.PIPE,
        )
        self.starts += 1
        await self.emulator.wait_for_call("getUpdates", timeout=30, since=since)

    async def kill(self) -> None:
        assert self.process is not None
        self.process.send_signal(signal.SIGKILL)
        await asyncio.wait_for(self.process.wait(), 10)

    async def stop(self) -> str:
        assert self.process is not None
        if self.process.returncode is not None:
            return ""
        self.process.send_signal(signal.SIGTERM)
        _out, err = await asyncio.wait_for(self.process.communicate(), 30)
        return err.decode(errors="replace")


async def test_sigkill_at_random_points_loses_and_doubles_nothing(
    tmp_path: Path, database: dict[str, str]
) -> None:
    rng = random.Random(SEED)
    db = Store(database)
    chats = await seed(db)
    async with BotApiEmulator(token=TOKEN, bot_username="gridbot_bot") as emulator:
        emulator.add_user(STAFF, "街道小李")
        for n in range(20):
            emulator.add_user(RESIDENT + n, f"居民{n}")
        for n, chat in enumerate(chats):
            emulator.create_group(f"崩溃测试网格{n}群", chat_id=chat)
            emulator.chat(chat).bot_status = "member"
        bot = BotProcess(write_config(tmp_path, emulator, db), emulator)
        requests: set[tuple[int, int]] = set()
        chatter: set[tuple[int, int]] = set()
        follows: set[tuple[int, int]] = set()  # "+1"s: another resident, the same building
        # request message → (reporter, building); followed ones are never withdrawn
        reported: dict[tuple[int, int], tuple[int, int]] = {}
        followed: set[tuple[int, int]] = set()
        withdrawn: set[tuple[int, int]] = set()  # requests whose [不是报事] was pressed
        building = 0
        kills = 0

        async def residents_write(count: int) -> None:
            nonlocal building
            for _ in range(count):
                chat = rng.choice(chats)
                user = RESIDENT + rng.randrange(20)
                earlier = [
                    (key, who, b)
                    for key, (who, b) in reported.items()
                    if key[0] == chat and who != user and key not in withdrawn
                ]
                roll = rng.random()
                if roll < 0.15 and earlier:
                    key, _who, b = rng.choice(earlier)
                    message = emulator.post_message(chat, user, f"{b}栋电梯又坏了")
                    follows.add((chat, message["message_id"]))
                    followed.add(key)
                elif roll < 0.55:
                    building += 1  # a building of its own: never merged into a "+1"
                    message = emulator.post_message(
                        chat, user, f"{building}栋电梯坏了，老人上不了楼"
                    )
                    requests.add((chat, message["message_id"]))
                    reported[(chat, message["message_id"])] = (user, building)
                else:
                    message = emulator.post_message(chat, user, rng.choice(CHATTER))
                    chatter.add((chat, message["message_id"]))
                await asyncio.sleep(rng.uniform(0, 0.02))

        def withdraw_some(count: int) -> None:
            """Reporters press [不是报事] under acknowledgements of requests nobody followed."""
            for chat, message_id in rng.sample(sorted(set(reported) - followed - withdrawn), count):
                acks = replies_to(emulator, chat, message_id)
                if not acks or not acks[0].get("reply_markup"):
                    continue
                data = next(
                    b["callback_data"]
                    for row in acks[0]["reply_markup"]["inline_keyboard"]
                    for b in row
                    if "不是报事" in b["text"]
                )
                emulator.press_button(
                    chat, acks[0]["message_id"], reported[(chat, message_id)][0], data
                )
                withdrawn.add((chat, message_id))

        def reports() -> set[tuple[int, int]]:
            return {
                (c, m)
                for c, m in db.query(
                    "SELECT chat_id, message_id FROM ticket_messages WHERE role = 'report'"
                )
            }

        def answered() -> bool:
            return all(answers_to(emulator, c, m) for c, m in requests | follows)

        try:
            await bot.start()
            # Killed mid-traffic, at points drawn from the seed; from the second round on,
            # withdrawals are in flight too.
            for round_ in range(3):
                writing = asyncio.create_task(residents_write(20))
                if round_:
                    withdraw_some(2)
                await asyncio.sleep(rng.uniform(0.05, 0.4))
                await bot.kill()
                kills += 1
                await writing
                await bot.start()
            await until(lambda: reports() >= requests, 20, "every request to be filed")
            await until(answered, 20, "every request and +1 to be answered")
            # Killed again right before the first claim limits pass (3 s after filing), and
            # kept down for a while: those escalations fire late, after the restart.
            first_filed = db.query("SELECT MIN(created_at) FROM tickets")[0][0]
            await asyncio.sleep(max(0.0, first_filed + 2.8 - time.time()))
            await bot.kill()
            kills += 1
            await asyncio.sleep(1.0)
            await bot.start()

            def escalated() -> bool:
                done = {
                    row[0]
                    for row in db.query(
                        "SELECT ticket_id FROM ticket_events WHERE kind = 'escalated_auto'"
                    )
                }
                kept = {row[0] for row in db.query("SELECT id FROM tickets WHERE closure IS NULL")}
                return done >= kept  # a withdrawn one may have escalated before its withdrawal

            await until(escalated, 15, "every ticket to be escalated")
        finally:
            logs = await bot.stop()
    assert "Traceback" not in logs, logs

    assert len(requests) > 10 and len(chatter) > 10 and len(follows) > 3 and withdrawn
    filed = reports()
    assert filed == requests  # every request once; no chit-chat
    assert not filed & chatter
    assert db.query("SELECT COUNT(*) FROM tickets")[0][0] == len(requests)
    assert db.is_sound()
    # Every request and every "+1" has its answer; chit-chat none. Telegram offers no
    # idempotency key, so a kill between Telegram accepting an answer and our commit can
    # repeat that one answer: at most the ones in flight (one per kill in practice).
    answers = {key: len(answers_to(emulator, *key)) for key in requests | follows}
    assert all(n >= 1 for n in answers.values()), answers
    repeated = sum(n - 1 for n in answers.values())
    assert repeated <= kills, f"{repeated} answers repeated after {kills} kills"
    assert not any(replies_to(emulator, *key) for key in chatter)
    assert db.query("SELECT COUNT(*) FROM ticket_followers")[0][0] == len(follows)
    # Withdrawals in flight: each withdrawn ticket is closed, its acknowledgement says so.
    closed = {
        (c, m)
        for c, m in db.query(
            "SELECT chat_id, message_id FROM tickets WHERE closure = 'not_a_request'"
        )
    }
    assert closed == withdrawn
    for key in withdrawn:
        assert "已撤销" in answers_to(emulator, *key)[0]["text"], answers_to(emulator, *key)

    levels = Counter(
        (ticket, note.split(":", 1)[0])
        for ticket, note in db.query(
            "SELECT ticket_id, note FROM ticket_events WHERE kind = 'escalated_auto'"
        )
    )
    assert levels, "no automatic escalation"
    doubled = {key: n for key, n in levels.items() if n > 1}
    assert not doubled, f"escalations fired twice: {doubled}"
    # Reminders: every one that fell due has fired (late, after a restart, if need be), and
    # no ticket was reminded more often than its reminder timers fired: a kill between the
    # timer's commit and its message can lose that message, never double it.
    assert db.query(
        "SELECT COUNT(*) FROM timers WHERE done_at IS NULL AND kind LIKE "
        f"'ticket.claim%' AND due_at < {int(time.time()) - 2}",
    ) == [(0,)]
    fired = Counter(
        ticket
        for (ticket,) in db.query(
            "SELECT ref_id FROM timers WHERE kind = 'ticket.claim_remind' AND outcome = 'fired'"
        )
    )
    reminded = Counter(
        int(re.search(r"#(\d+)", m.get("text", "")).group(1))  # type: ignore[union-attr]
        for chat in chats
        for m in emulator.messages_in(chat)
        if "还没有人认领" in m.get("text", "")
    )
    assert reminded, "no claim reminder was sent"
    assert not {t: n for t, n in reminded.items() if n > fired[t]}, (reminded, fired)
    assert {ticket for ticket, level in levels if level == "community"} >= {
        row[0] for row in db.query("SELECT id FROM tickets WHERE closure IS NULL")
    }
    # Every timer that fell due has fired (or was cancelled) exactly once: none left behind.
    overdue = db.query(
        "SELECT kind, ref_id FROM timers WHERE done_at IS NULL AND "
        f"due_at < {int(time.time()) - 2}",
    )
    assert not overdue, overdue
    assert bot.starts == 5


async def test_sigkill_during_a_notice_broadcast_reaches_every_active_grid(
    tmp_path: Path, database: dict[str, str]
) -> None:
    """Killed twice while a notice goes out to 60 grids at 20 messages/s, restarted.

    Every active grid gets it; a kill repeats at most the message that was in flight (sent
    to Telegram, not yet recorded); inactive grids get nothing.
    """
    rng = random.Random(SEED + 1)
    db = Store(database)
    chats = await seed(db, count=62, inactive=2)
    active, inactive = chats[:60], chats[60:]
    async with BotApiEmulator(token=TOKEN, bot_username="gridbot_bot") as emulator:
        emulator.add_user(STAFF, "街道小李")
        for n, chat in enumerate(chats):
            emulator.create_group(f"崩溃测试网格{n}群", chat_id=chat)
            emulator.chat(chat).bot_status = "member" if chat in active else "left"
        emulator.private_chat_started(STAFF)
        bot = BotProcess(write_config(tmp_path, emulator, db, overall_max_rate=20), emulator)

        def notices(chat: int) -> list[JSONDict]:
            return [m for m in emulator.messages_in(chat) if "停水通知" in m.get("text", "")]

        def sent_so_far() -> int:
            return sum(len(notices(chat)) for chat in active)

        kills = 0
        try:
            await bot.start()
            emulator.post_message(
                STAFF, STAFF, "/notice now all\n停水通知：{{ grid.code }} 本周六停水"
            )
            await until(
                lambda: any(m.get("reply_markup") for m in emulator.messages_in(STAFF)),
                10,
                "the preview with its buttons",
            )
            asking = next(m for m in emulator.messages_in(STAFF) if m.get("reply_markup"))
            confirm = next(
                b["callback_data"]
                for row in asking["reply_markup"]["inline_keyboard"]
                for b in row
                if b["text"].endswith("确认")
            )
            emulator.press_button(STAFF, asking["message_id"], STAFF, confirm)
            for lower, upper in ((5, 25), (30, 50)):  # two kills, at drawn points of the run
                at = rng.randint(lower, upper)
                await until(lambda at=at: sent_so_far() >= at, 30, f"{at} notices sent")
                await bot.kill()
                kills += 1
                await bot.start()
            await until(
                lambda: all(notices(chat) for chat in active), 30, "the notice in every active grid"
            )
            await until(
                lambda: db.query("SELECT status FROM notice_runs") == [("done",)],
                10,
                "the run to be recorded done",
            )
        finally:
            logs = await bot.stop()
    assert "Traceback" not in logs, logs

    assert all(notices(chat) == [] for chat in inactive)
    repeated = sum(len(notices(chat)) - 1 for chat in active)
    assert repeated <= kills, f"{repeated} grids got the notice twice after {kills} kills"
    deliveries = db.query("SELECT chat_id, status, message_id FROM notice_deliveries")
    assert len(deliveries) == len(active)
    for chat, status, message_id in deliveries:
        assert status == "sent"
        assert message_id in [m["message_id"] for m in notices(chat)]
    assert db.is_sound()


async def test_a_plus_one_whose_reply_waited_on_a_429_is_answered_after_a_kill(
    tmp_path: Path, database: dict[str, str]
) -> None:
    """Issue #14's case: B's "+1" is committed, its reply waits out a 429, the bot is killed.

    After the restart the re-delivered update must get its reply — exactly once — and the
    first report's acknowledgement is not repeated.
    """
    db = Store(database)
    [chat] = await seed(db, count=1)
    a, b = RESIDENT, RESIDENT + 1
    async with BotApiEmulator(token=TOKEN, bot_username="gridbot_bot") as emulator:
        emulator.add_user(STAFF, "街道小李")
        emulator.add_user(a, "居民甲")
        emulator.add_user(b, "居民乙")
        emulator.create_group("崩溃测试网格0群", chat_id=chat)
        emulator.chat(chat).bot_status = "member"
        bot = BotProcess(write_config(tmp_path, emulator, db), emulator)
        try:
            await bot.start()
            first = emulator.post_message(chat, a, "3栋电梯坏了")
            await until(
                lambda: len(answers_to(emulator, chat, first["message_id"])) == 1,
                10,
                "A's acknowledgement",
            )
            emulator.inject_fault("sendMessage", kind="429", retry_after=30, chat_id=chat)
            since = len(emulator.calls)
            second = emulator.post_message(chat, b, "3栋电梯又坏了")
            await emulator.wait_for_call(
                "sendMessage", lambda call: call.status == 429, timeout=10, since=since
            )
            assert db.query("SELECT COUNT(*) FROM ticket_followers") == [(1,)]
            await bot.kill()
            await bot.start()
            await until(
                lambda: answers_to(emulator, chat, second["message_id"]) != [],
                15,
                "B's reply after the restart",
            )
            await asyncio.sleep(1.0)  # room for a second, wrong reply
        finally:
            logs = await bot.stop()
    assert "Traceback" not in logs, logs
    # (The crash config's claim limit is 3 s: reminders reply to the report too.)
    [reply] = answers_to(emulator, chat, second["message_id"])
    assert "也遇到" in reply["text"]
    assert len(answers_to(emulator, chat, first["message_id"])) == 1
    assert db.query("SELECT COUNT(*) FROM tickets") == [(1,)]
