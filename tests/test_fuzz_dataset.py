"""Property-based fuzzing of the data loaders (indexer/dataset.py).

Hostile data directories: bad JSON, wrong types, unknown and missing fields, duplicate SKUs,
invisible and control characters, line and paragraph separators inside JSON strings, huge
fields and numbers, deeply nested JSON, wrong CSV headers, extra and missing columns,
unbalanced quotes, unknown SKUs, byte order marks, CRLF and lone CR line ends, bytes that are
not UTF-8. The properties:

- load_dataset either returns a consistent Dataset (unique SKUs, every example's SKU in the
  catalog, non-empty texts) or raises DataError whose message starts with `file:line:` (a
  file of the directory, a line that file has); never another exception;
- a valid dataset, however odd its text, written the way other tools write it (raw UTF-8 or
  escaped JSON, CRLF, a BOM), loads back as written.

The number of directories tried per loader is printed at the end (tests/fuzzing.py).
"""

from __future__ import annotations

import csv
import io
import json
import re
import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from indexer.dataset import SPLITS, DataError, Dataset, load_dataset
from matcher.catalog import Part, make_part
from matcher.examples import Example
from matcher.limits import bad_text_character
from tests.fuzzing import FUZZ, FUZZ_EXAMPLES, Tally, hostile_text, short_text, visible_text

FILES = ("catalog.jsonl", *(f"{s}.csv" for s in SPLITS))
BOM = "\ufeff".encode()

tally = Tally()


@dataclass
class Files:
    """A data directory's files, as bytes."""

    contents: dict[str, bytes]

    def write(self, root: Path) -> Path:
        root.mkdir()
        for name, data in self.contents.items():
            (root / name).write_bytes(data)
        return root


def load(files: Files, target: str) -> Dataset | None:
    """Load `files`; a refusal must be DataError with `file:line:` first. Returns the
    dataset, or None when refused."""
    with tempfile.TemporaryDirectory() as tmp:
        root = files.write(Path(tmp) / "data")
        try:
            dataset = load_dataset(root)
        except DataError as error:
            message = str(error)
            match = re.match(r"(.*?):(\d+): \S", message)
            assert match, f"no file:line: in {message[:300]!r}"
            path, line = Path(match.group(1)), int(match.group(2))
            assert path.parent == root and path.name in FILES, message[:300]
            # Lines as editors count them: CR, LF and CRLF end one.
            lines = len(re.split(rb"\r\n|\r|\n", files.contents[path.name]))
            assert 1 <= line <= lines, f"line {line} of {lines}: {message[:300]!r}"
            tally(target, "DataError")
            return None
        tally(target, "loaded")
    skus = [p.sku for p in dataset.catalog]
    assert skus and len(skus) == len(set(skus))
    for example in (*dataset.history, *dataset.valid, *dataset.test):
        assert example.text and example.text == example.text.strip(), example
        # Training data holds only text Match itself would take.
        assert bad_text_character(example.text, allow_newlines=True) is None, example
        assert example.sku is None or example.sku in skus, example
    return dataset


# -- Strategies ---------------------------------------------------------------------------

JSON_SCALARS = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(),
    st.floats(allow_nan=True, allow_infinity=True),
    short_text(12),
)
JSON_VALUES: st.SearchStrategy[Any] = st.recursive(
    JSON_SCALARS,
    lambda inner: st.one_of(st.lists(inner, max_size=3), st.dictionaries(short_text(6), inner)),
    max_leaves=6,
)
FIELDS = ("sku", "name", "description", "aliases", "attributes", "active")
GOOD_SKU = st.from_regex(r"[A-Z0-9][A-Z0-9-]{0,9}", fullmatch=True)


@st.composite
def part_object(draw: st.DrawFn, sku: str) -> dict[str, Any]:
    """A part: valid but odd, or with fields of the wrong type, missing or unknown."""
    valid = {
        "sku": sku,
        "name": draw(visible_text(30)),
        "description": draw(st.one_of(st.just(""), visible_text(60))),
        "aliases": draw(st.lists(visible_text(20), max_size=3)),
        "attributes": draw(
            st.dictionaries(
                visible_text(10).filter(lambda k: len(k) <= 64),
                st.one_of(visible_text(20), st.integers(-(10**6), 10**6), st.floats()),
                max_size=3,
            )
        ),
        "active": draw(st.booleans()),
    }
    changes = draw(
        st.dictionaries(
            st.one_of(st.sampled_from(FIELDS), short_text(8)),
            st.one_of(
                JSON_VALUES,
                hostile_text((64, 65, 128, 129, 200, 201, 500, 501, 10_001)),
                st.builds(lambda a, n: [a] * n, short_text(4), st.sampled_from((50, 51))),
            ),
            max_size=2,
        )
    )
    dropped = draw(st.lists(st.sampled_from(FIELDS), max_size=2))
    return {k: v for k, v in {**valid, **changes}.items() if k not in dropped}


