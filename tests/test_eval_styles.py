"""The dev split's figures: per-style acc@1, no-part recall and wrong auto-accepts, the
vehicle handed to the service, and where the split is named (summary, report, BENCHMARKS.md)."""

from __future__ import annotations

import json
import sys
import types
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import numpy as np
import pytest

from eval import bench_quality
from eval.report import write_report
from eval.results import (
    BY_STYLE_KEY,
    DATASET_KEY,
    NO_STYLE,
    Run,
    dataset_facts,
    metrics,
    style_metrics,
    style_table,
    summary_table,
)
from eval.run import evaluate, run_systems
from eval.systems import Answer, ServiceSystem
from matcher.config import Settings
from matcher.decision import Decision
from matcher.examples import Example

GOLD: list[str | None] = ["A", "B", "C", None, None, "D"]
STYLES = ["plain", "plain", "typo", "no_part", "no_part", "typo"]


def service_run() -> Run:
    return Run(
        "service",
        GOLD,
        [
            Answer(["A"], 0.9, "AUTO_ACCEPT"),  # plain: right
            Answer(["X"], 0.9, "AUTO_ACCEPT"),  # plain: accepted, wrong
            Answer(["C"], 0.5, "NEEDS_REVIEW"),  # typo: right
            Answer([], 0.0, "NO_MATCH"),  # no_part: right
            Answer(["A"], 0.8, "AUTO_ACCEPT"),  # no_part: a part accepted for no part
            Answer(["Y"], 0.4, "NEEDS_REVIEW"),  # typo: wrong
        ],
        [1.0] * 6,
        STYLES,
    )


def fuzzy_run() -> Run:
    ranked = [["A"], ["B"], ["X"], ["A"], ["B"], ["D"]]
    return Run("fuzzy", GOLD, [Answer(r, 0.5) for r in ranked], [1.0] * 6, STYLES)


def styled_summary() -> dict[str, Any]:
    out: dict[str, Any] = {"setfit": None, DATASET_KEY: dataset_facts("toy", GOLD, [], "dev")}
    for run in (service_run(), fuzzy_run()):
        out[run.name] = {**metrics(run), BY_STYLE_KEY: style_metrics(run)}
    return out


META = {
    "dataset": "toy",
    "split": "dev",
    "test_texts": 6,
    "model": "v0001",
    "provenance": {"commit": "0" * 40, "command": "partmatch eval --split dev", "split": "dev"},
}


def test_per_style_figures_by_hand() -> None:
    assert style_metrics(service_run()) == {
        "plain": {"n": 2, "acc@1": 0.5, "nomatch_recall": None, "wrong_auto_rate": 0.5},
        "typo": {"n": 2, "acc@1": 0.5, "nomatch_recall": None, "wrong_auto_rate": 0.0},
        # One no-part text answered NO_MATCH, the other accepted as part A.
        "no_part": {"n": 2, "acc@1": 0.5, "nomatch_recall": 0.5, "wrong_auto_rate": 0.5},
    }
    # Without a decision policy: never NO_MATCH, no auto-accepts to count.
    assert style_metrics(fuzzy_run()) == {
        "plain": {"n": 2, "acc@1": 1.0, "nomatch_recall": None, "wrong_auto_rate": None},
        "typo": {"n": 2, "acc@1": 0.5, "nomatch_recall": None, "wrong_auto_rate": None},
        "no_part": {"n": 2, "acc@1": 0.0, "nomatch_recall": None, "wrong_auto_rate": None},
    }


def test_per_style_figures_are_the_overall_figures_on_each_style() -> None:
    run = service_run()
    overall = metrics(run)
    by_style = style_metrics(run)
    assert sum(f["n"] for f in by_style.values()) == len(run.gold)
    # The styles' shares, weighted by their texts, add up to the overall share.
    for figure in ("acc@1", "wrong_auto_rate"):
        weighted = sum(f[figure] * f["n"] for f in by_style.values()) / len(run.gold)
        assert weighted == pytest.approx(overall[figure], abs=1e-4), figure


def test_no_styles_no_per_style_figures() -> None:
    plain = Run("service", ["A"], [Answer(["A"], 0.9, "AUTO_ACCEPT")], [1.0])
    assert style_metrics(plain) == {}
    assert style_metrics(Run("s", ["A"], [Answer(["A"], 0.9)], [1.0], [""])) == {}
    summary = {"service": metrics(plain), DATASET_KEY: dataset_facts("toy", ["A"], ["A"])}
    assert style_table(summary) == ""
    assert "Per style" not in summary_table(summary)


