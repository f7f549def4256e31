"""Measure the intake parser against a labelled set of resident messages.

The set is JSON Lines, one message per line::

    {"text": "3栋电梯又坏了", "is_request": true, "category": "property",
     "urgency": "normal", "building": "3", "unit": null, "room": null, "floor": null}

``category`` and ``urgency`` are null for non-requests; locations use the canonical
forms of ``bot.domain.intake``; ``floor`` may be left out. Pure standard library:
the CLI (``gridbot eval-intake``) reads the file and prints ``format_report``.
"""

from __future__ import annotations

import json
import time
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from bot.domain.intake import Intake, IntakeParser
from bot.domain.models import Urgency

_MIN_TIMING_SECONDS = 0.5
_URGENCIES = frozenset(level.value for level in Urgency)


@dataclass(frozen=True)
class EvalRecord:
    """One labelled message."""

    text: str
    is_request: bool
    category: str | None
    urgency: str | None
    building: str | None
    unit: str | None
    room: str | None
    floor: str | None = None
    # False for examples from a deployment's corrections: nobody checked the place, so
    # location is not measured on them (nor category or urgency where they are None).
    location_known: bool = True


@dataclass(frozen=True)
class Mistake:
    """A record the parser got wrong, with how bad it is (higher is worse)."""

    # "false ticket", "missed request", "category", "urgency", "false emergency", "location"
    kind: str
    severity: int
    record: EvalRecord
    predicted: Intake

    def describe(self) -> str:
        """One line for the evaluation report: what was expected, what the parser said, and its
        reasons.
        """
        got = self.predicted
        if self.kind == "category":
            detail = f"expected {self.record.category}, got {got.category}"
        elif self.kind in ("urgency", "false emergency"):
            detail = f"expected {self.record.urgency}, got {got.urgency.value}"
        elif self.kind == "location":
            expected = (self.record.building, self.record.unit, self.record.room)
            actual = (got.location.building, got.location.unit, got.location.room)
            detail = f"expected {expected}, got {actual}"
        else:
            detail = f"confidence {got.confidence:.2f}"
        return f"[{self.kind}] {self.record.text!r}: {detail}; because {', '.join(got.reasons)}"


@dataclass(frozen=True)
class EvalReport:
    """Quality and speed of the parser on one labelled set."""

    precision: float
    recall: float
    f1: float
    false_ticket_rate: float
    category_accuracy: float
    emergency_recall: float
    location_exact: float
    messages_per_second: float
    n: int
    urgency_accuracy: float = 0.0
    emergency_precision: float = 1.0
    category_confusion: dict[tuple[str, str], int] = field(default_factory=dict)
    # (expected, predicted) → count over every detected request, right answers included.
    category_matrix: dict[tuple[str, str], int] = field(default_factory=dict)
    mistakes: tuple[Mistake, ...] = ()


def load_records(path: Path) -> list[EvalRecord]:
    """Read a JSONL evaluation set; ``ValueError`` names the first bad line."""
    records = []
    with path.open(encoding="utf-8") as lines:
        for number, line in enumerate(lines, start=1):
            if not line.strip():
                continue
            try:
                records.append(_record(json.loads(line)))
            except (ValueError, TypeError, KeyError) as error:
                raise ValueError(f"{path}:{number}: {error}") from error
    return records


def _optional_str(raw: dict[str, Any], key: str) -> str | None:
    value = raw.get(key)
    if value is None:
        return None
    if not isinstance(value, str):
        raise ValueError(f"{key} must be a string or null, got {value!r}")
    return value


def _record(raw: Any) -> EvalRecord:
    if not isinstance(raw, dict):
        raise ValueError("each line must be a JSON object")
    text = raw["text"]
    if not isinstance(text, str):
        raise ValueError("text must be a string")
    is_request = raw["is_request"]
    if not isinstance(is_request, bool):
        raise ValueError("is_request must be true or false")
    category = _optional_str(raw, "category")
    urgency = _optional_str(raw, "urgency")
    if is_request and (category is None or urgency is None):
        raise ValueError("a request needs a category and an urgency")
    if urgency is not None and urgency not in _URGENCIES:
        raise ValueError(f"urgency must be one of {sorted(_URGENCIES)}, got {urgency!r}")
    return EvalRecord(
        text=text,
        is_request=is_request,
        category=category,
        urgency=urgency,
        building=_optional_str(raw, "building"),
        unit=_optional_str(raw, "unit"),
        room=_optional_str(raw, "room"),
        floor=_optional_str(raw, "floor"),
    )


def _share(part: int, whole: int) -> float:
    return part / whole if whole else 1.0


def _throughput(parser: IntakeParser, records: Sequence[EvalRecord]) -> float:
    texts = [record.text for record in records]
    if not texts:
        return 0.0
    parsed = 0
    started = time.perf_counter()
    elapsed = 0.0
    while elapsed < _MIN_TIMING_SECONDS:
        for text in texts:
            parser.parse_fresh(text)  # the cost of reading, not of remembering a reading
        parsed += len(texts)
        elapsed = time.perf_counter() - started
    return parsed / elapsed


