"""Command line: ``python -m indexer.sample_data --out DIR`` writes the sample data set."""

from __future__ import annotations

import argparse
import pathlib

from indexer.sample_data.catalog import DEFAULT_SEED
from indexer.sample_data.splits import DEFAULT_HISTORY_SIZE, write_sample_dataset

# The repository root: this file is indexer/sample_data/__main__.py.
_REPO = pathlib.Path(__file__).resolve().parents[2]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        # Named as it is run: argparse would otherwise call it "__main__.py".
        prog="python -m indexer.sample_data",
        description="Write partmatch's seeded sample catalog and customer texts.",
    )
    parser.add_argument(
        "--out",
        type=pathlib.Path,
        default=_REPO / "data" / "sample",
        help="output folder (default: data/sample)",
    )
    parser.add_argument(
        "--seed", type=int, default=DEFAULT_SEED, help="random seed (default: %(default)s)"
    )
    parser.add_argument(
        "--history-size",
        type=int,
        default=DEFAULT_HISTORY_SIZE,
        help="number of history texts (default: %(default)s)",
    )
    parser.add_argument(
        "--parts",
        type=int,
        help="about how many parts the catalog has (default: the sample's own, about 300); "
        "a larger one fits the part kinds to more vehicles",
    )
    args = parser.parse_args(argv)
    if args.history_size < 1:
        parser.error("--history-size must be positive")
    if args.parts is not None and args.parts < 1:
        parser.error("--parts must be positive")
    counts = write_sample_dataset(
        args.out, seed=args.seed, history_size=args.history_size, part_count=args.parts
    )
    for name, count in counts.items():
        print(f"{args.out / name}: {count} rows")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
