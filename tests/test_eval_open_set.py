"""The open-set dataset: entries taken out of the catalog become texts that name no part."""

from __future__ import annotations

import json
from pathlib import Path

from eval.open_set import derive
from indexer.dataset import load_dataset


def _write(root: Path) -> None:
    root.mkdir()
    parts = [{"sku": f"P{i}", "name": f"part number {i}"} for i in range(20)]
    (root / "catalog.jsonl").write_text("\n".join(json.dumps(p) for p in parts))
    rows = "".join(f"want part {i},P{i}\n" for i in range(20))
    (root / "history.csv").write_text("text,sku\n" + rows + "where is my order,\n")
    (root / "valid.csv").write_text("text,sku\n" + rows)
    (root / "test.csv").write_text("text,sku\n" + rows.replace("want", "need"))


def test_entries_taken_out_leave_no_trace_but_their_texts(tmp_path: Path) -> None:
    _write(tmp_path / "src")
    counts = derive(tmp_path / "src", tmp_path / "open", share=0.2, seed=1)
    derived = load_dataset(tmp_path / "open")
    hidden = {f"P{i}" for i in range(20)} - {p.sku for p in derived.catalog}
    assert len(hidden) == counts["hidden_entries"] == 4
    # History: no text of a hidden entry, and no text that names no part.
    assert all(e.sku is not None and e.sku not in hidden for e in derived.history)
    for split in (derived.valid, derived.test):
        assert sum(e.sku is None for e in split) == 4
        assert all(e.sku is None or e.sku not in hidden for e in split)
    assert counts["test_no_part"] == 4
    # The same seed draws the same entries.
    derive(tmp_path / "src", tmp_path / "again", share=0.2, seed=1)
    again = load_dataset(tmp_path / "again")
    assert [p.sku for p in again.catalog] == [p.sku for p in derived.catalog]
