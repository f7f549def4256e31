"""`gridbot demo` plays its scenario offline and exits 0; the transcript shows each feature."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def test_demo_runs_offline_and_tells_the_story() -> None:
    result = subprocess.run(
        [sys.executable, "-m", "bot", "demo"],
        capture_output=True,
        text=True,
        cwd=ROOT,
        timeout=120,
        env={"PATH": "/usr/bin:/bin", "PTB_TIMEDELTA": "1"},
    )
    assert result.returncode == 0, result.stderr
    out = result.stdout
    for expected in (
        "本群已绑定为网格 G01 幸福里第一网格",  # staff bind grids
        "现在是网格 G01 幸福里第一网格 的网格长",  # heads appointed
        "已登记 #1 · 物业管理 · 3栋",  # a request becomes a ticket
        "已在 #1 登记，已记下您也遇到了",  # a duplicate becomes +1
        "🚨 紧急事件 #3",  # an emergency alert
        "[私聊·李网格长] 🚨 紧急事件",  # ... reaching the head privately
        "已私下登记 #4",  # a private report
        "居民已确认解决，工单办结",  # claim → close → confirm
        "已重新打开，继续由 陈网格长 处理",  # not solved → reopened
        "认领时限已过（超时自动督办），已上报到社区",  # overdue escalation to the duty chat
        "[和平苑网格群] 各位和平苑网格的居民：本周六",  # a notice rendered per grid
        "📣 通知 #1 发送报告",  # ... and its report to the staff member
        "[幸福里第二网格群] 🔥 幸福里第二网格消防安全提醒",  # a weekly notice, on time
        "合计 3 个网格",  # /stats
        "📎 gridbot-",  # an export
        "演示结束",
    ):
        assert expected in out, expected
    # Chit-chat got no answer: the line after it is the next person speaking.
    lines = out.splitlines()
    chat_line = lines.index("[幸福里第一网格群] 刘大爷: 今天广场舞好开心😄")
    assert not lines[chat_line + 1].lstrip().startswith("🤖")
