"""The speed benchmark in its smoke mode: it starts the real server, drives every load pattern
over gRPC and measures the floor. Its figures are benchmark output, not asserted here; what is
checked is that every pattern ran, answered without errors, and sent distinct texts."""

from __future__ import annotations

import itertools
import json
from pathlib import Path

import numpy as np
import pytest

from eval import speed_bench
from indexer.dataset import load_dataset
from matcher.embedding_cache import write_cache
from matcher.query import Query
from tests.conftest import tiny_catalog
from tests.test_training import make_splits, write_data

pytestmark = pytest.mark.slow


def test_distinct_texts_never_send_a_query_the_server_holds_a_vector_for(tmp_path: Path) -> None:
    data = write_data(tmp_path / "data", tiny_catalog(), make_splits())
    dataset = load_dataset(data, splits=("history", "valid"))
    # What training leaves in the state's cache: the history's and the validation texts.
    known = {e.text for e in (*dataset.history, *dataset.valid)}
    texts = list(itertools.islice(speed_bench.distinct_texts(data, known), 400))
    queries = [Query.parse(text).text for text in texts]
    assert len(set(queries)) == len(queries) == 400
    assert not {Query.parse(text).text for text in known} & set(queries)


def test_cached_texts_are_those_of_every_cache_in_the_state(tmp_path: Path) -> None:
    vector = np.ones(3, dtype=np.float32)
    write_cache(tmp_path, "model", {"front pads": vector, "bonnet latch": vector})
    write_cache(tmp_path, "model-int8", {"alternator": vector})
    assert speed_bench.cached_texts(tmp_path) == {"front pads", "bonnet latch", "alternator"}
    assert speed_bench.cached_texts(tmp_path / "empty") == set()


def test_smoke_run_drives_the_real_server(tmp_path: Path) -> None:
    data = write_data(tmp_path / "data", tiny_catalog(), make_splits())
    out = tmp_path / "speed.json"
    state = tmp_path / "state"
    speed_bench.main(["--data", str(data), "--state", str(state), "--smoke", "--out", str(out)])

    figures = json.loads(out.read_text())
    runs = {run["run"]: run for run in figures["runs"]}
    assert set(runs) == {
        "sequential",
        "open loop 5/s",
        "max, 2 clients",
        "MatchBatch of 8",
        "UpsertParts of one part",
    }
    assert all(run["errors"] == 0 and run["sent"] > 0 for run in runs.values()), runs
    assert runs["MatchBatch of 8"]["sent"] == 16
    # A model was trained for the state, and the server served it.
    assert figures["model"] == "v0001"
    assert figures["server"]["peak_rss_mib"] > 100
    assert figures["floor"]["encoder_texts_per_s"] > 0

    # BENCHMARKS.md's overview row of these figures; a run not made yet is left out.
    header, rule, row = speed_bench.overview([out, tmp_path / "never-run.json"]).splitlines()
    cells = [cell.strip() for cell in row.strip("|").split("|")]
    assert len(cells) == len(header.strip("|").split("|")) == rule.count("---")
    assert cells[0] == f"{figures['catalog_parts']} parts (`speed.json`)"
    assert cells[4] == str(runs["sequential"]["p50_ms"])
    assert cells[6] == "—"  # the smoke run has no open loop at 100/s
    assert cells[8] == (
        f"{runs['MatchBatch of 8']['throughput_per_s']} ({figures['ratios']['batch_over_encoder']})"
    )

    # That state holds this catalog: measured under another data's name, it is refused.
    other = write_data(tmp_path / "other", tiny_catalog()[1:], make_splits())
    with pytest.raises(SystemExit, match="serves 12 parts, not the 11"):
        speed_bench.prepare_state(other, state, None, {})
