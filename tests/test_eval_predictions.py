"""The per-text predictions CSV, the plot labels, and the one-way imports of `eval`."""

from __future__ import annotations

import ast
import csv
from pathlib import Path

from eval.predictions import COLUMNS, write_all_predictions, write_predictions
from eval.report import part_label
from eval.results import Run
from eval.systems import Answer

NAMES = {
    "A": "hex bolt M8, zinc",
    "B": 'pipe 1/2" "brass"',
    "C": "washer",
    "D": "nut",
    "E": "spring",
    "F": "gasket",
}
TEXTS = [
    "bolt m8, zinc plated",  # a comma
    'half inch "brass" pipe\nsecond line',  # quotes and a newline
    "something we do not sell",
    "washer pls",
]


def service_run() -> Run:
    return Run(
        name="service",
        gold=["A", "B", None, "C"],
        answers=[
            Answer(["A", "B", "C", "D", "E", "F"], 0.97, "AUTO_ACCEPT"),  # right; 6 ranked
            Answer(["A", "B"], 0.4, "NEEDS_REVIEW"),  # wrong: B is second
            Answer(["D"], 0.0, "NO_MATCH"),  # right: names no part, said so
            Answer(["X"], 0.6, "NEEDS_REVIEW"),  # wrong; X is not in the catalog
        ],
        latencies_ms=[1.0, 1.0, 1.0, 1.0],
    )


def read(path: Path) -> list[dict[str, str]]:
    with path.open(newline="", encoding="utf-8") as f:
        return list(csv.DictReader(f))


def test_predictions_csv_by_hand(tmp_path: Path) -> None:
    path = write_predictions(service_run(), TEXTS, NAMES, tmp_path / "p" / "service.csv")
    with path.open(newline="", encoding="utf-8") as f:
        assert tuple(next(csv.reader(f))) == COLUMNS
    rows = read(path)
    assert len(rows) == 4
    # Commas, quotes and newlines come back whole.
    assert [r["text"] for r in rows] == TEXTS
    first, second, nomatch, unknown = rows
    assert (first["gold_sku"], first["gold_name"]) == ("A", "hex bolt M8, zinc")
    # Top 5 only, each with its catalog name.
    assert [first[f"top{i}_sku"] for i in range(1, 6)] == ["A", "B", "C", "D", "E"]
    assert [first[f"top{i}_name"] for i in range(1, 6)] == [
        NAMES[s] for s in ("A", "B", "C", "D", "E")
    ]
    assert "top6_sku" not in first
    assert (first["confidence"], first["decision"], first["correct"]) == (
        "0.97",
        "AUTO_ACCEPT",
        "1",
    )
    # A short ranking leaves the rest empty; the gold in second place is not right.
    assert second["gold_name"] == 'pipe 1/2" "brass"'
    assert [second[f"top{i}_sku"] for i in range(1, 6)] == ["A", "B", "", "", ""]
    assert second["top3_name"] == ""
    assert second["correct"] == "0"
    # No part named, and the service said so: right, with an empty gold.
    assert (nomatch["gold_sku"], nomatch["gold_name"]) == ("", "")
    assert (nomatch["decision"], nomatch["confidence"], nomatch["correct"]) == (
        "NO_MATCH",
        "0.0",
        "1",
    )
    # A SKU the catalog lacks keeps its SKU and gets no name.
    assert (unknown["top1_sku"], unknown["top1_name"], unknown["correct"]) == ("X", "", "0")
    # The mean of `correct` is acc@1.
    assert sum(int(r["correct"]) for r in rows) / len(rows) == 0.5


def test_predictions_without_decisions_and_one_file_per_system(tmp_path: Path) -> None:
    signal = Run(
        "fuzzy",
        ["A", "B", None, "C"],
        [Answer(["A"], 0.9), Answer(["C"], 0.5), Answer([], 0.0), Answer(["D"], 0.2)],
        [1.0] * 4,
    )
    paths = write_all_predictions([service_run(), signal], TEXTS, NAMES, tmp_path)
    folder = tmp_path / "predictions"
    assert paths == [folder / "service.csv", folder / "fuzzy.csv"]
    assert [r["text"] for r in read(folder / "service.csv")] == TEXTS
    rows = read(folder / "fuzzy.csv")
    assert [r["decision"] for r in rows] == ["", "", "", ""]
    # As acc@1 counts it: only a NO_MATCH decision says "no part", so without a decision
    # policy a text naming none is never right, even with nothing ranked.
    assert [r["correct"] for r in rows] == ["1", "0", "0", "0"]
    assert (rows[2]["top1_sku"], rows[2]["top1_name"]) == ("", "")
    assert (rows[1]["top1_sku"], rows[1]["top1_name"]) == ("C", "washer")


def test_part_label_keeps_the_sku_and_cuts_long_names() -> None:
    names = {"A": "hex   bolt\nM8", "L": "x" * 100}
    assert part_label("A", names) == "A hex bolt M8"
    label = part_label("L", names, width=20)
    assert label == "L " + "x" * 19 + "…"
    assert part_label("Z", names) == "Z"
    assert part_label(None, names) == "∅ (no part)"


def test_eval_imports_point_one_way() -> None:
    """run -> report, predictions -> results: nothing below run imports it back."""
    root = Path(__file__).resolve().parent.parent / "eval"
    for module in ("results", "report", "predictions", "systems"):
        tree = ast.parse((root / f"{module}.py").read_text())
        imported = {n.module for n in ast.walk(tree) if isinstance(n, ast.ImportFrom)}
        imported |= {a.name for n in ast.walk(tree) if isinstance(n, ast.Import) for a in n.names}
        assert "eval.run" not in imported, module
    results = ast.parse((root / "results.py").read_text())
    below = {n.module for n in ast.walk(results) if isinstance(n, ast.ImportFrom)}
    assert not below & {"eval.report", "eval.predictions"}
