"""The README's "Setting it up on Telegram", followed word for word, reaches a working bot.

Every chat command the section quotes is read from the README itself, so rewording a step
without it still working fails here; a step the test does not take fails too.
"""

from __future__ import annotations

import asyncio
import re
import sys
from datetime import timedelta
from pathlib import Path

from bot.domain.clock import FakeClock
from bot.offline import TOKEN, OfflineBot
from tests.e2e.test_loop import button

ROOT = Path(__file__).resolve().parents[2]
README = (ROOT / "README.md").read_text(encoding="utf-8")
SECTION = README[README.index("## Setting it up on Telegram") : README.index("## Running it")]

ME = 7001  # the operator, who becomes street staff
HEAD = 7002
OFFICER = 7003
RESIDENT = 7004


def quoted(text: str) -> str:
    """`text`, after checking the section prints it exactly so (in `code`)."""
    assert f"`{text}`" in SECTION, f"the README's set-up no longer says `{text}`"
    return text


def test_the_sections_shell_steps_are_the_ones_gridbot_has() -> None:
    shell = SECTION[SECTION.index("```sh") : SECTION.index("```", SECTION.index("```sh") + 5)]
    for step in (
        "gridbot init config.toml",
        "export GRIDBOT_TOKEN=",
        "gridbot check-config -c config.toml --online",
        "gridbot run -c config.toml",
    ):
        assert step in shell


async def check_online(bot: OfflineBot, tmp_path: Path) -> tuple[int, str]:
    """Step 3 and step 9's `gridbot check-config --online`, on a config `gridbot init` wrote."""
    config = tmp_path / "config.toml"
    if not config.exists():
        init = await asyncio.create_subprocess_exec(
            sys.executable, "-m", "bot", "init", str(config), cwd=tmp_path
        )
        assert await init.wait() == 0
        text = config.read_text(encoding="utf-8")
        text = text.replace(
            'base_url = "https://api.telegram.org/bot"', f'base_url = "{bot.emulator.base_url}"'
        )
        text = text.replace('path = "gridbot.db"', f'path = "{tmp_path / "gridbot.db"}"')
        config.write_text(text, encoding="utf-8")
    process = await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "bot",
        "check-config",
        "-c",
        str(config),
        "--online",
        cwd=ROOT,
        env={"GRIDBOT_TOKEN": TOKEN, "PATH": "/usr/bin:/bin"},
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
    )
    out, err = await asyncio.wait_for(process.communicate(), 60)
    assert "Traceback" not in err.decode()
    assert process.returncode is not None
    return process.returncode, out.decode()


async def appoint(bot: OfflineBot, chat: int, person: int, name: str, command: str) -> str:
    """The person writes in the chat, I reply to it with `command`, they press Start privately;
    what the bot said in the chat."""
    bot.person(person, name)
    await bot.says(chat, person, "大家好")
    said = await bot.says(chat, ME, command, reply_to=bot.last_message_id(chat))
    await bot.says_privately(person, "/start")
    return said.text_in(chat)


async def test_following_the_readme_gives_a_working_bot(tmp_path: Path) -> None:
    # Steps 1-3: the bot exists, privacy mode is off, gridbot runs with the fresh config
    # (no staff yet) and the preflight passes.
    bot = OfflineBot(tmp_path / "gridbot.db", staff=(), clock=FakeClock())
    async with bot:
        code, out = await check_online(bot, tmp_path)
        assert code == 0, out
        assert "OK" in out and "privacy mode is off" in out and "duty chat" not in out

        # Step 4: /whoami privately tells my id; it goes into [roles] staff; restart.
        bot.person(ME, "街道小李")
        whoami = (await bot.says_privately(ME, quoted("/whoami"))).text_in(ME)
        my_id = int(re.search(r"ID (\d+)", whoami).group(1))  # type: ignore[union-attr]
        assert my_id == ME and "街道工作人员" not in whoami
        quoted("staff = [123456789]")  # the line the reader edits
        await bot.restart({"roles": {"staff": [my_id]}})
        assert "街道工作人员" in (await bot.says_privately(ME, "/whoami")).text_in(ME)

        # Step 5: the grid chat.
        grid = await bot.group("幸福里第一网格群", added_by=ME)
        bound = (await bot.says(grid, ME, quoted("/bind G01 幸福里第一网格"))).text_in(grid)
        assert "已绑定为网格 G01" in bound
        assert f"本群 ID：{grid} · 网格群：G01" in (await bot.says(grid, ME, "/whoami")).text_in(
            grid
        )

        # Steps 6-7: the head, appointed by replying to their message; Start privately.
        appointed = await appoint(bot, grid, HEAD, "王网格长", quoted("/head"))
        assert "王网格长" in appointed and "网格长" in appointed

        # Step 8: the community duty chat and its officer.
        duty = await bot.group("社区值班群", added_by=ME)
        made = (await bot.says(duty, ME, quoted("/setduty community"))).text_in(duty)
        assert f"本群（ID {duty}）现在是社区值班群" in made
        officer = await appoint(bot, duty, OFFICER, "社区孙主任", quoted("/duty community"))
        assert "现在是社区值班人员" in officer

        # Step 9: the preflight reaches the duty chat; a report becomes a ticket the head
        # claims, and one left unclaimed reaches the duty chat.
        code, out = await check_online(bot, tmp_path)
        assert code == 0, out
        assert any(
            line.startswith("OK") and "community duty chat 社区值班群" in line
            for line in out.splitlines()
        ), out
        bot.person(RESIDENT, "张阿姨")
        [ack] = (await bot.says(grid, RESIDENT, quoted("3栋电梯坏了"))).in_chat(grid)
        assert "#1" in ack["text"]
        claimed = await bot.presses(grid, ack["message_id"], HEAD, button(ack, "认领"))
        assert "已由 王网格长 认领" in claimed.text_in(grid)
        # An emergency nobody claims in time goes up to the duty chat set in step 8.
        await bot.says(grid, RESIDENT, "5栋楼道有烟 好像着火了")
        escalated = await bot.advance(timedelta(minutes=10, seconds=1))
        assert "已上报到社区" in escalated.text_in(duty)
