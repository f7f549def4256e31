"""Issue #7: every state-changing command and button × every role, as the README says.

One world per role (`world`), then that role tries everything in it. An allowed attempt
must change something; a refused one must change nothing — tickets, events, grids, roles,
duty, logs, notices, pending confirmations are compared before and after.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest

from bot.domain.clock import FakeClock
from bot.offline import Exchange, OfflineBot
from tests.e2e.conftest import HEAD, NEIGHBOUR, OTHER_HEAD, RESIDENT, STAFF, WORKER, bound_grid
from tests.e2e.test_loop import button, with_worker

DUTY_COMMUNITY_CHAT = -100_700
DUTY_STREET_CHAT = -100_701
DUTY_COMMUNITY = 4001  # duty staff of the level the tickets were escalated to
DUTY_STREET = 4002  # duty staff of another level
CANDIDATE = 5001  # the person staff appoint or remove in /head, /worker, /duty
STRANGER = 6001  # never seen by the bot before their attempt
ANONYMOUS = 0  # an anonymous group admin posts as the G01 chat

# Tickets of G01, all reported by RESIDENT and escalated to community, one per attempt.
T_CLAIM, T_CLOSE, T_REOPEN, T_TRANSFER, T_ESCALATE, T_REJECT, T_NOTE = 1, 2, 3, 4, 5, 6, 7
B_NOT_A_REPORT, B_FOLLOW, B_CLAIM, B_RESOLVE, B_ESCALATE, B_VERIFY = 8, 9, 10, 11, 12, 13
T_OTHER_GRID = 14  # a ticket of G02

# Tables whose rows a refusal must leave alone (people and chats are only "seen" records).
WATCHED = (
    "grids",
    "grid_tags",
    "memberships",
    "pending_actions",
    "tickets",
    "ticket_followers",
    "ticket_verifications",
    "duty_staff",
    "patrol_logs",
    "notices",
    "notice_runs",
)


@dataclass
class World:
    bot: OfflineBot
    g01: int
    g02: int
    move_chat: int  # an unbound group where staff asked to move G02 here
    acks: dict[int, int] = field(default_factory=dict)  # ticket id → its card in G01
    verify_ask: int = 0
    move_question: dict[str, Any] = field(default_factory=dict)
    notice_preview: dict[str, Any] = field(default_factory=dict)

    async def snapshot(self) -> dict[str, Any]:
        db = self.bot.db
        state: dict[str, Any] = {}
        for table in WATCHED:
            rows = await db.fetchall(f"SELECT * FROM {table} ORDER BY rowid")  # noqa: S608
            state[table] = [tuple(r) for r in rows]
        row = await db.fetchone("SELECT COUNT(*) FROM ticket_events")
        state["ticket_events"] = row[0] if row else None
        return state


async def world(tmp_path: Path, clock: FakeClock) -> World:
    bot = OfflineBot(
        tmp_path / "perm.db",
        staff=(STAFF,),
        clock=clock,
        settings={
            "escalation": {"community": DUTY_COMMUNITY_CHAT, "street": DUTY_STREET_CHAT},
            "intake": {"max_tickets_per_hour": 100},
        },
    )
    await bot.start()
    for uid, name in (
        (STAFF, "小李"),
        (HEAD, "王网格长"),
        (WORKER, "赵网格员"),
        (RESIDENT, "张阿姨"),
        (NEIGHBOUR, "刘大爷"),
        (OTHER_HEAD, "陈网格长"),
        (DUTY_COMMUNITY, "社区值班员"),
        (DUTY_STREET, "街道值班员"),
        (CANDIDATE, "候选人"),
        (STRANGER, "路人"),
    ):
        bot.person(uid, name)
    for duty_chat in (DUTY_COMMUNITY_CHAT, DUTY_STREET_CHAT):
        bot.emulator.create_group("值班群", chat_id=duty_chat)
        bot.emulator.chat(duty_chat).bot_status = "member"
    g01 = await bound_grid(bot)
    g02 = await bound_grid(bot, "G02", "第二网格", head=OTHER_HEAD)
    await with_worker(bot, g01)
    for person, level, chat in (
        (DUTY_COMMUNITY, "community", DUTY_COMMUNITY_CHAT),
        (DUTY_STREET, "street", DUTY_STREET_CHAT),
    ):
        await bot.says(chat, person, "我值班")
        await bot.says(chat, STAFF, f"/duty {level}", reply_to=bot.last_message_id(chat))
    await bot.says(g01, CANDIDATE, "我是新来的志愿者")
    await bot.says(g01, NEIGHBOUR, "大家好")
    move_chat = await bot.group("新群", added_by=STAFF)
    w = World(bot, g01, g02, move_chat)
    for n in range(1, T_OTHER_GRID):
        ack = (await bot.says(g01, RESIDENT, f"{n}栋楼道灯坏了好几天了")).in_chat(g01)[0]
        w.acks[n] = ack["message_id"]
    await bot.says(g02, NEIGHBOUR, "9栋门口下水道堵了")
    loop = bot.runtime.services.loop
    head = await loop.actor(HEAD)
    for n in range(1, T_OTHER_GRID):
        if n != B_NOT_A_REPORT:  # withdrawing is for fresh tickets
            await loop.escalate(n, head, "需要社区协调")
    await loop.resolve(T_REOPEN, head, "修好了", None)
    w.verify_ask = (await bot.says(g01, HEAD, f"/close {B_VERIFY} 修好了")).in_chat(g01)[-1][
        "message_id"
    ]
    w.move_question = (await bot.says(move_chat, STAFF, "/bind G02 第二网格")).in_chat(move_chat)[0]
    bot.emulator.private_chat_started(STAFF)
    w.notice_preview = (await bot.says_privately(STAFF, "/notice now all\n明天停水")).in_chat(
        STAFF
    )[-1]
    tickets = await bot.db.fetchall("SELECT id, grid_id, level FROM tickets")
    assert len(tickets) == T_OTHER_GRID
    return w


# --- the attempts ---

Attempt = Callable[[World, int], Awaitable[Exchange]]


def command(
    text: str,
    *,
    in_chat: str = "g01",
    reply_to_candidate: bool = False,
    mention_worker: bool = False,
) -> Attempt:
    async def attempt(w: World, who: int) -> Exchange:
        chat = w.g01 if in_chat == "g01" else None
        kwargs: dict[str, Any] = {}
        if reply_to_candidate:
            kwargs["reply_to"] = next(
                m
                for m, msg in sorted(w.bot.emulator.chat(w.g01).messages.items())
                if msg.get("from", {}).get("id") == CANDIDATE
            )
        if mention_worker:
            kwargs["text_mentions"] = [("@赵网格员", WORKER)]
        if who == ANONYMOUS:
            # An anonymous admin can only post in the group, as the group.
            return await w.bot.says(
                w.g01,
                None,
                text,
                sender_chat_id=w.g01,  # type: ignore[arg-type]
                **kwargs,
            )
        if chat is None:
            return await w.bot.says_privately(who, text, **kwargs)
        return await w.bot.says(chat, who, text, **kwargs)

    return attempt


def press(data: Callable[[World], str], message: Callable[[World], tuple[int, int]]) -> Attempt:
    async def attempt(w: World, who: int) -> Exchange:
        chat, message_id = message(w)
        return await w.bot.presses(chat, message_id, who, data(w), check=False)

    return attempt


def first_button(message: dict[str, Any]) -> str:
    return str(message["reply_markup"]["inline_keyboard"][0][0]["callback_data"])


def card(ticket: int) -> Callable[[World], tuple[int, int]]:
    return lambda w: (w.g01, w.acks[ticket])


def on_card(ticket: int, label: str) -> Attempt:
    return press(
        lambda w: button(w.bot.emulator.message(w.g01, w.acks[ticket]), label), card(ticket)
    )


HANDLERS = {"head", "worker", "staff", "duty_community"}  # of a G01 ticket at community level
GRID_STAFF = {"head", "worker", "staff"}
STAFF_ONLY = {"staff"}
EVERYONE_BUT_REPORTER = {
    "resident",
    "head",
    "other_head",
    "worker",
    "staff",
    "duty_community",
    "duty_street",
    "stranger",
}

# (name, attempt, roles allowed). Order matters only where an allowed attempt uses up
# something a later one needs: the moves of chats and grids come last.
ATTEMPTS: list[tuple[str, Attempt, set[str]]] = [
    ("/claim", command(f"/claim {T_CLAIM}"), HANDLERS),
    ("/close", command(f"/close {T_CLOSE} 已处理"), HANDLERS),
    ("/reopen", command(f"/reopen {T_REOPEN} 还是不亮"), HANDLERS),
    ("/transfer", command(f"/transfer {T_TRANSFER} @赵网格员", mention_worker=True), HANDLERS),
    ("/escalate", command(f"/escalate {T_ESCALATE} 需要街道协调"), HANDLERS),
    ("/reject", command(f"/reject {T_REJECT} invalid 测试"), HANDLERS),
    ("/note", command(f"/note {T_NOTE} 物业说明天来修"), HANDLERS),
    ("/category", command(f"/category {T_NOTE} safety"), GRID_STAFF),
    ("/log", command("/log 走访3栋"), GRID_STAFF),
    ("/tags", command("/tags G01 幸福社区"), STAFF_ONLY),
    ("/duty", command("/duty district", reply_to_candidate=True), STAFF_ONLY),
    ("/head", command("/head", reply_to_candidate=True), STAFF_ONLY),
    ("/worker", command("/worker", reply_to_candidate=True), STAFF_ONLY),
    ("/unhead", command("/unhead", reply_to_candidate=True), STAFF_ONLY),
    ("/notice", command("/notice now G01\n今晚停电", in_chat="private"), STAFF_ONLY),
    ("[不是报事]", on_card(B_NOT_A_REPORT, "不是报事"), {"reporter"} | GRID_STAFF),
    ("[我也遇到 +1]", on_card(B_FOLLOW, "我也遇到"), EVERYONE_BUT_REPORTER),
    ("[认领]", press(lambda w: f"k:claim:{B_CLAIM}", card(B_CLAIM)), HANDLERS),
    ("[办结]", press(lambda w: f"k:resolve:{B_RESOLVE}", card(B_RESOLVE)), HANDLERS),
    ("[升级]", press(lambda w: f"k:escalate:{B_ESCALATE}", card(B_ESCALATE)), HANDLERS),
    ("score", press(lambda w: f"v:{B_VERIFY}:1:4", lambda w: (w.g01, w.verify_ask)), {"reporter"}),
    (
        "[已解决]",
        press(lambda w: f"v:{B_VERIFY}:1:y", lambda w: (w.g01, w.verify_ask)),
        {"reporter"},
    ),
    (
        "notice [确认]",
        press(
            lambda w: first_button(w.notice_preview),
            lambda w: (STAFF, w.notice_preview["message_id"]),
        ),
        STAFF_ONLY,
    ),
    (
        "bind-move [确认]",
        press(
            lambda w: first_button(w.move_question),
            lambda w: (w.move_chat, w.move_question["message_id"]),
        ),
        STAFF_ONLY,
    ),
    ("/bind", command("/bind G01 幸福里一网格"), STAFF_ONLY),
    ("/unbind", command("/unbind"), STAFF_ONLY),
]

ROLES = {
    "resident": NEIGHBOUR,
    "reporter": RESIDENT,
    "head": HEAD,
    "other_head": OTHER_HEAD,
    "worker": WORKER,
    "staff": STAFF,
    "duty_community": DUTY_COMMUNITY,
    "duty_street": DUTY_STREET,
    "anonymous_admin": ANONYMOUS,
    "stranger": STRANGER,
}


@pytest.mark.parametrize("role", list(ROLES))
async def test_every_command_and_button_for_every_role(
    role: str, tmp_path: Path, clock: FakeClock
) -> None:
    w = await world(tmp_path, clock)
    who = ROLES[role]
    wrong = []
    try:
        for name, attempt, allowed_roles in ATTEMPTS:
            if who == ANONYMOUS and name.startswith(("[", "score", "notice [", "bind-move")):
                continue  # a button press always comes from a real user
            before = await w.snapshot()
            exchange = await attempt(w, who)
            changed = await w.snapshot() != before
            said = exchange.answer.get("text") if exchange.answer else exchange.texts
            if changed != (role in allowed_roles):
                wrong.append(f"{name}: {'changed' if changed else 'unchanged'} — {said}")
            elif not changed and not said:
                wrong.append(f"{name}: refused in silence")  # a polite refusal says why
    finally:
        await w.bot.stop()
    assert not wrong, f"{role}:\n" + "\n".join(wrong)


FORGED: list[tuple[int, str, int]] = [  # (who, data, ticket whose card it is pressed on)
    (HEAD, f"k:claim:{T_CLAIM}", B_CLAIM),  # another ticket's id
    (OTHER_HEAD, f"k:claim:{T_OTHER_GRID}", B_CLAIM),  # a ticket they handle, on G01's card
    (HEAD, f"k:escalate:{T_OTHER_GRID}", B_ESCALATE),  # another grid's ticket
    (HEAD, "k:claim:abc", B_CLAIM),
    (HEAD, "k:claim", B_CLAIM),
    (HEAD, f"k:delete:{B_CLAIM}", B_CLAIM),
    (HEAD, "k:claim:1:2:3", B_CLAIM),
    (HEAD, f"k:claim:{10**30}", B_CLAIM),
    (STAFF, f"t:nr:{T_CLAIM}", B_NOT_A_REPORT),
    (RESIDENT, "t:nr:x", B_NOT_A_REPORT),
    (NEIGHBOUR, f"t:+1:{T_OTHER_GRID}", B_FOLLOW),
    (NEIGHBOUR, "t:+1:-1", B_FOLLOW),
    (HEAD, f"v:{B_VERIFY}:1:y", B_VERIFY),  # not asked
    (RESIDENT, f"v:{B_VERIFY}:2:y", B_VERIFY),  # another round
    (RESIDENT, f"v:{B_VERIFY}:1:9", B_VERIFY),  # no such score
    (RESIDENT, f"v:{B_VERIFY}:1:0", B_VERIFY),
    (RESIDENT, f"v:{T_CLOSE}:1:y", B_VERIFY),  # a ticket never resolved
    (RESIDENT, "v:oops", B_VERIFY),
    (STAFF, "bind:yes:abc", B_CLAIM),
    (STAFF, "bind:yes:999", B_CLAIM),
    (STAFF, "n:ok:999", B_CLAIM),
    (STAFF, "n:ok:", B_CLAIM),
]


async def test_forged_button_data_is_refused(tmp_path: Path, clock: FakeClock) -> None:
    w = await world(tmp_path, clock)
    wrong = []
    try:
        for who, data, ticket in FORGED:
            message_id = w.verify_ask if ticket == B_VERIFY else w.acks[ticket]
            before = await w.snapshot()
            exchange = await w.bot.presses(w.g01, message_id, who, data, check=False)
            if await w.snapshot() != before:
                wrong.append(f"{who} {data}: changed")
            elif exchange.answer is None or not exchange.answer.get("text"):
                wrong.append(f"{who} {data}: no answer")
    finally:
        await w.bot.stop()
    assert not wrong, "\n".join(wrong)
