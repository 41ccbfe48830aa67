"""A dataset in which the code signal cannot help: every text of history, valid and test with
its part and model numbers taken out, the catalog as it is. What is left is measured on the
words alone: names, kinds, brands, sizes in words.

Taken out of each text:
- every word that, normalised as codes are (matcher.query), is or contains a catalog code (of
  the text's own part or of any other) that a text could yield: the catalog codes of the
  view's code index (matcher/catalog_view), with the letters and digits of a code;
- then, while the code signal still finds any part for what is left (a code typed in pieces,
  "np fh100"; one character off a long code), the fewest adjacent words whose text alone it
  finds a part for.
Every other word stays, in its order. A text with no word left is dropped, and counted.

    python -m eval.no_code --data ../shared/datasets/abt-buy --out /tmp/abt-buy-no-code
    partmatch eval --data /tmp/abt-buy-no-code --out eval-out/abt-buy-no-code
"""

from __future__ import annotations

import argparse
import json
import shutil
from collections.abc import Set
from pathlib import Path

from indexer.dataset import SPLITS, load_dataset, write_examples
from matcher.catalog_view import CatalogView, CatalogViewBuilder
from matcher.query import MAX_CODE_PIECES, MIN_CODE_CHARS, Query, extract_codes, normalise_code
from matcher.signals.codes import CodeSignal


def derive(data: Path, out: Path) -> dict[str, int]:
    """Writes the variant of `data` to `out`; returns how many texts each split kept and
    dropped, and how many words were taken out."""
    dataset = load_dataset(data, splits=SPLITS)
    view = CatalogViewBuilder(lexical_history=None).build(dataset.catalog, [])
    codes = frozenset(c for c in view.codes.owners if extract_codes(c, join_adjacent=False))
    out.mkdir(parents=True, exist_ok=True)
    shutil.copyfile(data / "catalog.jsonl", out / "catalog.jsonl")
    counts: dict[str, int] = {"words": 0, "words_removed": 0}
    for name in SPLITS:
        rows = []
        for example in dataset.split(name):
            text = strip_codes(example.text, view, codes)
            counts["words"] += len(example.text.split())
            counts["words_removed"] += len(example.text.split()) - len(text.split())
            if text:
                rows.append((text, example.sku or ""))
        write_examples(out / f"{name}.csv", rows)
        counts[name] = len(rows)
        counts[f"{name}_dropped"] = len(dataset.split(name)) - len(rows)
    return counts


def strip_codes(text: str, view: CatalogView, codes: Set[str]) -> str:
    """`text` without the words that hold a code of `codes` or that the code signal finds a
    part of `view` by."""
    kept = [w for w in text.split() if not _holds_code(w, codes)]
    while (window := _code_window(kept, view)) is not None:
        del kept[window]
    return " ".join(kept)


def _holds_code(word: str, codes: Set[str]) -> bool:
    own = normalise_code(word)
    return any(
        own[start : start + size] in codes
        for size in range(MIN_CODE_CHARS, len(own) + 1)
        for start in range(len(own) - size + 1)
    )


_CODES = CodeSignal()


def _code_window(words: list[str], view: CatalogView) -> slice | None:
    """The first of the shortest runs of adjacent words by which the code signal finds a
    part; None when it finds none by the whole text."""
    if not _finds(" ".join(words), view):
        return None
    # A code the signal reads is made of at most MAX_CODE_PIECES adjacent pieces, each within
    # one word, so a run of that many words holds it.
    for size in range(1, MAX_CODE_PIECES + 1):
        for start in range(len(words) - size + 1):
            if _finds(" ".join(words[start : start + size]), view):
                return slice(start, start + size)
    raise AssertionError(f"the code signal finds a part by {' '.join(words)!r} but no run")


def _finds(text: str, view: CatalogView) -> bool:
    return bool(text) and bool(_CODES.search(view, Query.parse(text), 1))


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--data", type=Path, required=True)
    parser.add_argument("--out", type=Path, required=True)
    args = parser.parse_args(argv)
    print(json.dumps(derive(args.data, args.out)))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
