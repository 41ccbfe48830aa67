"""`partmatch eval`: the service, Elasticsearch and each signal on a dataset's test set (or,
with `--split dev`, its hand-written dev set)."""

from __future__ import annotations

import argparse

from cli.common import settings_for


def cmd_eval(args: argparse.Namespace) -> int:
    from eval.results import summary_table
    from eval.run import SYSTEMS, evaluate

    systems = args.systems.split(",") if args.systems else list(SYSTEMS)
    unknown = set(systems) - set(SYSTEMS)
    if unknown:
        raise ValueError(
            f"--systems: unknown {', '.join(sorted(unknown))}; known: {', '.join(SYSTEMS)}"
        )
    summary = evaluate(
        args.data,
        args.out,
        settings_for(args),
        epochs=args.epochs,
        model_dir=args.models,
        systems=systems,
        split=args.split,
        rerank_steps=args.rerank_steps,
    )
    print(summary_table(summary))
    print(f"\nwrote {args.out / 'summary.json'}, {args.out / 'report.md'} and plots")
    return 0