def test_a_text_without_a_style_among_styled_ones() -> None:
    run = Run(
        "fuzzy", ["A", "B"], [Answer(["A"], 0.5), Answer(["A"], 0.5)], [1.0] * 2, ["typo", ""]
    )
    by_style = style_metrics(run)
    assert list(by_style) == ["typo", NO_STYLE]
    assert (by_style["typo"]["acc@1"], by_style[NO_STYLE]["acc@1"]) == (1.0, 0.0)


def rows(table: str) -> list[list[str]]:
    return [[c.strip() for c in line.strip("|").split("|")] for line in table.splitlines()]


def test_style_table_rows_styles_columns_systems() -> None:
    table = rows(style_table(styled_summary()))
    assert table[0] == ["style", "n", "service acc@1", "fuzzy acc@1", "service wrong auto-accepts"]
    # Styles in the order the file gives them; wrong auto-accepts as count (share).
    assert table[2:] == [
        ["plain", "2", "0.5", "1", "1 (0.5)"],
        ["typo", "2", "0.5", "0.5", "0 (0)"],
        ["no_part", "2", "0.5", "0", "1 (0.5)"],
    ]


def test_style_table_without_the_service() -> None:
    summary = styled_summary()
    summary["service"] = None  # left out
    table = rows(style_table(summary))
    assert table[0] == ["style", "n", "fuzzy acc@1"]
    assert table[2] == ["plain", "2", "1"]


def test_report_and_summary_table_show_the_split_and_the_styles(tmp_path: Path) -> None:
    summary = styled_summary()
    assert summary[DATASET_KEY]["split"] == "dev"
    report = write_report(summary, META, tmp_path).read_text()
    assert report.startswith("# Evaluation on `toy`, dev split")
    assert "- split: dev" in report
    assert "6 dev texts" in report and "figures from\ndev.csv" in report
    styles = report[report.index("## Per style") : report.index("## Oracle figures")]
    assert "| no_part | 2 | 0.5 | 0 | 1 (0.5) |" in styles
    # The CLI's and BENCHMARKS.md's table carries the per-style table under it.
    printed = summary_table(summary)
    assert "| no_part | 2 | 0.5 | 0 | 1 (0.5) |" in printed
    assert printed.index("| system |") < printed.index("| style |")


# -- The vehicle reaches the service, and only the service --------------------------------


class RecordingSystem:
    def __init__(self, name: str) -> None:
        self.name = name
        self.asked: list[tuple[str, str]] = []

    def answer(self, text: str, vehicle: str = "") -> Answer:
        self.asked.append((text, vehicle))
        return Answer(["A"], 1.0)


def test_each_system_is_handed_the_vehicle_and_the_run_keeps_the_styles() -> None:
    examples = [
        Example("grinding at the front", "A", style="symptom", vehicle="2016 VW Golf Mk7"),
        Example("where is my order", None, style="no_part"),
    ]
    system = RecordingSystem("service")
    (run,) = run_systems([system], examples, progress=False)
    assert system.asked == [
        ("grinding at the front", "2016 VW Golf Mk7"),
        ("where is my order", ""),
    ]
    assert run.styles == ["symptom", "no_part"] and run.gold == ["A", None]


class FakeMatcher:
    def __init__(self) -> None:
        self.calls: list[dict[str, Any]] = []

    def match(self, text: str, top_k: int = 0, vehicle: str = "") -> SimpleNamespace:
        self.calls.append({"text": text, "top_k": top_k, "vehicle": vehicle})
        candidate = SimpleNamespace(sku="A", confidence=0.7)
        return SimpleNamespace(candidates=[candidate], decision=Decision.AUTO_ACCEPT)


def test_the_service_passes_the_vehicle_to_match() -> None:
    matcher = FakeMatcher()
    answer = ServiceSystem(matcher).answer("pads", "2016 VW Golf Mk7")  # type: ignore[arg-type]
    assert matcher.calls == [{"text": "pads", "top_k": 10, "vehicle": "2016 VW Golf Mk7"}]
    assert answer == Answer(["A"], 0.7, "AUTO_ACCEPT")


# -- partmatch eval --split dev, end to end without a model ---------------------------------


