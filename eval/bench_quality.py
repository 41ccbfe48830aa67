"""`make bench-quality`: the evaluation on the sample data and every shared dataset, and
BENCHMARKS.md with the tables and the commands that reproduce them."""

from __future__ import annotations

import argparse
import datetime
import os
from pathlib import Path

from eval.run import evaluate, summary_table
from matcher.config import Settings

ROOT = Path(__file__).resolve().parent.parent
DATASETS = [ROOT / "data" / "sample", *sorted((ROOT.parent / "shared" / "datasets").glob("*/"))]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--epochs", type=int, default=1, help="fine-tuning epochs per dataset")
    parser.add_argument("--out", type=Path, default=ROOT / "var" / "bench-quality")
    parser.add_argument("--benchmarks", type=Path, default=ROOT / "BENCHMARKS.md")
    args = parser.parse_args(argv)
    settings = Settings.from_env()
    sections = []
    for data in DATASETS:
        if not (data / "test.csv").exists():
            continue
        out = args.out / data.name
        summary = evaluate(data, out, settings, epochs=args.epochs)
        command = (
            f"partmatch eval --data {os.path.relpath(data, ROOT)} "
            f"--out {os.path.relpath(out, ROOT)} --epochs {args.epochs}"
        )
        sections.append(f"## {data.name}\n\n`{command}`\n\n{summary_table(summary)}\n")
    stamp = datetime.date.today().isoformat()
    es = "with ES_URL set (the Elasticsearch baselines)" if settings.es_url else "without ES_URL"
    args.benchmarks.write_text(
        "# Benchmarks\n\n"
        f"Produced by `make bench-quality` on {stamp}, {es}, on a 2-core CPU machine.\n"
        "Metric names are those of `partmatch eval` (see README). Latency is per text,\n"
        "in process, one text at a time.\n\n" + "\n".join(sections)
    )
    print(args.benchmarks.read_text())
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
