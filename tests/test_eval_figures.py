"""The figures that say what the service does: deployed decision figures apart from the
oracle ones, cold-cache latency, the history caveat, and the provenance of every run."""

from __future__ import annotations

import datetime
import json
import os
import re
import subprocess
import sys
import types
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from eval import bench_quality
from eval.provenance import code_version, provenance
from eval.report import write_report
from eval.results import (
    DATASET_KEY,
    DEFINITIONS,
    DEPLOYED_METRICS,
    METRICS,
    ORACLE_LABEL,
    ORACLE_METRICS,
    TABLE_METRICS,
    Run,
    caveats,
    dataset_facts,
    metrics,
    summary_table,
)
from eval.run import run_systems
from eval.systems import Answer
from matcher.encoder import Encoder
from matcher.examples import Example

ROOT = Path(__file__).resolve().parent.parent
COMMIT = re.compile(r"[0-9a-f]{40}(-dirty)?")


def service_run() -> Run:
    return Run(
        "service",
        ["A", "B", None, "C"],
        [
            Answer(["A"], 0.99, "AUTO_ACCEPT"),
            Answer(["A"], 0.95, "AUTO_ACCEPT"),
            Answer([], 0.0, "NO_MATCH"),
            Answer(["C"], 0.5, "NEEDS_REVIEW"),
        ],
        [1.0, 2.0, 3.0, 4.0],
    )


def signal_run() -> Run:
    return Run(
        "fuzzy",
        ["A", "B", None, "C"],
        [Answer(["A"], 0.9), Answer(["B"], 0.8), Answer(["C"], 0.7), Answer(["D"], 0.1)],
        [1.0] * 4,
    )


def summary(history_skus: Sequence[str | None] = ("A", "B", "C")) -> dict[str, Any]:
    runs = [service_run(), signal_run()]
    out: dict[str, Any] = {r.name: metrics(r) for r in runs}
    out["setfit"] = None  # left out
    out[DATASET_KEY] = dataset_facts("toy", runs[0].gold, list(history_skus))
    return out


META = {
    "dataset": "toy",
    "test_texts": 4,
    "model": "v0001",
    "provenance": {
        "commit": "0" * 40 + "-dirty",
        "command": "partmatch eval --data toy",
        "cores": 2,
        "cpu": "AMD EPYC",
        "cpu_extensions": ["avx2"],
        "date": "2026-01-01T00:00:00+00:00",
    },
}


# 1. Deployed figures, apart from the oracle ones.


def test_deployed_figures_by_hand() -> None:
    m = metrics(service_run())
    # 2 of 4 accepted, 1 of them right; 1 reviewed; 1 NO_MATCH.
    assert (m["auto_rate"], m["auto_precision"]) == (0.5, 0.5)
    assert (m["review_rate"], m["nomatch_rate"]) == (0.25, 0.25)
    assert m["wrong_auto_rate"] == 0.25
    # Named texts: A right, B wrong, C right; the no-part text counts only in acc@1.
    assert m["acc_named"] == pytest.approx(2 / 3, abs=1e-4)
    assert m["acc@1"] == 0.75
    # The oracle would accept only the 0.99 answer: 1 of 4 at 100% precision.
    assert m["oracle_automation@99"] == 0.25
    assert set(m) == set(METRICS)
    assert not {"automation@95", "automation@98", "automation@99"} & set(m)


def test_nothing_accepted_has_no_precision() -> None:
    run = Run("service", ["A"], [Answer(["A"], 0.5, "NEEDS_REVIEW")], [1.0])
    m = metrics(run)
    assert m["auto_rate"] == 0.0 and m["auto_precision"] is None
    assert m["review_rate"] == 1.0


def test_baselines_are_compared_on_texts_naming_a_part() -> None:
    m = metrics(signal_run())
    # Right on A and B, wrong on C; the no-part text is out of acc_named but wrong in acc@1.
    assert m["acc_named"] == pytest.approx(2 / 3, abs=1e-4)
    assert m["acc@1"] == 0.5
    for deployed in ("auto_rate", "auto_precision", "review_rate", "nomatch_rate"):
        assert m[deployed] is None


