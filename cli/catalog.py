"""Data into the state directory: `partmatch sample-data` and `partmatch index`."""

from __future__ import annotations

import argparse

from cli.common import settings_for


def cmd_sample_data(args: argparse.Namespace) -> int:
    from indexer.sample_data import write_sample_dataset

    counts = write_sample_dataset(args.out, seed=args.seed)
    for name, rows in counts.items():
        print(f"{args.out / name}: {rows} rows")
    return 0


def cmd_index(args: argparse.Namespace) -> int:
    from indexer.build import index_dataset

    report = index_dataset(settings_for(args), args.data)
    print(
        f"indexed {report.parts} parts and {report.examples} labelled texts; "
        f"{report.vectors} vectors cached in {report.cache}"
    )
    return 0
