"""Loading a data directory in the project's format, refusing bad files with file and line.

- `catalog.jsonl`: one part per line: sku, name, description, optional aliases, attributes, active.
- `history.csv`, `valid.csv`, `test.csv`: `text,sku`; an empty sku means the text names no part.
  After those two, a header may name the optional columns `style` (how the text is written,
  one word: plain, typo, symptom, ...) and `vehicle` (the vehicle the storefront sends with
  the text), in either order.
- `dev.csv` (optional): a hand-written, style-tagged dev set in the same format, for
  `partmatch eval --split dev`; training never reads it.
"""

from __future__ import annotations

import csv
import json
import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path

from matcher.catalog import CatalogError, Part, part_from_dict
from matcher.examples import Example
from matcher.limits import DEFAULT_LIMITS, bad_text_character, describe, shortened

# The splits every data directory must have.
SPLITS = ("history", "valid", "test")
# The splits a data directory may leave out: a missing file loads as no examples.
OPTIONAL_SPLITS = ("dev",)
ALL_SPLITS = (*SPLITS, *OPTIONAL_SPLITS)
# The columns a split's header may name after `text,sku`.
OPTIONAL_COLUMNS = ("style", "vehicle")
# A style is a table row and a JSON key in the evaluation's figures: one plain word.
_STYLE = re.compile(r"[A-Za-z0-9_-]+")


class DataError(ValueError):
    """A data file that cannot be used; the message starts with `file:line:`."""


@dataclass(frozen=True)
class Dataset:
    root: Path
    catalog: list[Part]
    history: list[Example]
    valid: list[Example]
    test: list[Example]
    # Empty when the directory has no dev.csv (or it was not asked for).
    dev: list[Example] = field(default_factory=list)

    @property
    def name(self) -> str:
        return self.root.name

    def split(self, name: str) -> list[Example]:
        if name not in ALL_SPLITS:
            raise ValueError(f"unknown split {name!r}; expected one of {', '.join(ALL_SPLITS)}")
        examples: list[Example] = getattr(self, name)
        return examples


def load_catalog(path: Path) -> list[Part]:
    parts: list[Part] = []
    seen: dict[str, int] = {}
    try:
        data = path.read_bytes()
    except OSError as exc:
        raise DataError(f"{path}: cannot read catalog: {exc}") from None
    try:
        # utf-8-sig: a byte order mark (Windows tools write one) is not part of line 1.
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError:
        raise _not_utf8(path, data) from None
    # Only CR, LF and CRLF end a line: str.splitlines() also splits at U+2028, U+2029 and
    # U+0085, which JSON allows raw inside strings (json.dumps(ensure_ascii=False) writes them).
    lines = _LINE_END.split(text)
    for number, line in enumerate(lines, start=1):
        if not line.strip():
            continue
        where = f"{path}:{number}"
        try:
            raw = json.loads(line)
        except json.JSONDecodeError as exc:
            raise DataError(f"{where}: bad JSON: {exc.msg} at column {exc.colno}") from None
        except (ValueError, RecursionError) as exc:  # an over-long integer; deep nesting
            raise DataError(f"{where}: bad JSON: {str(exc)[:200]}") from None
        try:
            part = part_from_dict(raw, where)
        except CatalogError as exc:
            raise DataError(str(exc)) from None
        if part.sku in seen:
            raise DataError(f"{where}: duplicate sku {part.sku!r} (first on line {seen[part.sku]})")
        seen[part.sku] = number
        parts.append(part)
    if not parts:
        raise DataError(f"{path}:1: the catalog has no parts")
    return parts


def load_examples(path: Path, known_skus: Iterable[str]) -> list[Example]:
    known = set(known_skus)
    try:
        handle = path.open(encoding="utf-8-sig", newline="")
    except OSError as exc:
        raise DataError(f"{path}: cannot read: {exc}") from None
    with handle:
        reader = csv.reader(handle)
        examples = []
        try:
            columns = _columns(path, next(reader, None))
            for row in reader:
                where = f"{path}:{reader.line_num}"
                if not row or not any(cell.strip() for cell in row):
                    continue
                if len(row) != len(columns):
                    raise DataError(
                        f"{where}: expected {len(columns)} columns ({','.join(columns)}), "
                        f"got {len(row)}"
                    )
                examples.append(_example(where, dict(zip(columns, row, strict=True)), known))
        except csv.Error as exc:
            raise DataError(f"{path}:{reader.line_num}: bad CSV: {exc}") from None
        except UnicodeDecodeError:
            # The decoder reads ahead in blocks: find the line from the bytes themselves.
            raise _not_utf8(path, path.read_bytes()) from None
    return examples


