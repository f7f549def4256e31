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
import json
import sys
from collections.abc import Sequence
from dataclasses import replace
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bot.domain.intake import Blend, Intake, IntakeParser, Location  # noqa: E402
from bot.domain.intake_blend import decide  # noqa: E402
from bot.domain.intake_eval import (  # noqa: E402
    EvalRecord,
    EvalReport,
    evaluate,
    format_report,
    load_records,
    report_as_json,
)
from bot.domain.intake_model import ModelScores  # noqa: E402
from bot.domain.intake_rules import RuleReading  # noqa: E402
from bot.domain.intake_training import (  # noqa: E402
    TrainingSettings,
    examples_from_records,
    fold_numbers,
    near_duplicate_groups,
    train,
)
from bot.domain.models import Urgency  # noqa: E402

LONG_CHARS = 100


def load_data() -> dict[str, list[EvalRecord]]:
    """Every labelled file by name; a text seen in an earlier file is not read again."""
    paths = [
        *sorted((ROOT / "data" / "intake").glob("*.jsonl")),
        ROOT / "tests" / "data" / "intake_eval.jsonl",
    ]
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


class _ByFold:
    """Answers each message with the parser of the fold it was held out of."""

    def __init__(self, parsers: dict[str, IntakeParser]) -> None:
        self._parsers = parsers

    def parse(self, text: str) -> Intake:
        return self._parsers[text].parse(text)


def cross_validate(
    records: Sequence[EvalRecord], folds: int, settings: TrainingSettings, blend: Blend
) -> tuple[dict[str, IntakeParser], list[IntakeParser]]:
    """One parser per fold, trained without it; returns text → the parser that never saw it."""
    numbers = fold_numbers([record.text for record in records], folds)
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
    return (
        f"  {name:28} n={report.n:5} F1 {report.f1:.3f} recall {report.recall:.3f} "
        f"false tickets {report.false_ticket_rate:5.1%} "
        f"category {report.category_accuracy:.3f} "
        f"urgency {report.urgency_accuracy:.3f} emergency R {report.emergency_recall:.3f} "
        f"P {report.emergency_precision:.3f} location {report.location_exact:.3f}"
    )


class _Decided:
    """Answers each message from its fold's reading and scores, decided under one Blend."""

    def __init__(self, parsers: dict[str, IntakeParser], records: Sequence[EvalRecord]) -> None:
        self.blend = Blend()
        self._read: dict[str, tuple[RuleReading, ModelScores, frozenset[str]] | None] = {}
        for record in records:
            parser = parsers[record.text]
            reading = parser.read(record.text)
            if reading is None or parser.model is None:
                self._read[record.text] = None
                continue
            scores = parser.model.score(reading.text, parser.signals(record.text)[1])
            self._read[record.text] = (reading, scores, parser.model_categories)

    def parse(self, text: str) -> Intake:
        read = self._read[text]
        if read is None:
            return Intake(False, "other", Urgency.NORMAL, Location(), 1.0, ("empty",))
        reading, scores, categories = read
        return decide(self.blend, reading, scores, model_categories=categories)


def tune_blend(parsers: dict[str, IntakeParser], records: Sequence[EvalRecord]) -> Blend:
    """Thresholds chosen on the pooled held-out predictions (one grid, a stated objective).

    Objective, in order: emergency precision of at least 0.8 (the issue's floor: below it
    heads learn to ignore alerts) where the grid reaches it; then the highest emergency
    recall; then F1 minus the false-ticket rate plus category accuracy. The fold parsers
    are left with the winner.
    """
    decided = _Decided(parsers, records)
    scored = []
    for request in (0.4, 0.45, 0.5, 0.55, 0.6, 0.65, 0.7, 0.75):
        for long_threshold in (0.2, 0.3, 0.4, 0.5):
            for floor in (0.2, 0.3, 0.4):
                for veto in (0.05, 0.1, 0.2, 0.3, 0.4):
                    for alone in (0.3, 0.4, 0.5, 0.6, 0.7):
                        decided.blend = Blend(
                            request_threshold=request,
                            long_threshold=long_threshold,
                            emergency_request_floor=floor,
                            emergency_veto=veto,
                            emergency_alone=alone,
                        )
                        report = evaluate(decided, records, timed=False)  # type: ignore[arg-type]
                        scored.append(
                            (
                                report.emergency_precision >= 0.8,
                                round(report.emergency_recall, 3),
                                report.f1 - report.false_ticket_rate + report.category_accuracy,
                                decided.blend,
                            )
                        )
    best = max(scored, key=lambda row: row[:3])[3]
    for parser in {id(parser): parser for parser in parsers.values()}.values():
        parser.blend = best
    return best


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
        print(
            f"{args.folds}-fold grouped cross-validation on {len(records)} messages "
            f"({len(set(near_duplicate_groups([r.text for r in records])))} groups):"
        )
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
        print(
            json.dumps(
                {name: report_as_json(report) for name, report in results.items()},
                ensure_ascii=False,
            )
        )
    return 0


if __name__ == "__main__":
    sys.exit(main())
