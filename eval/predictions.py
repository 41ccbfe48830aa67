"""Per-text results of an evaluation: one CSV per system, `OUT/predictions/<system>.csv`.

One row per test text, in test.csv's order, UTF-8, with a header:

    text, gold_sku, gold_name,
    top1_sku, top1_name, ..., top5_sku, top5_name,
    confidence, decision, correct

- `gold_sku` and `gold_name` are empty for a text that names no part.
- `topN_sku`/`topN_name`: the system's ranking, best first, empty past its end. For a NO_MATCH
  answer they are the candidates the service turned down.
- `confidence`: of the top answer, as the metrics read it (0 for NO_MATCH).
- `decision`: AUTO_ACCEPT, NEEDS_REVIEW or NO_MATCH; empty for a system without a decision
  policy (single signals and baselines).
- `correct`: 1 or 0, as acc@1 counts it (the mean of the column is acc@1).

Names come from the dataset's catalog; a SKU the catalog lacks gets an empty name.
"""

from __future__ import annotations

import csv
from collections.abc import Mapping, Sequence
from pathlib import Path

from eval.results import Run, correctness

TOP = 5
COLUMNS = (
    "text",
    "gold_sku",
    "gold_name",
    *(f"top{i}_{field}" for i in range(1, TOP + 1) for field in ("sku", "name")),
    "confidence",
    "decision",
    "correct",
)


def write_predictions(run: Run, texts: Sequence[str], names: Mapping[str, str], path: Path) -> Path:
    """Write one run's answers, text by text, to `path` (its folder is created)."""
    if len(texts) != len(run.answers):
        raise ValueError(f"{run.name}: {len(texts)} texts but {len(run.answers)} answers")
    right = correctness(run)
    path.parent.mkdir(parents=True, exist_ok=True)
    # newline="": the csv module writes its own line ends, and a text with a newline in it
    # comes back whole inside its quotes.
    with path.open("w", newline="", encoding="utf-8") as f:
        writer = csv.writer(f)
        writer.writerow(COLUMNS)
        for text, gold, answer, ok in zip(texts, run.gold, run.answers, right, strict=True):
            top = (answer.ranked[:TOP] + [""] * TOP)[:TOP]
            ranked = [cell for sku in top for cell in (sku, names.get(sku, ""))]
            writer.writerow(
                [
                    text,
                    gold or "",
                    names.get(gold or "", ""),
                    *ranked,
                    float(answer.confidence),
                    answer.decision or "",
                    int(ok),
                ]
            )
    return path


def write_all_predictions(
    runs: Sequence[Run], texts: Sequence[str], names: Mapping[str, str], out_dir: Path
) -> list[Path]:
    """`out_dir/predictions/<system>.csv` for every run."""
    folder = out_dir / "predictions"
    return [write_predictions(r, texts, names, folder / f"{r.name}.csv") for r in runs]
