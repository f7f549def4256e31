"""Grouped cross-validation of the intake recogniser (rules + model) on all labelled data.

    python bench/intake_quality.py                      # 5-fold CV, pooled and per file
    python bench/intake_quality.py --folds 5 --steps 300
    python bench/intake_quality.py --rules-only         # the rules alone, for comparison
    python bench/intake_quality.py --tune               # also choose Blend thresholds by CV
    python bench/intake_quality.py --json               # the figures as JSON as well

Data: every ``data/intake/*.jsonl`` plus ``tests/data/intake_eval.jsonl``. Messages are put
in groups of near-duplicates (``near_duplicate_groups``: the same text but for digits and
punctuation, or sharing most of their rare 6-character shingles), and whole groups go to
folds, so a message is never predicted by a model that was trained on its twin. Each fold
is predicted by a model trained on the other k-1; all predictions are pooled into one
report, then sliced per file and into letters (requests of 100 characters or more).

Nothing under a path containing "blind" is ever read: a blind set is measured once, by
``tests/unit/test_intake_blind.py``, not here.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import re
import sys
from collections import Counter, defaultdict
from collections.abc import Sequence
from dataclasses import replace
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bot.domain.intake import Blend, Intake, IntakeParser  # noqa: E402
from bot.domain.intake_eval import (  # noqa: E402
    EvalRecord,
    EvalReport,
    evaluate,
    format_report,
    load_records,
    report_as_json,
)
from bot.domain.intake_training import TrainingSettings, examples_from_records, train  # noqa: E402

LONG_CHARS = 100
_SHINGLE = 6
_RARE = 8  # a shingle in more messages than this is a stock phrase ("尊敬的领导"), not a twin
_TWIN_SHARE = 0.5
_NOISE = re.compile(r"[\W\d_]+")


def load_data() -> dict[str, list[EvalRecord]]:
    """Every labelled file by name; a text seen in an earlier file is not read again."""
    paths = [*sorted((ROOT / "data" / "intake").glob("*.jsonl")),
             ROOT / "tests" / "data" / "intake_eval.jsonl"]
    per_file: dict[str, list[EvalRecord]] = {}
    seen: set[str] = set()
    for path in paths:
        if "blind" in str(path).lower():
            continue
        records = []
        for record in load_records(path):
            if record.text not in seen:
                seen.add(record.text)
                records.append(record)
        per_file[path.name] = records
    return per_file


def near_duplicate_groups(texts: Sequence[str]) -> list[int]:
    """A group number per text: twins (same letters, or most rare shingles shared) share one."""
    parent = list(range(len(texts)))

    def root(i: int) -> int:
        while parent[i] != i:
            parent[i] = parent[parent[i]]
            i = parent[i]
        return i

    def join(i: int, j: int) -> None:
        parent[root(i)] = root(j)

    stripped = [_NOISE.sub("", text.lower()) for text in texts]
    first_with: dict[str, int] = {}
    for i, key in enumerate(stripped):
        if key in first_with:
            join(i, first_with[key])
        else:
            first_with[key] = i
    shingles = [
        {key[k : k + _SHINGLE] for k in range(max(1, len(key) - _SHINGLE + 1))} for key in stripped
    ]
    holders: defaultdict[str, list[int]] = defaultdict(list)
    for i, own in enumerate(shingles):
        for shingle in own:
            holders[shingle].append(i)
    for i, own in enumerate(shingles):
        shared: Counter[int] = Counter()
        rare = 0
        for shingle in own:
            others = holders[shingle]
            if len(others) <= _RARE:
                rare += 1
                shared.update(j for j in others if j > i)
        for j, count in shared.items():
            if count >= _TWIN_SHARE * min(rare, len(shingles[j])):
                join(i, j)
    return [root(i) for i in range(len(texts))]


def fold_of_group(group_text: str, folds: int) -> int:
    """A fixed fold for a group, from a hash of its first text (stable across runs)."""
    return hashlib.sha256(group_text.encode("utf-8")).digest()[0] % folds


class _ByFold:
    """Answers each message with the parser of the fold it was held out of."""

    def __init__(self, parsers: dict[str, IntakeParser]) -> None:
        self._parsers = parsers

    def parse(self, text: str) -> Intake:
        return self._parsers[text].parse(text)


def fold_numbers(records: Sequence[EvalRecord], folds: int) -> list[int]:
    groups = near_duplicate_groups([record.text for record in records])
    first_text: dict[int, str] = {}
    for record, group in zip(records, groups, strict=True):
        first_text.setdefault(group, record.text)
    return [fold_of_group(first_text[group], folds) for group in groups]


def cross_validate(
    records: Sequence[EvalRecord], folds: int, settings: TrainingSettings, blend: Blend
) -> tuple[dict[str, IntakeParser], list[IntakeParser]]:
    """One parser per fold, trained without it; returns text → the parser that never saw it."""
    numbers = fold_numbers(records, folds)
    examples = examples_from_records(records)
    parsers: dict[str, IntakeParser] = {}
    fold_parsers = []
    for fold in range(folds):
        training = [example for example, n in zip(examples, numbers, strict=True) if n != fold]
        parser = IntakeParser(model=train(training, settings), blend=blend)
        fold_parsers.append(parser)
        for record, n in zip(records, numbers, strict=True):
            if n == fold:
                parsers[record.text] = parser
    return parsers, fold_parsers


def _report(parsers: dict[str, IntakeParser], records: Sequence[EvalRecord]) -> EvalReport:
    return evaluate(_ByFold(parsers), records, timed=False)  # type: ignore[arg-type]


def _line(name: str, report: EvalReport) -> str:
    return (f"  {name:28} n={report.n:5} F1 {report.f1:.3f} recall {report.recall:.3f} "
            f"false tickets {report.false_ticket_rate:5.1%} "
            f"category {report.category_accuracy:.3f} "
            f"urgency {report.urgency_accuracy:.3f} emergency R {report.emergency_recall:.3f} "
            f"P {report.emergency_precision:.3f} location {report.location_exact:.3f}")


def tune_blend(parsers: dict[str, IntakeParser], records: Sequence[EvalRecord]) -> Blend:
    """Thresholds chosen on the pooled held-out predictions (one grid, a stated objective).

    Objective, in order: emergency recall as high as reached anywhere on the grid, then
    emergency precision at least 0.8 where possible, then F1 minus the false-ticket rate
    plus category accuracy.
    """
    candidates = []
    for request in (0.4, 0.45, 0.5, 0.55, 0.6, 0.65, 0.7):
        for long_threshold in (0.2, 0.3, 0.4):
            for veto in (0.05, 0.1, 0.2, 0.3):
                for alone in (0.3, 0.4, 0.5, 0.6):
                    candidates.append(Blend(request_threshold=request,
                                            long_threshold=long_threshold,
                                            emergency_veto=veto, emergency_alone=alone))
    scored = []
    fold_parsers = {id(parser): parser for parser in parsers.values()}
    for blend in candidates:
        for parser in fold_parsers.values():
            parser.blend = blend
        report = _report(parsers, records)
        scored.append((round(report.emergency_recall, 3), report.emergency_precision >= 0.8,
                       report.f1 - report.false_ticket_rate + report.category_accuracy, blend))
    best = max(scored, key=lambda row: row[:3])
    for parser in fold_parsers.values():
        parser.blend = best[3]
    return best[3]


def main(argv: Sequence[str] | None = None) -> int:
    options = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    options.add_argument("--folds", type=int, default=5)
    options.add_argument("--steps", type=int, default=TrainingSettings().steps)
    options.add_argument("--rules-only", action="store_true")
    options.add_argument("--tune", action="store_true", help="choose Blend thresholds by CV")
    options.add_argument("--json", action="store_true", help="headline figures as JSON")
    options.add_argument("--worst", type=int, default=8)
    args = options.parse_args(argv)
    per_file = load_data()
    records = [record for rows in per_file.values() for record in rows]
    letters = [r for r in records if r.is_request and len(r.text) >= LONG_CHARS]
    if args.rules_only:
        rules = IntakeParser()
        parsers = {record.text: rules for record in records}
        print(f"rules alone on {len(records)} messages:")
    else:
        settings = replace(TrainingSettings(), steps=args.steps)
        parsers, _ = cross_validate(records, args.folds, settings, Blend())
        print(f"{args.folds}-fold grouped cross-validation on {len(records)} messages "
              f"({len(set(near_duplicate_groups([r.text for r in records])))} groups):")
        if args.tune:
            print(f"thresholds chosen by CV: {tune_blend(parsers, records)}")
    pooled = _report(parsers, records)
    print(format_report(pooled, args.worst))
    results = {"cross_validation": pooled, "letters": _report(parsers, letters)}
    print(_line("letters (requests >=100 ch)", results["letters"]))
    for name, rows in per_file.items():
        results[name] = _report(parsers, rows)
        print(_line(name, results[name]))
    if args.json:
        print(json.dumps({name: report_as_json(report) for name, report in results.items()},
                         ensure_ascii=False))
    return 0


if __name__ == "__main__":
    sys.exit(main())
