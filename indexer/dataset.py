"""Loading a data directory in the project's format, refusing bad files with file and line.

- `catalog.jsonl`: one part per line: sku, name, description, optional aliases, attributes, active.
- `history.csv`, `valid.csv`, `test.csv`: `text,sku`; an empty sku means the text names no part.
"""

from __future__ import annotations

import csv
import json
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

from matcher.catalog import CatalogError, Part, part_from_dict
from matcher.examples import Example

SPLITS = ("history", "valid", "test")


class DataError(ValueError):
    """A data file that cannot be used; the message starts with `file:line:`."""


@dataclass(frozen=True)
class Dataset:
    root: Path
    catalog: list[Part]
    history: list[Example]
    valid: list[Example]
    test: list[Example]

    @property
    def name(self) -> str:
        return self.root.name

    def split(self, name: str) -> list[Example]:
        if name not in SPLITS:
            raise ValueError(f"unknown split {name!r}; expected one of {', '.join(SPLITS)}")
        examples: list[Example] = getattr(self, name)
        return examples


def load_catalog(path: Path) -> list[Part]:
    parts: list[Part] = []
    seen: dict[str, int] = {}
    try:
        lines = path.read_text(encoding="utf-8").splitlines()
    except (OSError, UnicodeDecodeError) as exc:
        raise DataError(f"{path}: cannot read catalog: {exc}") from None
    for number, line in enumerate(lines, start=1):
        if not line.strip():
            continue
        where = f"{path}:{number}"
        try:
            raw = json.loads(line)
        except json.JSONDecodeError as exc:
            raise DataError(f"{where}: bad JSON: {exc.msg} at column {exc.colno}") from None
        try:
            part = part_from_dict(raw, where)
        except CatalogError as exc:
            raise DataError(str(exc)) from None
        if part.sku in seen:
            raise DataError(f"{where}: duplicate sku {part.sku!r} (first on line {seen[part.sku]})")
        seen[part.sku] = number
        parts.append(part)
    if not parts:
        raise DataError(f"{path}: the catalog has no parts")
    return parts


def load_examples(path: Path, known_skus: Iterable[str]) -> list[Example]:
    known = set(known_skus)
    try:
        handle = path.open(encoding="utf-8", newline="")
    except OSError as exc:
        raise DataError(f"{path}: cannot read: {exc}") from None
    with handle:
        reader = csv.reader(handle)
        header = next(reader, None)
        if header is None or [h.strip().lower() for h in header[:2]] != ["text", "sku"]:
            raise DataError(f"{path}:1: expected the header 'text,sku', got {header!r}")
        examples = []
        try:
            for row in reader:
                where = f"{path}:{reader.line_num}"
                if not row or not any(cell.strip() for cell in row):
                    continue
                if len(row) != 2:
                    raise DataError(f"{where}: expected 2 columns (text,sku), got {len(row)}")
                text, sku = row[0].strip(), row[1].strip()
                if not text:
                    raise DataError(f"{where}: empty text")
                if sku and sku not in known:
                    raise DataError(f"{where}: unknown sku {sku!r} (not in the catalog)")
                examples.append(Example(text, sku or None))
        except csv.Error as exc:
            raise DataError(f"{path}:{reader.line_num}: bad CSV: {exc}") from None
        except UnicodeDecodeError as exc:
            raise DataError(f"{path}: not UTF-8: {exc}") from None
    return examples


def load_dataset(root: Path, splits: Iterable[str] = SPLITS) -> Dataset:
    """Everything is validated before anything is returned: a bad file loads nothing."""
    if not root.is_dir():
        raise DataError(f"{root}: not a data directory")
    catalog = load_catalog(root / "catalog.jsonl")
    skus = [p.sku for p in catalog]
    loaded = {name: load_examples(root / f"{name}.csv", skus) for name in splits}
    return Dataset(
        root=root,
        catalog=catalog,
        history=loaded.get("history", []),
        valid=loaded.get("valid", []),
        test=loaded.get("test", []),
    )