class StubModel:
    """Stands in for SentenceTransformer: the same vector for every text."""

    def __init__(self, path: str, device: str | None = None) -> None:
        pass

    def get_embedding_dimension(self) -> int:
        return 3

    def encode(self, texts: list[str], **_: object) -> np.ndarray:
        return np.ones((len(texts), 3), dtype=np.float32)


def write_data(root: Path, dev: str | None) -> Path:
    root.mkdir()
    parts = [
        {"sku": "A", "name": "front brake pads"},
        {"sku": "B", "name": "alternator"},
    ]
    (root / "catalog.jsonl").write_text("\n".join(json.dumps(p) for p in parts) + "\n")
    (root / "history.csv").write_text("text,sku\nfront pads,A\nalternator,B\n")
    (root / "valid.csv").write_text("text,sku\nbrake pads,A\n")
    (root / "test.csv").write_text("text,sku\nalternator please,B\n")
    if dev is not None:
        (root / "dev.csv").write_text(dev)
    return root


DEV = (
    "text,sku,style,vehicle\n"
    "front brake pads,A,plain,\n"
    "alternatr,B,typo,2016 VW Golf Mk7\n"
    "brake pads front,A,plain,\n"
)


def test_eval_on_the_dev_split(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    fake = types.ModuleType("sentence_transformers")
    fake.SentenceTransformer = StubModel  # type: ignore[attr-defined]
    monkeypatch.setitem(sys.modules, "sentence_transformers", fake)
    data = write_data(tmp_path / "toy", DEV)
    settings = Settings.from_env(env={}, state_dir=tmp_path / "state")
    out = tmp_path / "out"
    summary = evaluate(data, out, settings, systems=("bm25", "fuzzy"), progress=False, split="dev")
    assert json.loads((out / "summary.json").read_text()) == summary
    assert summary[DATASET_KEY]["split"] == "dev" and summary[DATASET_KEY]["test_texts"] == 3
    by_style = summary["fuzzy"][BY_STYLE_KEY]
    assert {s: f["n"] for s, f in by_style.items()} == {"plain": 2, "typo": 1}
    assert by_style["plain"]["acc@1"] == 1.0
    meta = json.loads((out / "meta.json").read_text())
    assert meta["split"] == "dev" and meta["provenance"]["split"] == "dev"
    report = (out / "report.md").read_text()
    assert "dev split" in report and "## Per style" in report
    predicted = (out / "predictions" / "fuzzy.csv").read_text().splitlines()
    assert len(predicted) == 4 and predicted[2].startswith("alternatr,B,")


def test_eval_on_a_missing_dev_split_is_refused_before_any_work(tmp_path: Path) -> None:
    data = write_data(tmp_path / "toy", None)
    settings = Settings.from_env(env={}, state_dir=tmp_path / "state")
    with pytest.raises(ValueError, match=r"no dev texts \(dev\.csv is missing or empty\)"):
        evaluate(data, tmp_path / "out", settings, split="dev")
    assert not (tmp_path / "out").exists()


# -- make bench-quality ---------------------------------------------------------------------


def test_bench_quality_adds_the_dev_table_where_there_is_a_dev_set(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    with_dev = write_data(tmp_path / "with-dev", DEV)
    without = write_data(tmp_path / "without", None)
    monkeypatch.setattr(bench_quality, "DATASETS", [with_dev, without])
    asked: dict[str, list[str]] = {}

    def fake_evaluate(
        data: Path, outs: dict[str, Path], *_: object, **__: object
    ) -> dict[str, dict[str, Any]]:
        asked[data.name] = list(outs)
        test = {"service": metrics(service_run()), DATASET_KEY: dataset_facts("t", GOLD, GOLD)}
        return {"test": test, **({"dev": styled_summary()} if "dev" in outs else {})}

    monkeypatch.setattr(bench_quality, "evaluate_splits", fake_evaluate)
    benchmarks = tmp_path / "BENCHMARKS.md"
    bench_quality.main(["--out", str(tmp_path / "out"), "--benchmarks", str(benchmarks)])
    assert asked == {"with-dev": ["test", "dev"], "without": ["test"]}
    text = benchmarks.read_text()
    first = text[text.index("## with-dev") : text.index("## without")]
    dev = first[first.index("### Dev split") :]
    assert "--split dev" in dev
    assert "| style | n | service acc@1 | fuzzy acc@1 | service wrong auto-accepts |" in dev
    assert "| no_part | 2 | 0.5 | 0 | 1 (0.5) |" in dev
    assert "### Dev split" not in text[text.index("## without") :]
