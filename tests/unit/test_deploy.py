"""deploy/: the Dockerfile and the systemd unit are checked, not just shipped.

No Docker daemon (nor a registry for its base image) is reachable from CI, so the
Dockerfile is read instruction by instruction: everything it copies exists, it runs as a
non-root user with the data on a volume, and its healthcheck and command are commands
`gridbot` really accepts. The unit goes through `systemd-analyze verify` where systemd
is installed (Debian's, as on this project's machines).
"""

from __future__ import annotations

import json
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from bot.cli import _parser

ROOT = Path(__file__).resolve().parents[2]
DOCKERFILE = ROOT / "deploy" / "Dockerfile"
UNIT = ROOT / "deploy" / "gridbot.service"


def instructions(text: str) -> list[tuple[str, str]]:
    """(INSTRUCTION, arguments) with continuations joined and comments dropped."""
    joined = re.sub(
        r"\\\n",
        " ",
        "\n".join(line for line in text.splitlines() if not line.lstrip().startswith("#")),
    )
    result = []
    for line in joined.splitlines():
        if line.strip():
            keyword, _, rest = line.strip().partition(" ")
            result.append((keyword.upper(), rest.strip()))
    return result


def exec_form(arguments: str) -> list[str]:
    value = json.loads(arguments)
    assert isinstance(value, list) and all(isinstance(v, str) for v in value)
    return value


def test_dockerfile_copies_what_exists_and_runs_gridbot_as_a_non_root_user() -> None:
    steps = instructions(DOCKERFILE.read_text(encoding="utf-8"))
    keywords = [k for k, _ in steps]
    assert keywords[0] == "FROM"
    for keyword, arguments in steps:
        if keyword == "COPY":
            *sources, _target = arguments.split()
            for source in sources:
                assert (ROOT / source).exists(), f"COPY {source}: not in the repository"
    users = [arguments for keyword, arguments in steps if keyword == "USER"]
    assert users and users[-1] not in ("root", "0"), "the container must not run as root"
    assert keywords.index("USER") < keywords.index("ENTRYPOINT")
    volumes = [exec_form(a) for k, a in steps if k == "VOLUME"]
    assert ["/data"] in volumes
    entrypoint = exec_form(dict(steps)["ENTRYPOINT"])
    assert entrypoint == ["gridbot"]
    command = exec_form(dict(steps)["CMD"])
    parsed = _parser().parse_args(command)
    assert parsed.command == "run" and parsed.config.startswith("/etc/gridbot/")
    health = dict(steps)["HEALTHCHECK"]
    probe = exec_form(health[health.index("CMD") + 3 :].strip())
    assert probe[0] == "gridbot"
    assert _parser().parse_args(probe[1:]).command == "check-config"


def test_dockerfile_installs_the_package_it_copied() -> None:
    runs = " ".join(
        a for k, a in instructions(DOCKERFILE.read_text(encoding="utf-8")) if k == "RUN"
    )
    assert "pip install ." in runs


def test_the_systemd_unit_verifies(tmp_path: Path) -> None:
    analyze = shutil.which("systemd-analyze")
    if analyze is None:
        pytest.skip("systemd-analyze is not installed (Debian's systemd package has it)")
    gridbot = Path(sys.executable).with_name("gridbot")
    assert gridbot.exists(), "the gridbot console script is installed next to python"
    text = UNIT.read_text(encoding="utf-8").replace("/opt/gridbot/bin/gridbot", str(gridbot))
    unit = tmp_path / "gridbot.service"
    unit.write_text(text, encoding="utf-8")
    result = subprocess.run(
        [analyze, "verify", str(unit)], capture_output=True, text=True, timeout=60
    )
    problems = [line for line in result.stderr.splitlines() if "gridbot.service" in line]
    assert result.returncode == 0 and not problems, result.stderr
    for argv in re.findall(r"^ExecStart(?:Pre)?=\S+ (.+)$", text, flags=re.M):
        assert _parser().parse_args(argv.split()).command in ("run", "check-config")
    assert re.search(r"^RestartPreventExitStatus=2$", text, flags=re.M), (
        "a refused token exits 2; restarting it forever helps nobody"
    )


def test_a_broken_unit_would_fail_the_check(tmp_path: Path) -> None:
    """The verify step can fail: an unknown directive is reported."""
    analyze = shutil.which("systemd-analyze")
    if analyze is None:
        pytest.skip("systemd-analyze is not installed")
    unit = tmp_path / "broken.service"
    unit.write_text(
        "[Service]\nExecStart=/nonexistent/gridbot run\nRestartt=always\n", encoding="utf-8"
    )
    result = subprocess.run(
        [analyze, "verify", str(unit)], capture_output=True, text=True, timeout=60
    )
    assert "broken.service" in result.stderr


def test_the_image_builds_where_a_docker_daemon_answers(tmp_path: Path) -> None:
    """Where Docker runs (and can fetch python:3.11-slim), the image really builds."""
    docker = shutil.which("docker")
    if docker is None:
        pytest.skip("docker is not installed")
    if subprocess.run([docker, "info"], capture_output=True, timeout=30).returncode != 0:
        pytest.skip("no Docker daemon answers here (the instruction checks above still ran)")
    built = subprocess.run(
        [docker, "build", "-q", "-f", str(DOCKERFILE), "-t", "gridbot-test", str(ROOT)],
        capture_output=True,
        text=True,
        timeout=900,
    )
    if (
        built.returncode != 0
        and "python:3.11-slim" in built.stderr
        and ("pull" in built.stderr or "resolve" in built.stderr)
    ):
        pytest.skip("the daemon cannot fetch the base image python:3.11-slim (no registry)")
    assert built.returncode == 0, built.stderr[-2000:]
    version = subprocess.run(
        [docker, "run", "--rm", "gridbot-test", "--version"],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert version.stdout.startswith("gridbot "), version.stdout + version.stderr