@st.composite
def catalog_lines(draw: st.DrawFn) -> tuple[list[str], list[str]]:
    """Lines of catalog.jsonl, and the SKUs of the lines that are meant to be valid."""
    skus = draw(st.lists(GOOD_SKU, min_size=1, max_size=5, unique=True))
    lines: list[str] = []
    for sku in skus:
        obj = draw(part_object(sku))
        lines.append(json.dumps(obj, ensure_ascii=draw(st.booleans())))
    extras = draw(
        st.lists(
            st.one_of(
                st.sampled_from(("", "   ", "{", "}", "[]", "null", '"sku"', "{}", "{,}")),
                short_text(30),  # not JSON, mostly
                st.builds(
                    lambda n: '{"sku": "N", "name": "n", "active": ' + "1" * n + "}",
                    st.sampled_from((10, 4301, 5000)),
                ),
                st.builds(lambda n: "[" * n + "]" * n, st.sampled_from((5, 990, 5000))),
                st.builds(lambda s: json.dumps({"sku": s, "name": "dup"}), st.sampled_from(skus)),
                st.builds(lambda v: json.dumps(v, ensure_ascii=False), JSON_VALUES),
            ),
            max_size=3,
        )
    )
    for extra in extras:
        lines.insert(draw(st.integers(0, len(lines))), extra)
    return lines, skus


@st.composite
def csv_text(draw: st.DrawFn, skus: list[str]) -> str:
    """A `text,sku` file: a header (right, wrong, cased, spaced, missing) and rows written
    as csv.writer writes them, plus rows no writer would write."""
    header = draw(
        st.sampled_from(
            ("text,sku", "TEXT , Sku", "sku,text", "text", "", "text,sku,extra", '"text","sku"')
        )
    )
    sku = st.one_of(st.just(""), st.sampled_from(skus), GOOD_SKU, short_text(6))
    text = st.one_of(visible_text(40), hostile_text((1000, 131_073), ("front pads",)))
    rows = draw(
        st.lists(
            st.one_of(
                st.tuples(text, sku).map(list),
                st.lists(st.one_of(text, sku), max_size=4),
            ),
            max_size=5,
        )
    )
    out = io.StringIO()
    csv.writer(out, lineterminator="\n").writerows(rows)
    lines = out.getvalue().split("\n")
    raw = draw(
        st.lists(
            st.one_of(
                st.sampled_from(('"unclosed,A', 'a"b,c', ",", ",,", "\x00,A", "pads,\x00")),
                short_text(20),
            ),
            max_size=2,
        )
    )
    for extra in raw:
        lines.insert(draw(st.integers(0, len(lines))), extra)
    return "\n".join([header, *lines])


def encode(draw: st.DrawFn, text: str) -> bytes:
    """`text` as a file: LF, CRLF, mixed or lone CR line ends, maybe a BOM, maybe a byte
    that is not UTF-8 somewhere."""
    ending = draw(st.sampled_from(("\n", "\r\n", "mixed", "\r")))
    if ending == "mixed":
        parts = text.split("\n")
        text = "".join(p + draw(st.sampled_from(("\n", "\r\n"))) for p in parts)
    else:
        text = text.replace("\n", ending) + draw(st.sampled_from(("", ending)))
    data = text.encode("utf-8", "surrogatepass")
    if draw(st.booleans()):
        data = BOM + data
    if draw(st.integers(0, 5)) == 0:
        at = draw(st.integers(0, len(data)))
        data = (
            data[:at]
            + draw(st.sampled_from((b"\xff", b"\xc3", b"\xed\xa0\x80", b"\x80")))
            + data[at:]
        )
    return data


@st.composite
def hostile_directory(draw: st.DrawFn) -> Files:
    lines, skus = draw(catalog_lines())
    contents = {"catalog.jsonl": encode(draw, "\n".join(lines))}
    for split in SPLITS:
        contents[f"{split}.csv"] = encode(draw, draw(csv_text(skus)))
    return Files(contents)


@FUZZ
@given(files=hostile_directory())
def test_fuzz_load_dataset(files: Files) -> None:
    load(files, "load_dataset (hostile directory)")


# -- Valid data, written as other tools write it --------------------------------------------

ODD = visible_text(40)


@st.composite
def valid_parts(draw: st.DrawFn) -> list[Part]:
    skus = draw(st.lists(GOOD_SKU, min_size=1, max_size=5, unique=True))
    return [
        make_part(
            sku=sku,
            name=draw(ODD),
            description=draw(st.one_of(st.just(""), ODD)),
            aliases=draw(st.lists(ODD, max_size=3)),
            attributes=draw(st.dictionaries(st.sampled_from(("category", "part_number")), ODD)),
            active=draw(st.booleans()),
        )
        for sku in skus
    ]


