"""Data loaders: the project's format, and a clear error with file and line for bad files."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from indexer.dataset import DataError, load_catalog, load_dataset, load_examples
from matcher.examples import Example

GOOD_PART = {"sku": "A1", "name": "front brake pads", "description": "pads"}


def write_catalog(path: Path, rows: list[object]) -> Path:
    path.write_text("\n".join(r if isinstance(r, str) else json.dumps(r) for r in rows) + "\n")
    return path


def write_dataset(
    root: Path, history: str = "text,sku\nfront pads,A1\nwhere is my order,\n"
) -> Path:
    root.mkdir(parents=True, exist_ok=True)
    write_catalog(root / "catalog.jsonl", [GOOD_PART, {**GOOD_PART, "sku": "B2", "name": "rotor"}])
    (root / "history.csv").write_text(history)
    (root / "valid.csv").write_text("text,sku\nrotor please,B2\n")
    (root / "test.csv").write_text("text,sku\nbrake pads,A1\n")
    return root


def test_loads_the_documented_format(tmp_path: Path) -> None:
    dataset = load_dataset(write_dataset(tmp_path / "d"))
    assert [p.sku for p in dataset.catalog] == ["A1", "B2"]
    assert dataset.catalog[0].active is True
    assert [(e.text, e.sku) for e in dataset.history] == [
        ("front pads", "A1"),
        ("where is my order", None),
    ]
    assert dataset.valid[0].sku == "B2" and dataset.test[0].sku == "A1"


def test_catalog_optional_fields(tmp_path: Path) -> None:
    row = {**GOOD_PART, "aliases": ["pad set"], "attributes": {"weight": 1.5}, "active": False}
    (part,) = load_catalog(write_catalog(tmp_path / "c.jsonl", [row]))
    assert part.aliases == ("pad set",)
    assert part.attributes == {"weight": "1.5"}
    assert part.active is False


@pytest.mark.parametrize(
    ("rows", "message"),
    [
        ([GOOD_PART, "{not json"], "c.jsonl:2: bad JSON"),
        ([GOOD_PART, {"name": "no sku"}], "c.jsonl:2: missing required field 'sku'"),
        ([{"sku": "X", "description": "d"}], "c.jsonl:1: missing required field 'name'"),
        ([GOOD_PART, GOOD_PART], "c.jsonl:2: duplicate sku 'A1' (first on line 1)"),
        ([{**GOOD_PART, "aliases": "pads"}], "c.jsonl:1: 'aliases' must be a list of strings"),
        ([{**GOOD_PART, "active": "yes"}], "c.jsonl:1: 'active' must be true or false"),
        ([{**GOOD_PART, "colour": "red"}], "c.jsonl:1: unknown field(s) colour"),
        ([{**GOOD_PART, "sku": "  "}], "c.jsonl:1: 'sku' must be a non-empty string"),
        (["[1, 2]"], "c.jsonl:1: expected a JSON object"),
    ],
)
def test_bad_catalog_lines_name_file_and_line(
    tmp_path: Path, rows: list[object], message: str
) -> None:
    with pytest.raises(DataError) as error:
        load_catalog(write_catalog(tmp_path / "c.jsonl", rows))
    assert message in str(error.value)


def test_empty_catalog_is_refused(tmp_path: Path) -> None:
    with pytest.raises(DataError, match="has no parts"):
        load_catalog(write_catalog(tmp_path / "c.jsonl", []))


@pytest.mark.parametrize(
    ("content", "message"),
    [
        ("sku,text\nA1,pads\n", "h.csv:1: expected the header 'text,sku'"),
        ("text\npads\n", "h.csv:1: expected the header 'text,sku'"),
        ("text,sku\npads,A1\nrotor\n", "h.csv:3: expected 2 columns"),
        ("text,sku\npads,A1\nrotor,ZZ9\n", "h.csv:3: unknown sku 'ZZ9'"),
        ("text,sku\n,A1\n", "h.csv:2: empty text"),
        ("", "h.csv:1: expected the header"),
    ],
)
def test_bad_history_rows_name_file_and_line(tmp_path: Path, content: str, message: str) -> None:
    path = tmp_path / "h.csv"
    path.write_text(content)
    with pytest.raises(DataError) as error:
        load_examples(path, ["A1"])
    assert message in str(error.value)


def test_a_bad_split_loads_nothing(tmp_path: Path) -> None:
    root = write_dataset(tmp_path / "d")
    (root / "test.csv").write_text("text,sku\nbrake pads,NOPE\n")
    with pytest.raises(DataError, match=r"test\.csv:2: unknown sku 'NOPE'"):
        load_dataset(root)


def test_missing_directory(tmp_path: Path) -> None:
    with pytest.raises(DataError, match="not a data directory"):
        load_dataset(tmp_path / "missing")


# -- Optional columns and the optional dev split ------------------------------------------


def test_style_and_vehicle_columns_are_read_in_either_order(tmp_path: Path) -> None:
    path = tmp_path / "dev.csv"
    path.write_text(
        "text,sku,style,vehicle\n"
        "frnt pads,A1,typo,\n"
        "grinding when i brake,A1,symptom,2016 VW Golf Mk7\n"
        "where is my order,,no_part,\n"
    )
    assert load_examples(path, ["A1"]) == [
        Example("frnt pads", "A1", style="typo"),
        Example("grinding when i brake", "A1", style="symptom", vehicle="2016 VW Golf Mk7"),
        Example("where is my order", None, style="no_part"),
    ]
    path.write_text("TEXT, sku , Vehicle ,Style\nrotor,A1, Golf ,plain\n")
    assert load_examples(path, ["A1"]) == [Example("rotor", "A1", style="plain", vehicle="Golf")]
    path.write_text("text,sku,vehicle\nrotor,A1,Golf\n")
    assert load_examples(path, ["A1"]) == [Example("rotor", "A1", vehicle="Golf")]
    # The two-column format still reads, with neither.
    path.write_text("text,sku\nrotor,A1\n")
    assert load_examples(path, ["A1"]) == [Example("rotor", "A1")]


@pytest.mark.parametrize(
    ("content", "message"),
    [
        ("text,sku,colour\npads,A1,red\n", "d.csv:1: unknown column 'colour'"),
        ("text,sku,style,\npads,A1,plain,\n", "d.csv:1: unknown column ''"),
        ("text,sku,style,style\npads,A1,a,b\n", "d.csv:1: column 'style' is named twice"),
        ("text,sku,vehicle,sku\npads,A1,x,A1\n", "d.csv:1: unknown column 'sku'"),
    ],
)
def test_unknown_columns_are_refused(tmp_path: Path, content: str, message: str) -> None:
    path = tmp_path / "d.csv"
    path.write_text(content)
    with pytest.raises(DataError) as error:
        load_examples(path, ["A1"])
    assert message in str(error.value)


@pytest.mark.parametrize(
    ("content", "message"),
    [
        # Rows have as many cells as the header names, no more, no fewer.
        ("text,sku,style\npads,A1,plain\nrotor,A1\n", "d.csv:3: expected 3 columns"),
        ("text,sku,style\npads,A1,plain,extra\n", "d.csv:2: expected 3 columns"),
        ("text,sku\npads,A1,plain\n", "d.csv:2: expected 2 columns (text,sku), got 3"),
        ("text,sku,style,vehicle\npads,A1,plain\n", "d.csv:2: expected 4 columns"),
        # The vehicle goes to Match as its context: what Match refuses is refused here.
        ("text,sku,vehicle\npads,A1,Golf\x07\n", "d.csv:2: vehicle holds the control character"),
        (f"text,sku,vehicle\npads,A1,{'x' * 201}\n", "d.csv:2: vehicle is 201 characters"),
        ("text,sku,style\npads,A1,two words\n", "d.csv:2: style must be one word"),
    ],
)
def test_bad_optional_cells_name_file_and_line(tmp_path: Path, content: str, message: str) -> None:
    path = tmp_path / "d.csv"
    path.write_text(content)
    with pytest.raises(DataError) as error:
        load_examples(path, ["A1"])
    assert message in str(error.value)


def test_the_dev_split_is_optional(tmp_path: Path) -> None:
    root = write_dataset(tmp_path / "d")
    dataset = load_dataset(root)
    assert dataset.dev == [] and dataset.split("dev") == []
    (root / "dev.csv").write_text("text,sku,style,vehicle\nfront pads,A1,plain,Golf Mk7\n")
    dataset = load_dataset(root)
    assert dataset.split("dev") == [Example("front pads", "A1", style="plain", vehicle="Golf Mk7")]
    assert dataset.test == [Example("brake pads", "A1")]
    # Left out when not asked for, as any split is.
    assert load_dataset(root, splits=("history",)).dev == []
    # A bad dev.csv loads nothing, as any split does.
    (root / "dev.csv").write_text("text,sku\nfront pads,NOPE\n")
    with pytest.raises(DataError, match=r"dev\.csv:2: unknown sku 'NOPE'"):
        load_dataset(root)
    # The required splits stay required.
    (root / "test.csv").unlink()
    with pytest.raises(DataError, match=r"test\.csv: cannot read"):
        load_dataset(root, splits=("history", "test"))
    with pytest.raises(ValueError, match="unknown split"):
        dataset.split("train")
