"""Benchmark: one hostile staff member and one flooding resident against everyone else (#13).

    python bench/attack.py                     # this checkout
    python bench/attack.py --code /work/main   # another checkout's bot (before/after)
    python bench/attack.py --flood 200 --reports 30

gridbot runs as a real process (`python -m bot run`) long-polling the Bot API emulator in
this process, with its shipped rate limits, and the emulator answers 429 like Telegram
(30 messages/s, 20 a minute per group). Two grid chats are bound by staff. Then, at once:

- staff privately submit hostile notice templates, one after the other: three nested
  loops over 1,000 characters (10⁹ steps), a power of powers, a join of joins (1 GB);
- one resident floods grid 1 with `--flood` report-like messages, as fast as the emulator
  takes them;
- residents of grid 2 report problems, one every 3 s (`--reports`; Telegram lets a bot
  send 20 messages a minute to a group, so a grid cannot be acknowledged faster than
  that), and another resident of grid 1 reports emergencies (one every 5 s, behind the
  flood in grid 1's own queue).

Measured: the acknowledgement latency of grid 2's reports and of the emergencies (queued in
the emulator → the bot's first message quoting them), p50/p99/max; the bot's peak RSS
(VmHWM) and the template worker's; how the hostile templates were answered; how many
rate-limit notices the flooder got. Targets (issue #13): p99 ≤ 2 s, bot RSS < 200 MB.
Prints a summary and one JSON line; exits 1 when a target is missed.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import signal
import sys
import tempfile
import time
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench.throughput import peak_rss_mb, percentile  # noqa: E402
from bot.emulator import BotApiEmulator  # noqa: E402

TOKEN = "424242:BENCH-ATTACK"
STAFF = 9001
FLOODER = 3000
EMERGENCY_REPORTER = 3001
FIRST_RESIDENT = 100_000
G1, G2 = -1_000_001, -1_000_002
REPORT_INTERVAL_S = 3.0
TARGET_P99_S = 2.0
TARGET_RSS_MB = 200.0

HOSTILE = [
    "{% for a in 'x'*1000 %}{% for b in 'x'*1000 %}{% for c in 'x'*1000 %}"
    "{% endfor %}{% endfor %}{% endfor %}停水",
    "{{ (((9**64)**64)**64)**64 }}",
    "{% set a = (['x'*1000]*100)|join %}{% set b = ([a]*1000)|map('lower')|join %}"
    "{{ ([b]*4)|map('lower')|join }}",
    "{% set a = (['x'*1000]*1000)|join %}{{ ([a]*1000)|join }}",
]
THINGS = ["楼道灯坏了", "水管漏水了", "门口垃圾堆了三天", "电梯按钮失灵", "路灯不亮"]
EMERGENCY = "{b}栋电梯坏了 困人了 快来人"


@dataclass
class Result:
    code: str
    flood: int
    reports: int
    emergencies: int
    acked: int = 0
    p50_s: float = 0.0
    p99_s: float = 0.0
    max_s: float = 0.0
    emergency_max_s: float = 0.0
    bot_peak_rss_mb: float = 0.0
    worker_peak_rss_mb: float = 0.0
    rate_limit_notices: int = 0
    flood_tickets_acked: int = 0
    templates: list[str] = field(default_factory=list)
    elapsed_s: float = 0.0
    notes: list[str] = field(default_factory=list)


def children(pid: int) -> list[int]:
    try:
        text = Path(f"/proc/{pid}/task/{pid}/children").read_text()
    except OSError:
        return []
    return [int(p) for p in text.split()]


def first_quote(emulator: BotApiEmulator, chat: int, message_id: int, since: int) -> float | None:
    for call in emulator.calls[since:]:
        if not call.method.startswith("send") or call.params.get("chat_id") != chat:
            continue
        reply = call.params.get("reply_parameters")
        if isinstance(reply, dict) and reply.get("message_id") == message_id:
            return call.time
    return None


def write_config(scratch: Path, emulator: BotApiEmulator) -> Path:
    config = scratch / "config.toml"
    config.write_text(
        f"""