def evaluate(
    parser: IntakeParser, records: Sequence[EvalRecord], *, timed: bool = True
) -> EvalReport:
    """Run ``parser`` over ``records`` and compute the metrics (see the brief in the README).

    ``timed=False`` skips the half-second speed measurement (cross-validation runs many).
    """
    predictions = [parser.parse(record.text) for record in records]
    true_positive = false_positive = false_negative = 0
    non_requests = category_total = category_right = 0
    emergencies = emergencies_caught = emergencies_called = 0
    located = located_right = urgency_total = urgency_right = 0
    confusion: Counter[tuple[str, str]] = Counter()
    matrix: Counter[tuple[str, str]] = Counter()
    mistakes: list[Mistake] = []
    for record, got in zip(records, predictions, strict=True):
        if got.is_request and got.urgency == Urgency.EMERGENCY:
            emergencies_called += 1
            if record.urgency != Urgency.EMERGENCY:
                mistakes.append(Mistake("false emergency", 2, record, got))
        if record.urgency == Urgency.EMERGENCY:
            emergencies += 1
            if got.is_request and got.urgency == Urgency.EMERGENCY:
                emergencies_caught += 1
        if not record.is_request:
            non_requests += 1
            if got.is_request:
                false_positive += 1
                mistakes.append(Mistake("false ticket", 3, record, got))
            continue
        expected_place = (record.building, record.unit, record.room)
        actual_place = (got.location.building, got.location.unit, got.location.room)
        if not record.location_known:
            pass
        elif expected_place == actual_place:
            located += 1
            located_right += 1
        else:
            located += 1
            mistakes.append(Mistake("location", 1, record, got))
        if not got.is_request:
            false_negative += 1
            severity = 5 if record.urgency == Urgency.EMERGENCY else 3
            mistakes.append(Mistake("missed request", severity, record, got))
            continue
        true_positive += 1
        if record.category is not None:
            category_total += 1
            matrix[(record.category, got.category)] += 1
            if got.category == record.category:
                category_right += 1
            else:
                confusion[(record.category, got.category)] += 1
                mistakes.append(Mistake("category", 2, record, got))
        if record.urgency is None:
            continue
        urgency_total += 1
        if got.urgency == record.urgency:
            urgency_right += 1
        elif not (got.urgency == Urgency.EMERGENCY and record.urgency != Urgency.EMERGENCY):
            # A false emergency is already counted above.
            severity = 4 if record.urgency == Urgency.EMERGENCY else 1
            mistakes.append(Mistake("urgency", severity, record, got))

    precision = _share(true_positive, true_positive + false_positive)
    recall = _share(true_positive, true_positive + false_negative)
    f1 = 2 * precision * recall / (precision + recall) if precision + recall else 0.0
    mistakes.sort(key=lambda mistake: -mistake.severity)
    return EvalReport(
        precision=precision,
        recall=recall,
        f1=f1,
        false_ticket_rate=_share(false_positive, non_requests) if non_requests else 0.0,
        category_accuracy=_share(category_right, category_total),
        emergency_recall=_share(emergencies_caught, emergencies),
        location_exact=_share(located_right, located),
        messages_per_second=_throughput(parser, records) if timed else 0.0,
        n=len(records),
        urgency_accuracy=_share(urgency_right, urgency_total),
        emergency_precision=_share(emergencies_caught, emergencies_called),
        category_confusion=dict(confusion.most_common()),
        category_matrix=dict(sorted(matrix.items())),
        mistakes=tuple(mistakes),
    )


def confusion_rows(report: EvalReport) -> dict[str, dict[str, int]]:
    """The category matrix as {expected: {predicted: count}} over detected requests."""
    rows: dict[str, dict[str, int]] = {}
    for (expected, got), count in report.category_matrix.items():
        rows.setdefault(expected, {})[got] = count
    return rows


def report_as_json(report: EvalReport) -> dict[str, Any]:
    """The headline numbers and the category confusion matrix, for ``eval-intake --json``."""
    return {
        "precision": round(report.precision, 4),
        "recall": round(report.recall, 4),
        "f1": round(report.f1, 4),
        "false_ticket_rate": round(report.false_ticket_rate, 4),
        "category_accuracy": round(report.category_accuracy, 4),
        "emergency_recall": round(report.emergency_recall, 4),
        "emergency_precision": round(report.emergency_precision, 4),
        "urgency_accuracy": round(report.urgency_accuracy, 4),
        "location_exact": round(report.location_exact, 4),
        "messages_per_second": round(report.messages_per_second, 1),
        "n": report.n,
        "category_confusion": confusion_rows(report),
    }


def format_report(report: EvalReport, worst: int = 8) -> str:
    """Readable summary plus the ``worst`` mistakes, most harmful first."""
    lines = [
        f"intake evaluation on {report.n} messages",
        f"  requests    precision {report.precision:.3f}  recall {report.recall:.3f}"
        f"  F1 {report.f1:.3f}",
        f"  false tickets        {report.false_ticket_rate:.1%} of non-requests",
        f"  category accuracy    {report.category_accuracy:.3f}",
        f"  urgency accuracy     {report.urgency_accuracy:.3f}",
        f"  emergency recall     {report.emergency_recall:.3f}",
        f"  emergency precision  {report.emergency_precision:.3f}",
        f"  location exact       {report.location_exact:.3f}",
        f"  speed                {report.messages_per_second:,.0f} messages/s",
    ]
    if report.category_confusion:
        pairs = ", ".join(
            f"{expected}→{got}×{count}"
            for (expected, got), count in list(report.category_confusion.items())[:6]
        )
        lines.append(f"  category confusions  {pairs}")
    if report.mistakes:
        lines.append(
            f"worst mistakes ({min(worst, len(report.mistakes))} of {len(report.mistakes)}):"
        )
        lines += [f"  {mistake.describe()}" for mistake in report.mistakes[:worst]]
    return "\n".join(lines)