def test_summary_table_shows_the_comparable_columns() -> None:
    table = summary_table(summary())
    header = table.splitlines()[0]
    assert [c.strip() for c in header.strip("|").split("|")] == ["system", *TABLE_METRICS]
    assert not any(m in header for m in ORACLE_METRICS)
    rows = [line.split("|")[1].strip() for line in table.splitlines()[2:] if line.startswith("|")]
    # Neither the dataset's entry nor a system left out is a row.
    assert rows == ["service", "fuzzy"]
    fuzzy = next(line for line in table.splitlines() if line.startswith("| fuzzy"))
    cells = [c.strip() for c in fuzzy.strip("|").split("|")][1:]
    assert cells[TABLE_METRICS.index("auto_rate")] == "—"
    assert cells[TABLE_METRICS.index("acc_named")] == "0.6667"


def test_report_puts_deployed_first_labels_the_oracle_and_defines_every_metric(
    tmp_path: Path,
) -> None:
    text = write_report(summary(), META, tmp_path).read_text()
    lines = text.splitlines()
    headers = [line for line in lines if line.startswith("| system |")]
    assert len(headers) == 2
    deployed, oracle = headers
    assert deployed.split("|")[2].strip() == "acc_named"
    assert "auto_rate" in deployed and "auto_precision" in deployed
    assert not any(m in deployed for m in ORACLE_METRICS)
    assert all(m in oracle for m in ORACLE_METRICS)
    assert lines.index(deployed) < lines.index(oracle)
    # The oracle table is introduced by its label.
    between = "\n".join(lines[lines.index(deployed) : lines.index(oracle)])
    assert ORACLE_LABEL.capitalize() in between
    # A legend line for every metric, with the names of summary.json.
    for name in METRICS:
        assert f"- `{name}`: {DEFINITIONS[name]}" in lines, name
    assert set(DEPLOYED_METRICS) | set(ORACLE_METRICS) == set(METRICS)
    assert json.loads(json.dumps(summary()))["service"].keys() == set(METRICS)


# 2. Latency with a cold cache.


class CountingModel:
    """Stands in for SentenceTransformer: counts the texts it encodes."""

    def __init__(self, path: str, device: str | None = None) -> None:
        self.encoded: list[str] = []

    def get_embedding_dimension(self) -> int:
        return 3

    def encode(self, texts: list[str], **_: object) -> np.ndarray:
        self.encoded.extend(texts)
        return np.ones((len(texts), 3), dtype=np.float32)


@pytest.fixture
def stub_encoder(monkeypatch: pytest.MonkeyPatch) -> Encoder:
    fake = types.ModuleType("sentence_transformers")
    fake.SentenceTransformer = CountingModel  # type: ignore[attr-defined]
    monkeypatch.setitem(sys.modules, "sentence_transformers", fake)
    return Encoder("stub-model")


def encoded(encoder: Encoder) -> list[str]:
    model = encoder.model
    assert isinstance(model, CountingModel)
    return model.encoded


def test_forget_queries_drops_query_vectors_only(stub_encoder: Encoder) -> None:
    stub_encoder.encode(["catalog part"])  # remembered: a catalog text
    stub_encoder.encode_query("a query")
    stub_encoder.encode_query("a query")
    assert encoded(stub_encoder) == ["catalog part", "a query"]
    assert len(stub_encoder._recent) == 1
    stub_encoder.forget_queries()
    assert len(stub_encoder._recent) == 0
    assert "catalog part" in stub_encoder.known_vectors()
    stub_encoder.encode_query("a query")
    stub_encoder.encode(["catalog part"])
    assert encoded(stub_encoder) == ["catalog part", "a query", "a query"]


class EncodingSystem:
    """A system that encodes each text, as the embedding signal does."""

    def __init__(self, encoder: Encoder, name: str) -> None:
        self.encoder = encoder
        self.name = name

    def answer(self, text: str, vehicle: str = "") -> Answer:
        self.encoder.encode_query(text)
        return Answer(["A"], 1.0)


def test_each_system_run_encodes_its_own_queries(stub_encoder: Encoder) -> None:
    texts = ["one", "two", "three"]
    systems = [EncodingSystem(stub_encoder, "service"), EncodingSystem(stub_encoder, "embedding")]
    examples = [Example(text, "A") for text in texts]
    runs = run_systems(systems, examples, progress=False, encoder=stub_encoder)
    assert [r.name for r in runs] == ["service", "embedding"]
    # The second system found no vector of the first's: it paid for every encode.
    assert encoded(stub_encoder) == texts * 2


# 3. The history caveat.