def _columns(path: Path, header: Sequence[str] | None) -> list[str]:
    """The header's column names: `text,sku`, then any of OPTIONAL_COLUMNS, each once."""
    names = [h.strip().lower() for h in header or ()]
    if names[:2] != ["text", "sku"]:
        raise DataError(f"{path}:1: expected the header 'text,sku', got {header!r}")
    for index, name in enumerate(names[2:], start=2):
        if name not in OPTIONAL_COLUMNS:
            raise DataError(
                f"{path}:1: unknown column {shortened(name)!r}; after text,sku a header may "
                f"name {' and '.join(OPTIONAL_COLUMNS)}"
            )
        if name in names[:index]:
            raise DataError(f"{path}:1: column {name!r} is named twice")
    return names


def _example(where: str, cells: dict[str, str], known: set[str]) -> Example:
    """One row's example, refused with `where` when Match would refuse it or it names a part
    the catalog lacks."""
    text, sku = cells["text"].strip(), cells["sku"].strip()
    style, vehicle = cells.get("style", "").strip(), cells.get("vehicle", "").strip()
    if not text:
        raise DataError(f"{where}: empty text")
    # Match refuses such text or vehicle: no use learning from it or measuring on it.
    for column, value in (("text", text), ("vehicle", vehicle)):
        bad = bad_text_character(value, allow_newlines=True)
        if bad is not None:
            raise DataError(f"{where}: {column} holds the control character {describe(bad)}")
    if len(vehicle) > DEFAULT_LIMITS.max_vehicle_chars:
        raise DataError(
            f"{where}: vehicle is {len(vehicle)} characters; "
            f"the limit is {DEFAULT_LIMITS.max_vehicle_chars}"
        )
    if style and not _STYLE.fullmatch(style):
        raise DataError(
            f"{where}: style must be one word (letters, digits, _ or -), got {shortened(style)!r}"
        )
    if sku and sku not in known:
        raise DataError(f"{where}: unknown sku {sku!r} (not in the catalog)")
    return Example(text, sku or None, style=style, vehicle=vehicle)


def write_examples(path: Path, rows: Iterable[tuple[str, str]]) -> None:
    """A split file in the project's format from (text, sku) rows; an empty sku names no part."""
    with path.open("w", encoding="utf-8", newline="") as handle:
        writer = csv.writer(handle, lineterminator="\n")
        writer.writerow(("text", "sku"))
        writer.writerows(rows)


_LINE_END = re.compile(r"\r\n|\r|\n")


def _not_utf8(path: Path, data: bytes) -> DataError:
    """The error for a file that is not UTF-8, at the line (CR, LF and CRLF end lines) of its
    first bad byte."""
    try:
        data.decode("utf-8")
        offset, reason = len(data), "changed while read"
    except UnicodeDecodeError as exc:
        offset, reason = exc.start, exc.reason
    line = len(re.findall(rb"\r\n|\r|\n", data[:offset])) + 1
    return DataError(f"{path}:{line}: not UTF-8: {reason} at byte {offset}")


def load_dataset(root: Path, splits: Iterable[str] = ALL_SPLITS) -> Dataset:
    """The catalog and the given splits (those not asked for are empty lists); an optional
    split (dev) whose file is missing is empty too. Everything is validated before anything
    is returned: a bad file loads nothing."""
    splits = tuple(splits)
    unknown = set(splits) - set(ALL_SPLITS)
    if unknown:
        raise ValueError(f"unknown split(s) {', '.join(sorted(unknown))}")
    if not root.is_dir():
        raise DataError(f"{root}: not a data directory")
    catalog = load_catalog(root / "catalog.jsonl")
    skus = [p.sku for p in catalog]
    loaded = {
        name: load_examples(root / f"{name}.csv", skus)
        for name in splits
        if name in SPLITS or (root / f"{name}.csv").exists()
    }
    return Dataset(
        root=root,
        catalog=catalog,
        history=loaded.get("history", []),
        valid=loaded.get("valid", []),
        test=loaded.get("test", []),
        dev=loaded.get("dev", []),
    )
