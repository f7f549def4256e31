"""`gridbot eval-intake FILE [--json]` prints the recogniser's figures."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
KEYS = {
    "precision",
    "recall",
    "f1",
    "false_ticket_rate",
    "category_accuracy",
    "emergency_recall",
    "emergency_precision",
    "urgency_accuracy",
    "location_exact",
    "messages_per_second",
    "n",
    "category_confusion",
}


def run(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "bot", "eval-intake", *args],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=120,
    )


def test_json_output_has_the_documented_keys(tmp_path: Path) -> None:
    data = tmp_path / "small.jsonl"
    data.write_text(
        "\n".join(
            json.dumps(r, ensure_ascii=False)
            for r in [
                {
                    "text": "3栋2单元电梯坏了",
                    "is_request": True,
                    "category": "property",
                    "urgency": "normal",
                    "building": "3",
                    "unit": "2",
                    "room": None,
                },
                {
                    "text": "谢谢网格员",
                    "is_request": False,
                    "category": None,
                    "urgency": None,
                    "building": None,
                    "unit": None,
                    "room": None,
                },
            ]
        ),
        encoding="utf-8",
    )
    result = run(str(data), "--json")
    assert result.returncode == 0, result.stderr
    figures = json.loads(result.stdout)
    assert set(figures) == KEYS
    assert figures["n"] == 2 and figures["precision"] == 1.0 and figures["location_exact"] == 1.0


def test_readable_output_and_bad_file() -> None:
    result = run(str(ROOT / "tests/data/intake_eval.jsonl"))
    assert result.returncode == 0 and "F1" in result.stdout
    missing = run("/nonexistent.jsonl")
    assert missing.returncode == 2 and "Traceback" not in missing.stderr


def test_config_vocabulary_extends_the_recogniser(tmp_path: Path) -> None:
    config = tmp_path / "c.toml"
    config.write_text(
        '[intake.vocabulary.categories.pets]\nlabel_zh = "宠物"\nlabel_en = "Pets"\n'
        'subjects = ["猫咪"]\nissues = ["猫咪乱叫"]\n',
        encoding="utf-8",
    )
    data = tmp_path / "p.jsonl"
    data.write_text(
        json.dumps(
            {
                "text": "楼道里猫咪乱叫 晚上睡不着",
                "is_request": True,
                "category": "pets",
                "urgency": "normal",
                "building": None,
                "unit": None,
                "room": None,
            },
            ensure_ascii=False,
        ),
        encoding="utf-8",
    )
    result = run(str(data), "--json", "-c", str(config))
    assert result.returncode == 0, result.stderr
    assert json.loads(result.stdout)["category_accuracy"] == 1.0
    bad = tmp_path / "bad.toml"
    bad.write_text('[intake.vocabulary.categories.pets]\nsubjects = ["猫"]\n', encoding="utf-8")
    result = run(str(data), "-c", str(bad))
    assert result.returncode == 2 and "[intake] vocabulary" in result.stderr