def test_dataset_facts_and_the_history_caveat() -> None:
    facts = dataset_facts("d", ["A", "B", None, "C", "A"], ["A", None, "X"])
    assert facts == {
        "name": "d",
        "split": "test",
        "test_texts": 5,
        "named_texts": 4,
        "named_with_history": 2,
        "history_coverage": 0.5,
    }
    # At 50% exactly: no caveat.
    assert caveats({DATASET_KEY: facts}) == []
    low = dataset_facts("d", ["A", "B", "C"], ["A"])
    line = (
        "SetFit and the classifier know only parts with history: "
        "1 of 3 test texts name such a part."
    )
    assert caveats({DATASET_KEY: low}) == [line]
    assert caveats({}) == []
    assert dataset_facts("d", [None], [])["history_coverage"] is None


def test_caveat_under_the_tables(tmp_path: Path) -> None:
    low = summary(history_skus=["A"])
    assert low[DATASET_KEY]["named_with_history"] == 1
    expected = "know only parts with history: 1 of 3 test texts name such a part"
    assert expected in summary_table(low).splitlines()[-1]
    report = write_report(low, META, tmp_path).read_text()
    assert expected in report
    # Under the deployed table, before the oracle's.
    assert report.index(expected) < report.index("## Oracle figures")
    assert "know only parts with history" not in summary_table(summary())
    assert "know only parts with history" not in write_report(summary(), META, tmp_path).read_text()


# 4. Provenance.


def test_code_version_of_the_repository() -> None:
    assert COMMIT.fullmatch(code_version(ROOT))


def test_code_version_is_dirty_for_code_changes_not_for_benchmark_outputs(tmp_path: Path) -> None:
    def git(*args: str) -> None:
        subprocess.run(["git", "-C", str(tmp_path), *args], check=True, capture_output=True)

    git("init", "-q")
    (tmp_path / "BENCHMARKS.md").write_text("old figures\n")
    (tmp_path / "module.py").write_text("x = 1\n")
    git("add", ".")
    git("-c", "user.name=t", "-c", "user.email=t@t", "commit", "-q", "-m", "first")
    clean = code_version(tmp_path)
    assert COMMIT.fullmatch(clean) and not clean.endswith("-dirty")
    # A benchmark run rewrites its own outputs before its first figure.
    (tmp_path / "BENCHMARKS.md").write_text("new figures\n")
    (tmp_path / "BENCHMARKS-speed.json").write_text("{}\n")
    assert code_version(tmp_path) == clean
    (tmp_path / "module.py").write_text("x = 2\n")
    assert code_version(tmp_path) == clean + "-dirty"


