"""Intake recogniser speed: start-up (model load) and messages per second on one core.

    python bench/intake_speed.py            # prints one JSON object and a summary
    python bench/intake_speed.py --profile  # where the time goes, on the letters

Two realistic sets from data/intake/: chat (messages under 80 characters, ~40 on average)
and letters (100-400 characters, ~200 on average). Each is parsed repeatedly for at least
two seconds; the figure is the best of three runs. Exits 1 when a target is missed:
5,000 messages/s on each set, model load within 2 s.
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

TARGET_RATE = 5_000
TARGET_LOAD_SECONDS = 2.0


def _texts() -> dict[str, list[str]]:
    chat, letters = [], []
    for path in sorted((ROOT / "data" / "intake").glob("*.jsonl")):
        for line in path.read_text(encoding="utf-8").splitlines():
            if line.strip():
                text = json.loads(line)["text"]
                if len(text) < 80:
                    chat.append(text)
                elif 100 <= len(text) <= 400:
                    letters.append(text)
    return {"chat": chat, "letters": letters}


def _rate(parse: object, texts: list[str]) -> float:
    best = 0.0
    for _ in range(3):
        parsed, started = 0, time.perf_counter()
        while time.perf_counter() - started < 2.0:
            for text in texts:
                parse(text)  # type: ignore[operator]
            parsed += len(texts)
        best = max(best, parsed / (time.perf_counter() - started))
    return best


def main() -> int:
    options = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    options.add_argument("--profile", action="store_true")
    args = options.parse_args()
    started = time.perf_counter()
    from bot.domain.intake import IntakeModel, IntakeParser

    model = IntakeModel.shipped()
    load_seconds = time.perf_counter() - started
    parser = IntakeParser(model=model)
    ready_seconds = time.perf_counter() - started
    sets = _texts()
    if args.profile:
        import cProfile
        import pstats

        profile = cProfile.Profile()
        profile.runcall(lambda: [parser.parse_fresh(text) for text in sets["letters"]])
        pstats.Stats(profile).sort_stats("tottime").print_stats(15)
        return 0
    figures: dict[str, float] = {
        "model_load_seconds": round(load_seconds, 3),
        "parser_ready_seconds": round(ready_seconds, 3),
        "model_file_bytes": (ROOT / "bot/domain/data/intake_model.npz").stat().st_size,
    }
    rules = IntakeParser()
    for name, texts in sets.items():
        figures[f"{name}_messages"] = len(texts)
        figures[f"{name}_mean_chars"] = round(statistics.mean(map(len, texts)), 1)
        figures[f"{name}_per_second"] = round(_rate(parser.parse_fresh, texts))
        figures[f"{name}_rules_alone_per_second"] = round(_rate(rules.parse_fresh, texts))
    print(json.dumps(figures))
    missed = [
        f"{name}: {figures[f'{name}_per_second']:,.0f} messages/s < {TARGET_RATE:,}"
        for name in sets
        if figures[f"{name}_per_second"] < TARGET_RATE
    ]
    if ready_seconds > TARGET_LOAD_SECONDS:
        missed.append(f"start-up {ready_seconds:.2f} s > {TARGET_LOAD_SECONDS} s")
    print("\n".join(missed) or "all targets met")
    return 1 if missed else 0


if __name__ == "__main__":
    sys.exit(main())