[telegram]
base_url = "{emulator.base_url}"
base_file_url = "{emulator.base_file_url}"
[database]
path = "{scratch / "gridbot.db"}"
[bot]
log_level = "WARNING"
[roles]
staff = [{STAFF}]
""",
        encoding="utf-8",
    )
    return config


async def wait_for(predicate: Any, timeout: float) -> None:
    deadline = time.monotonic() + timeout
    while not predicate():
        if time.monotonic() > deadline:
            raise TimeoutError("the bot did not get there in time")
        await asyncio.sleep(0.05)


async def run(
    code: Path,
    flood: int,
    reports: int,
    emergencies: int,
    wait: float = 120.0,
    hostile: list[str] = HOSTILE,
) -> Result:
    result = Result(code=str(code), flood=flood, reports=reports, emergencies=emergencies)
    with tempfile.TemporaryDirectory() as scratch_dir:
        scratch = Path(scratch_dir)
        async with BotApiEmulator(token=TOKEN, bot_username="gridbot_bot") as emulator:
            emulator.add_user(STAFF, "街道小李")
            emulator.add_user(FLOODER, "刷屏的人")
            emulator.add_user(EMERGENCY_REPORTER, "着急的人")
            for n in range(reports):
                emulator.add_user(FIRST_RESIDENT + n, f"居民{n}")
            for chat, title in ((G1, "第一网格群"), (G2, "第二网格群")):
                emulator.create_group(title, chat_id=chat)
                emulator.chat(chat).bot_status = "member"
            emulator.private_chat_started(STAFF)
            config = write_config(scratch, emulator)
            env = {**os.environ, "GRIDBOT_TOKEN": TOKEN, "PTB_TIMEDELTA": "1"}
            log = (scratch / "bot.log").open("wb")
            process = await asyncio.create_subprocess_exec(
                sys.executable,
                "-m",
                "bot",
                "run",
                "-c",
                str(config),
                cwd=code,
                env=env,
                stdout=asyncio.subprocess.DEVNULL,
                stderr=log,
            )
            worker_rss = 0.0
            try:
                await emulator.wait_for_call("getUpdates", timeout=60)
                for chat, code_name in ((G1, "G1 第一网格"), (G2, "G2 第二网格")):
                    emulator.post_message(chat, STAFF, f"/bind {code_name}")
                await wait_for(
                    lambda: (
                        sum(
                            1
                            for m in emulator.messages_in(G1) + emulator.messages_in(G2)
                            if m["from"]["is_bot"] and "G" in m.get("text", "")
                        )
                        >= 2
                    ),
                    30,
                )
                await asyncio.sleep(1)
                # Telegram's flood limits from here on; the bot runs with its shipped ones.
                emulator.enforce_limits(30, 20)
                mark = len(emulator.calls)
                started = time.monotonic()

                async def hostile_staff() -> None:
                    for template in hostile:
                        emulator.post_message(STAFF, STAFF, f"/notice now all\n{template}")
                        await asyncio.sleep(1.0)

                flood_ids: set[int] = set()

                async def flooder() -> None:
                    for n in range(flood):
                        flood_ids.add(
                            emulator.post_message(G1, FLOODER, f"{n % 40 + 1}栋{THINGS[n % 5]}")[
                                "message_id"
                            ]
                        )
                        if n % 20 == 19:
                            await asyncio.sleep(0)  # let the emulator serve a poll

                watched: list[tuple[int, int, float, bool]] = []

                async def grid2_residents() -> None:
                    await asyncio.sleep(0.5)
                    for n in range(reports):
                        queued = time.monotonic()
                        message = emulator.post_message(
                            G2, FIRST_RESIDENT + n, f"{n % 30 + 1}栋{THINGS[n % 5]}，麻烦看看"
                        )
                        watched.append((G2, message["message_id"], queued, False))
                        await asyncio.sleep(REPORT_INTERVAL_S)

                async def emergencies_in_grid1() -> None:
                    await asyncio.sleep(1.0)
                    for n in range(emergencies):
                        queued = time.monotonic()
                        message = emulator.post_message(
                            G1, EMERGENCY_REPORTER, EMERGENCY.format(b=n + 1)
                        )
                        watched.append((G1, message["message_id"], queued, True))
                        await asyncio.sleep(5.0)

                async def watch_worker() -> None:
                    nonlocal worker_rss
                    while process.returncode is None:
                        for child in children(process.pid):
                            worker_rss = max(worker_rss, peak_rss_mb(child))
                        await asyncio.sleep(0.05)

                watcher = asyncio.create_task(watch_worker())
                await asyncio.gather(
                    hostile_staff(), flooder(), grid2_residents(), emergencies_in_grid1()
                )
                # Let the answers come in (the flood's own acknowledgements are paced).
                try:
                    await wait_for(
                        lambda: all(
                            first_quote(emulator, chat, mid, mark) is not None
                            for chat, mid, _q, _e in watched
                        ),
                        wait,
                    )
                except TimeoutError:
                    result.notes.append(f"some reports not acknowledged within {wait} s")
                result.elapsed_s = round(time.monotonic() - started, 1)
                latencies, emergency_latencies = [], []
                for chat, message_id, queued, is_emergency in watched:
                    at = first_quote(emulator, chat, message_id, mark)
                    latency = float("inf") if at is None else at - queued
                    latencies.append(latency)
                    if is_emergency:
                        emergency_latencies.append(latency)
                result.acked = sum(1 for v in latencies if v != float("inf"))
                result.p50_s = round(percentile(latencies, 50), 3)
                result.p99_s = round(percentile(latencies, 99), 3)
                result.max_s = round(max(latencies), 3)
                result.emergency_max_s = round(max(emergency_latencies), 3)
                await asyncio.sleep(3)
                result.bot_peak_rss_mb = round(peak_rss_mb(process.pid), 1)
                watcher.cancel()
                result.worker_peak_rss_mb = round(worker_rss, 1)
                texts = [m.get("text", "") for m in emulator.messages_in(G1) if m["from"]["is_bot"]]
                result.rate_limit_notices = sum("一小时内已反映了" in t for t in texts)
                result.flood_tickets_acked = sum(
                    1
                    for m in emulator.messages_in(G1)
                    if m["from"]["is_bot"]
                    and "一小时内已反映了" not in m.get("text", "")
                    and (m.get("reply_to_message") or {}).get("message_id") in flood_ids
                )
                result.templates = [
                    m.get("text", "").splitlines()[0][:80]
                    for m in emulator.messages_in(STAFF)
                    if m["from"]["is_bot"]
                ][-len(hostile) :]
            finally:
                if process.returncode is None:
                    process.send_signal(signal.SIGTERM)
                    try:
                        await asyncio.wait_for(process.wait(), 30)
                    except TimeoutError:
                        process.kill()
                log.close()
    if result.p99_s > TARGET_P99_S:
        result.notes.append(f"p99 {result.p99_s} s over {TARGET_P99_S} s")
    if result.bot_peak_rss_mb >= TARGET_RSS_MB:
        result.notes.append(f"bot RSS {result.bot_peak_rss_mb} MB over {TARGET_RSS_MB} MB")
    return result


def summary(result: Result) -> str:
    lines = [
        f"code: {result.code}",
        f"flood {result.flood} messages in G1; {result.reports} reports in G2; "
        f"{result.emergencies} emergencies in G1; hostile templates: {len(result.templates)}",
        f"acknowledgements ({result.acked} of {result.reports + result.emergencies}): "
        f"p50 {result.p50_s} s, p99 {result.p99_s} s, "
        f"max {result.max_s} s; slowest emergency {result.emergency_max_s} s",
        f"bot peak RSS {result.bot_peak_rss_mb} MB; template worker peak RSS "
        f"{result.worker_peak_rss_mb} MB",
        f"the flooder's messages: {result.flood_tickets_acked} acknowledged as tickets, "
        f"{result.rate_limit_notices} rate-limit notice(s)",
        "templates answered: " + " | ".join(result.templates),
        "targets: " + ("met" if not result.notes else "; ".join(result.notes)),
    ]
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--code", type=Path, default=ROOT, help="checkout whose bot to run")
    parser.add_argument("--flood", type=int, default=200)
    parser.add_argument("--reports", type=int, default=15)
    parser.add_argument("--emergencies", type=int, default=4)
    parser.add_argument(
        "--wait", type=float, default=120.0, help="seconds to wait for the last acknowledgement"
    )
    parser.add_argument(
        "--no-memory-templates",
        action="store_true",
        help="only the slow templates: on a bot without the memory cap the "
        "others take gigabytes from a shared machine",
    )
    args = parser.parse_args(argv)
    hostile = HOSTILE[:2] if args.no_memory_templates else HOSTILE
    result = asyncio.run(
        run(args.code.resolve(), args.flood, args.reports, args.emergencies, args.wait, hostile)
    )
    print(summary(result))
    print(json.dumps(asdict(result), ensure_ascii=False))
    return 1 if result.notes else 0


if __name__ == "__main__":
    sys.exit(main())