def test_code_version_without_git(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    assert code_version(tmp_path) == "unknown"  # not a checkout
    monkeypatch.setenv("PATH", str(tmp_path))  # no git at all
    assert code_version(ROOT) == "unknown"


def test_provenance_names_code_command_machine_and_time(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(sys, "argv", ["partmatch", "eval", "--data", "a dir"])
    prov = provenance(ROOT)
    assert COMMIT.fullmatch(prov["commit"])
    assert prov["command"] == "partmatch eval --data 'a dir'"
    assert prov["cores"] == os.cpu_count()
    assert prov["cpu"] and prov["cpu"] != "unknown"
    flags = Path("/proc/cpuinfo").read_text() if Path("/proc/cpuinfo").exists() else ""
    assert ("avx2" in prov["cpu_extensions"]) == (" avx2" in flags)
    date = datetime.datetime.fromisoformat(prov["date"])
    assert date.utcoffset() == datetime.timedelta(0)
    assert abs(datetime.datetime.now(datetime.UTC) - date) < datetime.timedelta(minutes=5)


def test_report_starts_with_its_provenance(tmp_path: Path) -> None:
    text = write_report(summary(), META, tmp_path).read_text()
    top = text[: text.index("| system |")]
    for value in ("0" * 40 + "-dirty", "partmatch eval --data toy", "2 cores", "AMD EPYC (avx2)"):
        assert value in top
    assert "2026-01-01T00:00:00+00:00" in top


def fake_datasets(tmp_path: Path) -> list[Path]:
    folders = []
    for name in ("first", "second"):
        folder = tmp_path / "datasets" / name
        folder.mkdir(parents=True)
        (folder / "test.csv").write_text("text,sku\n")
        folders.append(folder)
    return folders


def test_bench_quality_regenerates_the_whole_file_with_provenance(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    benchmarks = tmp_path / "BENCHMARKS.md"
    benchmarks.write_text("# Benchmarks\n\n## old-dataset\n\nOLD RUN figures\n")
    monkeypatch.setattr(bench_quality, "DATASETS", fake_datasets(tmp_path))

    def fake_evaluate(
        data: Path, outs: dict[str, Path], *_: object, **__: object
    ) -> dict[str, dict[str, Any]]:
        assert list(outs) == ["test"], "no dev.csv: the test split only"
        out = outs["test"]
        out.mkdir(parents=True)
        prov = {**META["provenance"], "commit": f"{data.name}-commit"}  # type: ignore[dict-item]
        (out / "meta.json").write_text(json.dumps({"provenance": prov}))
        return {"test": summary()}

    monkeypatch.setattr(bench_quality, "evaluate_splits", fake_evaluate)
    bench_quality.main(["--out", str(tmp_path / "out"), "--benchmarks", str(benchmarks)])
    text = benchmarks.read_text()
    assert "OLD RUN" not in text and "old-dataset" not in text
    head = text[: text.index("## first")]
    assert COMMIT.search(head), "the run's commit at the top"
    assert f"{os.cpu_count()} cores" in head
    assert "Unfinished" not in text
    for name in ("first", "second"):
        part = text[text.index(f"## {name}") :]
        assert part.splitlines()[2].startswith(f"Code `{name}-commit`, command `partmatch eval")
        assert "2026-01-01T00:00:00+00:00" in part.splitlines()[2]
        assert "| system | acc_named |" in part


def test_bench_quality_leaves_nothing_old_when_it_stops(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    benchmarks = tmp_path / "BENCHMARKS.md"
    benchmarks.write_text("# Benchmarks\n\nOLD RUN figures\n")
    monkeypatch.setattr(bench_quality, "DATASETS", fake_datasets(tmp_path))

    def broken(*_: object, **__: object) -> dict[str, Any]:
        raise RuntimeError("the run broke")

    monkeypatch.setattr(bench_quality, "evaluate_splits", broken)
    with pytest.raises(RuntimeError, match="the run broke"):
        bench_quality.main(["--out", str(tmp_path / "out"), "--benchmarks", str(benchmarks)])
    text = benchmarks.read_text()
    assert "OLD RUN" not in text
    assert "Unfinished: 0 of 2 datasets" in text


def bench_derived(
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    open_sets: tuple[str, ...],
    no_code_sets: tuple[str, ...],
) -> tuple[list[tuple[str, Path]], list[Path], str]:
    """Runs bench-quality over two fake datasets with these derived variants, recording each
    derivation (source name, derived folder) and each evaluated folder; returns them with the
    written BENCHMARKS.md."""
    benchmarks = tmp_path / "BENCHMARKS.md"
    monkeypatch.setattr(bench_quality, "DATASETS", fake_datasets(tmp_path))
    monkeypatch.setattr(bench_quality, "OPEN_SETS", open_sets)
    monkeypatch.setattr(bench_quality, "NO_CODE_SETS", no_code_sets)
    derived: list[tuple[str, Path]] = []

    def record(data: Path, out: Path, *_: object, **__: object) -> None:
        derived.append((data.name, out))

    monkeypatch.setattr(bench_quality, "derive_open_set", record)
    monkeypatch.setattr(bench_quality, "derive_no_code", record)
    evaluated: list[Path] = []

    def fake_evaluate(
        data: Path, outs: dict[str, Path], *_: object, **__: object
    ) -> dict[str, dict[str, Any]]:
        evaluated.append(data)
        return {"test": summary()}

    monkeypatch.setattr(bench_quality, "evaluate_splits", fake_evaluate)
    bench_quality.main(["--out", str(tmp_path / "out"), "--benchmarks", str(benchmarks)])
    return derived, evaluated, benchmarks.read_text()


def test_bench_quality_measures_the_open_sets_on_derived_data(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    derived, evaluated, text = bench_derived(tmp_path, monkeypatch, ("second",), ())
    assert [name for name, _ in derived] == ["second"]
    assert evaluated[-1] == derived[0][1], "the open set is evaluated on the derived data"
    assert "## second, open set" in text and "python -m eval.open_set" in text
    assert "Unfinished" not in text


def test_bench_quality_measures_the_no_code_sets_on_derived_data(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    derived, evaluated, text = bench_derived(tmp_path, monkeypatch, (), ("first",))
    assert [name for name, _ in derived] == ["first"]
    assert evaluated[-1] == derived[0][1], "the no-code set is evaluated on the derived data"
    assert "## first, no part or model numbers in the texts" in text
    assert "python -m eval.no_code --data" in text and "Unfinished" not in text
