"""Copy the writers' labelled files into data/intake/, cleaned lightly.

    python data/intake/import_staging.py /path/to/staging/*.jsonl

Per line: stray leading "|" and spaces dropped from the text; a non-request's category and
urgency nulled; a request without an urgency given "normal"; lines whose text is already in
another file (or in tests/data/intake_eval.jsonl) dropped. Then every line is checked by
``bot.domain.intake_eval.load_records``. Hand corrections live in ``data/intake-label-fixes.jsonl``
(text → fields to overwrite) and are applied last, so a re-import keeps them.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

HERE = Path(__file__).parent
EVAL_SET = HERE.parent.parent / "tests" / "data" / "intake_eval.jsonl"
FIXES = HERE.parent / "intake-label-fixes.jsonl"


def main(paths: list[str]) -> int:
    from bot.domain.intake_eval import load_records

    corrections = {}
    if FIXES.exists():
        for line in FIXES.read_text(encoding="utf-8").splitlines():
            if line.strip():
                fix = json.loads(line)
                corrections[fix.pop("text")] = fix
    seen = {json.loads(line)["text"] for line in EVAL_SET.read_text(encoding="utf-8").splitlines()
            if line.strip()}
    for path in sorted(paths):
        if "blind" in path.lower():
            sys.exit(f"{path}: the blind set is for the final evaluation only, never for training")
        kept = []
        for line in Path(path).read_text(encoding="utf-8").splitlines():
            if not line.strip():
                continue
            try:
                row = json.loads(line)
            except ValueError:
                continue  # a line still being written
            row["text"] = row["text"].lstrip("| ").strip()
            if not row["text"] or row["text"] in seen:
                continue
            seen.add(row["text"])
            if not row.get("is_request"):
                row["is_request"], row["category"], row["urgency"] = False, None, None
            elif row.get("urgency") is None:
                row["urgency"] = "normal"
            row.update(corrections.get(row["text"], {}))
            kept.append(json.dumps(row, ensure_ascii=False))
        target = HERE / Path(path).name
        target.write_text("\n".join(kept) + "\n", encoding="utf-8")
        load_records(target)
        print(f"{target}: {len(kept)} messages")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
