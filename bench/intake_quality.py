"""Cross-validation and a fixed held-out split for the intake recogniser (rules + model).

    python bench/intake_quality.py                      # the data under data/intake/
    python bench/intake_quality.py --folds 5 --steps 300
    python bench/intake_quality.py --rules-only         # the rules alone, for comparison

Data: every ``data/intake/*.jsonl`` plus ``tests/data/intake_eval.jsonl``. One message in
five of ``data/intake/`` (by a hash of its text, so the split never moves) is held out:
never trained on here, reported on separately. Cross-validation runs on the rest: k folds,
each predicted by a model trained on the other k-1, all predictions pooled into one report.
Then one model is trained on all of the rest and measured on the held-out fifth, overall
and per file. Nothing under a path containing "blind" is ever read.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import sys
from collections.abc import Sequence
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bot.domain.intake import Blend, Intake, IntakeParser  # noqa: E402
from bot.domain.intake_eval import EvalRecord, evaluate, format_report, load_records  # noqa: E402
from bot.domain.intake_training import (  # noqa: E402, I001
    TrainingSettings,
    examples_from_records,  # noqa: E402
    train,
)


def held_out(text: str) -> bool:
    """One message in five, fixed by the text alone."""
    return hashlib.sha256(text.encode("utf-8")).digest()[0] % 5 == 0


def load_data() -> tuple[dict[str, list[EvalRecord]], list[EvalRecord]]:
    files = sorted((ROOT / "data" / "intake").glob("*.jsonl"))
    per_file: dict[str, list[EvalRecord]] = {}
    seen: set[str] = set()
    for path in [*files, ROOT / "tests" / "data" / "intake_eval.jsonl"]:
        if "blind" in str(path).lower():
            continue
        records = []
        for record in load_records(path):
            if record.text not in seen:
                seen.add(record.text)
                records.append(record)
        per_file[path.name] = records
    evalset = per_file.pop("intake_eval.jsonl")
    return per_file, evalset


class _ByFold:
    """Answers each message with the parser of the fold it was held out of."""

    def __init__(self, parsers: dict[str, IntakeParser]) -> None:
        self._parsers = parsers

    def parse(self, text: str) -> Intake:
        return self._parsers[text].parse(text)


def cross_validate(
    records: Sequence[EvalRecord], folds: int, settings: TrainingSettings, blend: Blend
) -> tuple[object, list[IntakeParser]]:
    parsers: dict[str, IntakeParser] = {}
    fold_parsers = []
    for fold in range(folds):
        training = [record for i, record in enumerate(records) if i % folds != fold]
        model = train(examples_from_records(training), settings)
        parser = IntakeParser(model=model, blend=blend)
        fold_parsers.append(parser)
        for i, record in enumerate(records):
            if i % folds == fold:
                parsers[record.text] = parser
    return evaluate(_ByFold(parsers), records, timed=False), fold_parsers  # type: ignore[arg-type]


def main(argv: Sequence[str] | None = None) -> int:
    options = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    options.add_argument("--folds", type=int, default=5)
    options.add_argument("--steps", type=int, default=TrainingSettings().steps)
    options.add_argument("--rules-only", action="store_true")
    options.add_argument("--json", action="store_true", help="headline figures as JSON")
    options.add_argument("--worst", type=int, default=8)
    args = options.parse_args(argv)
    per_file, evalset = load_data()
    training = [r for records in per_file.values() for r in records if not held_out(r.text)]
    training += evalset
    held = {name: [r for r in records if held_out(r.text)] for name, records in per_file.items()}
    settings = TrainingSettings(steps=args.steps)
    blend = Blend()
    results = {}
    if args.rules_only:
        parser = IntakeParser()
        cv_report = evaluate(parser, training, timed=False)
        print("rules alone on the training part:\n" + format_report(cv_report, args.worst))
    else:
        cv_report, _ = cross_validate(training, args.folds, settings, blend)
        print(f"{args.folds}-fold cross-validation on {len(training)} messages:")
        print(format_report(cv_report, args.worst))
        parser = IntakeParser(model=train(examples_from_records(training), settings), blend=blend)
    results["cross_validation"] = cv_report
    everything = [r for records in held.values() for r in records]
    held_report = evaluate(parser, everything, timed=False)
    print(f"\nheld-out fifth ({len(everything)} messages, never trained on):")
    print(format_report(held_report, args.worst))
    results["held_out"] = held_report
    for name, records in held.items():
        report = evaluate(parser, records, timed=False)
        results[f"held_out/{name}"] = report
        print(f"  {name:32} n={report.n:4} F1 {report.f1:.3f} false tickets "
              f"{report.false_ticket_rate:.1%} category {report.category_accuracy:.3f} "
              f"emergency recall {report.emergency_recall:.3f} "
              f"precision {report.emergency_precision:.3f} recall {report.recall:.3f}")
    if args.json:
        from bot.domain.intake_eval import report_as_json

        print(json.dumps({name: report_as_json(report) for name, report in results.items()},
                         ensure_ascii=False))
    return 0


if __name__ == "__main__":
    sys.exit(main())
