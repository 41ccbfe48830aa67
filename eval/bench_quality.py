"""`make bench-quality`: the evaluation on the sample data and every shared dataset, and
BENCHMARKS.md with the tables and the commands that reproduce them."""

from __future__ import annotations

import argparse
import datetime
import importlib
import os
import time
from pathlib import Path

from eval.results import summary_table
from eval.run import evaluate
from matcher.config import Settings

ROOT = Path(__file__).resolve().parent.parent
DATASETS = [ROOT / "data" / "sample", *sorted((ROOT.parent / "shared" / "datasets").glob("*/"))]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--epochs", type=int, default=1, help="fine-tuning epochs per dataset")
    parser.add_argument("--out", type=Path, default=ROOT / "var" / "bench-quality")
    parser.add_argument("--benchmarks", type=Path, default=ROOT / "BENCHMARKS.md")
    args = parser.parse_args(argv)
    # Everything the run will import, imported now: a run takes an hour, and a module edited
    # meanwhile must not be half old, half new.
    for module in ("eval.report", "eval.es_baseline", "eval.setfit_peer", "indexer.train"):
        importlib.import_module(module)
    settings = Settings.from_env()
    stamp = datetime.date.today().isoformat()
    es = "with ES_URL set (the Elasticsearch baselines)" if settings.es_url else "without ES_URL"
    header = (
        "# Benchmarks\n\n"
        f"Produced by `make bench-quality` on {stamp}, {es}, on a 2-core CPU machine.\n"
        "Metric names are those of `partmatch eval` (see README). Latency is per text,\n"
        "in process, one text at a time.\n\n"
    )
    sections = []
    for data in DATASETS:
        if not (data / "test.csv").exists():
            continue
        out = args.out / data.name
        started = time.perf_counter()
        summary = evaluate(data, out, settings, epochs=args.epochs)
        minutes = (time.perf_counter() - started) / 60
        command = (
            f"partmatch eval --data {os.path.relpath(data, ROOT)} "
            f"--out {os.path.relpath(out, ROOT)} --epochs {args.epochs}"
        )
        sections.append(
            f"## {data.name}\n\n`{command}` ({minutes:.0f} min, training included)\n\n"
            f"{summary_table(summary)}\n"
        )
        # Written after each dataset: a long run that stops still leaves what it measured.
        args.benchmarks.write_text(header + "\n".join(sections))
    print(args.benchmarks.read_text())
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
