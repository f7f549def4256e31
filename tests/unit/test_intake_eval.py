"""The labelled evaluation set and the metrics computed on it."""

from __future__ import annotations

import json
from collections import Counter
from pathlib import Path

import pytest

from bot.domain.intake import CATEGORY_CODES, IntakeParser
from bot.domain.intake_eval import (
    EvalRecord,
    EvalReport,
    evaluate,
    format_report,
    load_records,
    report_as_json,
)

EVAL_SET = Path(__file__).parent.parent / "data" / "intake_eval.jsonl"


@pytest.fixture(scope="module")
def records() -> list[EvalRecord]:
    return load_records(EVAL_SET)


@pytest.fixture(scope="module")
def report(records: list[EvalRecord]) -> EvalReport:
    return evaluate(IntakeParser(), records)


def test_the_set_is_big_and_varied(records: list[EvalRecord]) -> None:
    assert len(records) >= 400
    assert sum(not record.is_request for record in records) >= 150
    assert sum(record.urgency == "emergency" for record in records) >= 25
    per_category = Counter(record.category for record in records if record.is_request)
    assert set(per_category) == set(CATEGORY_CODES)
    assert all(count >= 10 for code, count in per_category.items() if code != "other")
    texts = [record.text for record in records]
    assert len(set(texts)) == len(texts)


def test_the_set_is_consistently_labelled(records: list[EvalRecord]) -> None:
    for record in records:
        if record.is_request:
            assert record.category in CATEGORY_CODES and record.urgency is not None, record
        else:
            assert record.category is None and record.urgency is None, record


def test_quality_floors(report: EvalReport) -> None:
    message = format_report(report)
    assert report.f1 >= 0.95, message
    assert report.false_ticket_rate <= 0.03, message
    assert report.category_accuracy >= 0.90, message
    assert report.emergency_recall == 1.0, message
    assert report.location_exact >= 0.95, message


def test_json_report_has_exactly_the_headline_keys(report: EvalReport) -> None:
    assert set(report_as_json(report)) == {
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
    json.dumps(report_as_json(report))


def test_json_report_holds_the_category_confusion_matrix(report: EvalReport) -> None:
    matrix = report_as_json(report)["category_confusion"]
    detected = sum(count for row in matrix.values() for count in row.values())
    right = sum(row.get(expected, 0) for expected, row in matrix.items())
    assert right / detected == pytest.approx(report.category_accuracy)
    assert set(matrix) <= set(CATEGORY_CODES)


def test_text_report_is_readable(report: EvalReport) -> None:
    text = format_report(report)
    for heading in (
        "precision",
        "false tickets",
        "category accuracy",
        "emergency recall",
        "location exact",
        "messages/s",
    ):
        assert heading in text


def _record(
    text: str,
    is_request: bool,
    category: str | None = None,
    urgency: str | None = None,
    building: str | None = None,
) -> EvalRecord:
    return EvalRecord(text, is_request, category, urgency, building, None, None)


def test_metrics_are_computed_as_defined() -> None:
    records = [
        _record("3栋着火了", True, "safety", "emergency", "3"),  # right, and located
        _record("电梯坏了", True, "order", "normal"),  # found, wrong category
        _record("楼下有点东西", True, "other", "emergency"),  # missed emergency
        _record("收到", False),  # right
        _record("电梯又坏了 谢谢", False),  # labelled chat, predicted a ticket
    ]
    report = evaluate(IntakeParser(), records)
    assert report.n == 5
    assert report.precision == pytest.approx(2 / 3)
    assert report.recall == pytest.approx(2 / 3)
    assert report.f1 == pytest.approx(2 / 3)
    assert report.false_ticket_rate == pytest.approx(1 / 2)
    assert report.category_accuracy == pytest.approx(1 / 2)
    assert report.emergency_recall == pytest.approx(1 / 2)
    assert report.location_exact == pytest.approx(3 / 3)
    assert report.emergency_precision == 1.0 and report.urgency_accuracy == 1.0
    assert report.messages_per_second > 0
    kinds = [mistake.kind for mistake in report.mistakes]
    assert kinds[0] == "missed request"  # a missed emergency is the worst mistake
    assert {"false ticket", "category"} <= set(kinds)
    assert "楼下有点东西" in format_report(report)


def test_load_records_reads_optional_floor(tmp_path: Path) -> None:
    path = tmp_path / "set.jsonl"
    path.write_text(
        '{"text": "40栋15楼灯坏了", "is_request": true, "category": "property",'
        ' "urgency": "normal", "building": "40", "unit": null, "room": null, "floor": "15"}\n\n'
        '{"text": "收到", "is_request": false, "category": null, "urgency": null,'
        ' "building": null, "unit": null, "room": null}\n',
        encoding="utf-8",
    )
    first, second = load_records(path)
    assert first.floor == "15" and second.floor is None


@pytest.mark.parametrize(
    "bad_line",
    [
        "not json",
        "[1, 2]",
        '{"is_request": true}',
        '{"text": "x", "is_request": "yes", "category": null, "urgency": null}',
        '{"text": "x", "is_request": true, "category": null, "urgency": null}',
        '{"text": "x", "is_request": true, "category": "property", "urgency": "soon"}',
        '{"text": "x", "is_request": false, "category": null, "urgency": null, "building": 3}',
    ],
)
def test_load_records_names_the_bad_line(tmp_path: Path, bad_line: str) -> None:
    path = tmp_path / "set.jsonl"
    good = '{"text": "收到", "is_request": false, "category": null, "urgency": null}'
    path.write_text(f"{good}\n{good}\n{bad_line}\n", encoding="utf-8")
    with pytest.raises(ValueError, match=r":3:"):
        load_records(path)
