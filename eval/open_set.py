"""A dataset whose history holds no text that names no part, and whose valid and test splits
hold texts for products the catalog does not carry: what a shop with real history faces.

Derived from any data directory: a share of the catalog entries that valid or test ask for is
taken out of the catalog, their history texts are dropped, and their valid and test texts
become texts that name no part; history's own no-part texts are dropped too. The entries
taken out are drawn with a fixed seed, so the derived dataset is the same on every run.

    python -m eval.open_set --data ../shared/datasets/banking77 --out /tmp/banking77-open
    partmatch eval --data /tmp/banking77-open --out eval-out/banking77-open
"""

from __future__ import annotations

import argparse
import json
import random
from pathlib import Path

from indexer.dataset import load_dataset, write_examples
from matcher.examples import Example


def derive(data: Path, out: Path, share: float, seed: int) -> dict[str, int]:
    dataset = load_dataset(data, splits=("history", "valid", "test"))
    asked = sorted({e.sku for e in (*dataset.valid, *dataset.test) if e.sku is not None})
    hidden = set(random.Random(seed).sample(asked, round(share * len(asked))))
    out.mkdir(parents=True, exist_ok=True)
    with (out / "catalog.jsonl").open("w", encoding="utf-8") as handle:
        for part in dataset.catalog:
            if part.sku not in hidden:
                handle.write(json.dumps(part.to_dict(), ensure_ascii=False) + "\n")
    history = [e for e in dataset.history if e.sku is not None and e.sku not in hidden]
    write_examples(out / "history.csv", ((e.text, e.sku or "") for e in history))
    counts = {"hidden_entries": len(hidden), "history": len(history)}
    for name in ("valid", "test"):
        examples = [
            Example(e.text, None if e.sku in hidden else e.sku) for e in dataset.split(name)
        ]
        write_examples(out / f"{name}.csv", ((e.text, e.sku or "") for e in examples))
        counts[f"{name}_no_part"] = sum(e.sku is None for e in examples)
        counts[name] = len(examples)
    return counts


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--data", type=Path, required=True)
    parser.add_argument("--out", type=Path, required=True)
    parser.add_argument(
        "--share", type=float, default=0.1, help="share of asked-for entries taken out"
    )
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args(argv)
    if not 0.0 < args.share < 1.0:
        parser.error("--share must be between 0 and 1")
    counts = derive(args.data, args.out, args.share, args.seed)
    print(json.dumps(counts))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