@st.composite
def valid_directory(draw: st.DrawFn) -> tuple[Files, list[Part], dict[str, list[Example]]]:
    parts = draw(valid_parts())
    ascii_only = draw(st.booleans())
    catalog = "\n".join(json.dumps(p.to_dict(), ensure_ascii=ascii_only) for p in parts)
    # Text of examples: what Match itself accepts, with spaces around and line breaks inside.
    text = st.one_of(
        visible_text(40), st.builds(lambda a, b: f"{a}\n{b}\r\n", visible_text(9), visible_text(9))
    )
    text = text.map(str.strip).filter(bool)
    sku = st.one_of(st.none(), st.sampled_from([p.sku for p in parts]))
    splits = {
        split: [Example(t, s) for t, s in draw(st.lists(st.tuples(text, sku), max_size=5))]
        for split in SPLITS
    }
    if draw(st.booleans()):
        catalog = catalog.replace("\n", "\r\n")  # JSON strings hold no raw line breaks
    contents = {"catalog.jsonl": encode_valid(draw, catalog)}
    for split, examples in splits.items():
        out = io.StringIO()
        writer = csv.writer(out, lineterminator=draw(st.sampled_from(("\n", "\r\n"))))
        writer.writerow(["text", "sku"])
        writer.writerows([e.text, e.sku or ""] for e in examples)
        contents[f"{split}.csv"] = encode_valid(draw, out.getvalue())
    return Files(contents), parts, splits


def encode_valid(draw: st.DrawFn, text: str) -> bytes:
    return (BOM if draw(st.booleans()) else b"") + text.encode()


@FUZZ
@given(written=valid_directory())
def test_fuzz_valid_data_loads_as_written(
    written: tuple[Files, list[Part], dict[str, list[Example]]],
) -> None:
    files, parts, splits = written
    dataset = load(files, "load_dataset (valid, odd directory)")
    assert dataset is not None, "a valid directory was refused"
    assert dataset.catalog == parts
    for split, examples in splits.items():
        assert dataset.split(split) == examples


# -- What the fuzzers found -----------------------------------------------------------------

PART_LINE = '{"sku": "A1", "name": "front pads"}'
HISTORY = "text,sku\nfront pads,A1\n"


@pytest.mark.parametrize(
    ("catalog", "history", "expected"),
    [
        # An integer past Python's 4300 digits: ValueError, not DataError.
        ('{"sku": "A1", "name": "x", "active": ' + "1" * 5000 + "}", HISTORY, "catalog.jsonl:1:"),
        # Deep nesting: RecursionError.
        ("[" * 100_000 + "]" * 100_000, HISTORY, "catalog.jsonl:1:"),
        # Not UTF-8: no line (catalog), and UnicodeDecodeError itself (a CSV header).
        (PART_LINE.encode() + b"\n\xff", HISTORY, "catalog.jsonl:2: not UTF-8"),
        (PART_LINE, b"te\xffxt,sku\n", "history.csv:1: not UTF-8"),
        (PART_LINE, b"text,sku\nfront pads,A1\n\xc3,A1\n", "history.csv:3: not UTF-8"),
        # Empty: no line.
        ("\n\n", HISTORY, "catalog.jsonl:1: the catalog has no parts"),
        # Text Match refuses, as training data.
        (PART_LINE, "text,sku\npads\x00,A1\n", "history.csv:2: text holds the control"),
        (PART_LINE, "text,sku\npads\u202e,A1\n", "history.csv:2: text holds the control"),
        # Valid, and used to be refused: U+2028 raw in a JSON string (split into two lines),
        # and byte order marks (Excel's "CSV UTF-8").
        ('{"sku": "A1", "name": "front\u2028pads"}', HISTORY, None),
        ('{"sku": "A1", "name": "front\x85pads"}', HISTORY, "catalog.jsonl:1: part 'A1' name"),
        ("\ufeff" + PART_LINE, "\ufeff" + HISTORY, None),
    ],
    ids=[
        "huge-integer",
        "deep-nesting",
        "catalog-not-utf8",
        "csv-header-not-utf8",
        "csv-row-not-utf8",
        "empty-catalog",
        "csv-nul",
        "csv-bidi-override",
        "raw-u2028-in-json",
        "raw-u0085-in-json",
        "bom",
    ],
)
def test_what_the_fuzzers_found(
    tmp_path: Path, catalog: str | bytes, history: str | bytes, expected: str | None
) -> None:
    def raw(value: str | bytes) -> bytes:
        return value if isinstance(value, bytes) else value.encode()

    contents = {"catalog.jsonl": raw(catalog), **{f"{s}.csv": b"text,sku\n" for s in SPLITS}}
    contents["history.csv"] = raw(history)
    root = Files(contents).write(tmp_path / "data")
    if expected is None:
        assert [p.sku for p in load_dataset(root).catalog] == ["A1"]
        return
    with pytest.raises(DataError) as error:
        load_dataset(root)
    assert str(error.value).startswith(f"{root}/{expected}"), str(error.value)[:300]


def test_every_fuzzer_ran(capsys: pytest.CaptureFixture[str]) -> None:
    """Last in the module: each fuzzer tried at least half its examples."""
    with capsys.disabled():
        print("\n" + tally.report("data directories tried per loader"))
    targets = ("load_dataset (hostile directory)", "load_dataset (valid, odd directory)")
    short = {t: tally.counts[t] for t in targets if tally.counts[t] < FUZZ_EXAMPLES // 2}
    assert not short, f"fuzzers that tried too few inputs: {short}"
