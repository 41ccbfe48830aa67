"""Loading a data directory in the project's format, refusing bad files with file and line.

- `catalog.jsonl`: one part per line: sku, name, description, optional aliases, attributes, active.
- `history.csv`, `valid.csv`, `test.csv`: `text,sku`; an empty sku means the text names no part.
"""

from __future__ import annotations

import csv
import json
import re
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

from matcher.catalog import CatalogError, Part, part_from_dict
from matcher.examples import Example
from matcher.limits import bad_text_character, describe

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
            header = next(reader, None)
            if header is None or [h.strip().lower() for h in header[:2]] != ["text", "sku"]:
                raise DataError(f"{path}:1: expected the header 'text,sku', got {header!r}")
            for row in reader:
                where = f"{path}:{reader.line_num}"
                if not row or not any(cell.strip() for cell in row):
                    continue
                if len(row) != 2:
                    raise DataError(f"{where}: expected 2 columns (text,sku), got {len(row)}")
                text, sku = row[0].strip(), row[1].strip()
                if not text:
                    raise DataError(f"{where}: empty text")
                bad = bad_text_character(text, allow_newlines=True)
                if bad is not None:  # Match refuses such text: no use learning from it
                    raise DataError(f"{where}: text holds the control character {describe(bad)}")
                if sku and sku not in known:
                    raise DataError(f"{where}: unknown sku {sku!r} (not in the catalog)")
                examples.append(Example(text, sku or None))
        except csv.Error as exc:
            raise DataError(f"{path}:{reader.line_num}: bad CSV: {exc}") from None
        except UnicodeDecodeError:
            # The decoder reads ahead in blocks: find the line from the bytes themselves.
            raise _not_utf8(path, path.read_bytes()) from None
    return examples


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
