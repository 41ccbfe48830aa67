"""The no-code dataset: texts without their part and model numbers, every other word kept."""

from __future__ import annotations

import json
from pathlib import Path

from eval.no_code import derive
from indexer.dataset import load_dataset
from matcher.catalog_view import CatalogViewBuilder
from matcher.query import Query, normalise_code
from matcher.signals.codes import CodeSignal

CATALOG = [
    {"sku": "BAT", "name": "sony lithium ion camcorder battery np-fh100"},
    {"sku": "TV", "name": "samsung 46 inch lcd hdtv", "attributes": {"model_number": "LN46A650"}},
    {"sku": "CAM", "name": "canon powershot digital camera sd890 is"},
    {"sku": "RCV", "name": "onkyo a/v receiver", "attributes": {"mpn": "TX-SR606"}},
    {"sku": "PRN", "name": "canon pixma printer mx310"},
    {"sku": "SLEEVE", "name": "belkin neoprene sleeve"},
    {"sku": "MOUNT", "name": "peerless tilt wall mount"},
]
# Each split: (text, sku, the text expected without its codes).
SPLITS = {
    "history": [
        ("sony np fh100 lithium ion battery", "BAT", "sony lithium ion battery"),
        ("samsung ln46a650b 46 inch lcd", "TV", "samsung 46 inch lcd"),
        ("neoprene sleeve for macbook air", "SLEEVE", "neoprene sleeve for macbook air"),
        ("canon mx310bk printer", "PRN", "canon printer"),  # holds a code too short to be near
    ],
    "valid": [
        ("canon powershot sd890 silver", "CAM", "canon powershot silver"),
        ("onkyo txsr606 receiver", "RCV", "onkyo receiver"),
        ("onkyo tx-sr60b receiver", "RCV", "onkyo receiver"),  # one character off
    ],
    "test": [
        ("LN46A650", "TV", ""),  # nothing left: dropped
        ("peerless wall mount for 46 inch tv", "MOUNT", "peerless wall mount for 46 inch tv"),
        ("battery for NP-FH100 (ln 46a650 fits too)", "BAT", "battery for fits too)"),
        ("where is my order", "", "where is my order"),
    ],
}


def _write(root: Path) -> None:
    root.mkdir()
    (root / "catalog.jsonl").write_text("\n".join(json.dumps(p) for p in CATALOG) + "\n")
    for name, rows in SPLITS.items():
        lines = "".join(f'"{text}",{sku}\n' for text, sku, _ in rows)
        (root / f"{name}.csv").write_text("text,sku\n" + lines)


def test_texts_lose_their_codes_and_keep_every_other_word(tmp_path: Path) -> None:
    _write(tmp_path / "src")
    counts = derive(tmp_path / "src", tmp_path / "no-code")
    derived = load_dataset(tmp_path / "no-code")
    for name, rows in SPLITS.items():
        expected = [(clean, sku or None) for _, sku, clean in rows if clean]
        assert [(e.text, e.sku) for e in derived.split(name)] == expected
    assert counts["test_dropped"] == 1 and counts["history_dropped"] == 0
    assert (tmp_path / "no-code" / "catalog.jsonl").read_bytes() == (
        tmp_path / "src" / "catalog.jsonl"
    ).read_bytes()

    # Whatever the words, the code signal finds no part by any text left, and no word holds a
    # code of its own part.
    view = CatalogViewBuilder().build(derived.catalog, [])
    own: dict[str, set[str]] = {}
    for code, owners in view.codes.owners.items():
        for sku in owners:
            own.setdefault(sku, set()).add(code)
    for example in (*derived.history, *derived.valid, *derived.test):
        assert CodeSignal().search(view, Query.parse(example.text), 5) == []
        for word in example.text.split():
            assert not any(c in normalise_code(word) for c in own.get(example.sku or "", ()))
