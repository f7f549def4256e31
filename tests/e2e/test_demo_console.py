"""`gridbot demo --console` ends by printing the console's address and serves it until ^C."""

from __future__ import annotations

import re
import signal
import subprocess
import sys
from pathlib import Path

import httpx
import pytest

ROOT = Path(__file__).resolve().parents[2]


@pytest.mark.parametrize("stop_with", [signal.SIGINT, signal.SIGTERM])
def test_demo_serves_the_console_until_interrupted(stop_with: signal.Signals) -> None:
    demo = subprocess.Popen(
        [sys.executable, "-m", "bot", "demo", "--console"],
        cwd=ROOT,
        text=True,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        env={"PATH": "/usr/bin:/bin", "PTB_TIMEDELTA": "1"},
    )
    try:
        assert demo.stdout is not None
        link = None
        for line in demo.stdout:
            found = re.search(r"staff console: (\S+)", line)
            if found:
                link = found.group(1)
                break
        assert link, demo.stderr.read() if demo.stderr else ""
        with httpx.Client(follow_redirects=True, timeout=30) as client:
            overview = client.get(link)
            assert overview.status_code == 200
            assert "幸福里第一网格" in overview.text and "和平苑" in overview.text
            tickets = client.get(link.split("/login")[0] + "/tickets")
            assert 'data-ticket="1"' in tickets.text
        demo.send_signal(stop_with)
        assert demo.wait(timeout=60) == 0
    finally:
        if demo.poll() is None:
            demo.kill()
            demo.wait()
