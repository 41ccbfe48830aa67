"""The `partmatch` command: one subcommand per job; parser and dispatch."""

from __future__ import annotations

import argparse
import logging
import os
import sys
from collections.abc import Sequence
from pathlib import Path

from cli.catalog import cmd_index, cmd_sample_data
from cli.common import add_state
from cli.evaluation import cmd_eval
from cli.models import cmd_models_list, cmd_models_promote, cmd_models_rollback, cmd_train
from cli.review import cmd_console
from cli.serving import cmd_match, cmd_reload, cmd_serve
from matcher.config import ConfigError

os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="partmatch",
        description="Map customers' free text to catalog parts. Settings also come from "
        "PARTMATCH_* environment variables (see README).",
    )
    parser.add_argument("-v", "--verbose", action="store_true", help="log at debug level")
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")

    p = sub.add_parser("sample-data", help="write the seeded sample car-parts dataset")
    p.add_argument("--out", type=Path, default=Path("data/sample"), help="output directory")
    p.add_argument("--seed", type=int, default=7, help="random seed (same seed, same files)")
    p.set_defaults(func=cmd_sample_data)

    p = sub.add_parser(
        "index", help="load a data directory (catalog.jsonl, history.csv) into the state directory"
    )
    p.add_argument(
        "--data", type=Path, required=True, help="data directory in the project's format"
    )
    add_state(p)
    p.set_defaults(func=cmd_index)

    p = sub.add_parser(
        "eval", help="compare the service, Elasticsearch and each signal on a dataset's test set"
    )
    p.add_argument(
        "--data", type=Path, required=True, help="data directory in the project's format"
    )
    p.add_argument(
        "--out", type=Path, required=True, help="where summary.json, report.md and plots go"
    )
    p.add_argument(
        "--epochs",
        type=int,
        default=1,
        help="fine-tuning epochs, each capped at 100 steps of 32 triplets, so on large data an "
        "epoch is part of a pass over the history; no early stopping "
        "(0: base encoder + head + fusion)",
    )
    p.add_argument(
        "--rerank-steps",
        type=int,
        default=0,
        help="as for partmatch train: also train a reranker for this many steps (default: 0, none)",
    )
    p.add_argument(
        "--models",
        type=Path,
        help="evaluate this registry's current model instead of training one",
    )
    p.add_argument("--systems", help="comma-separated subset of systems (default: all)")
    p.add_argument(
        "--split",
        choices=("test", "dev"),
        default="test",
        help="the texts answered: test.csv, or the hand-written, style-tagged dev.csv, with "
        "per-style figures (default: test)",
    )
    add_state(p)
    p.set_defaults(func=cmd_eval)

    p = sub.add_parser("serve", help="run the gRPC server")
    p.add_argument("--address", help="HOST:PORT to listen on (default 127.0.0.1:50051)")
    add_state(p)
    p.set_defaults(func=cmd_serve)

    p = sub.add_parser("match", help="match texts, in process or against a running server")
    p.add_argument("texts", nargs="+", metavar="TEXT", help="customer text(s) to match")
    p.add_argument("--top-k", type=int, default=5, help="number of candidates to show")
    p.add_argument("--vehicle", default="", help="vehicle context, e.g. '2012 VW Golf'")
    p.add_argument(
        "--server",
        help="HOST:PORT of a running server; default: match in process, with the model a "
        "server would load (the current version, else the base model)",
    )
    add_state(p)
    p.set_defaults(func=cmd_match)

    p = sub.add_parser(
        "console",
        help="run the staff review console (needs PARTMATCH_STAFF_TOKENS and "
        "PARTMATCH_CONSOLE_SECRET)",
    )
    p.add_argument(
        "--listen",
        metavar="HOST:PORT",
        help="where the console listens (default: $PARTMATCH_CONSOLE_ADDRESS or 127.0.0.1:8080)",
    )
    p.add_argument(
        "--server",
        metavar="HOST:PORT",
        help="the partmatch gRPC server to talk to (default: $PARTMATCH_GRPC_ADDRESS or "
        "127.0.0.1:50051)",
    )
    p.set_defaults(func=cmd_console)

    p = sub.add_parser(
        "train",
        help="fine-tune on labelled history, register a model version and promote it if it "
        "is not worse on validation data",
    )
    p.add_argument(
        "--data",
        type=Path,
        help="data directory (history.csv to train on, valid.csv to choose and gate; test.csv "
        "is never read); default: the state's catalog store and its examples, 10%% held out",
    )
    p.add_argument(
        "--warm-start",
        action="store_true",
        help="continue from the current model's encoder on the rows it has not seen, plus as "
        "many replayed old rows",
    )
    p.add_argument(
        "--epochs",
        type=int,
        help="fine-tuning epochs, each capped at --max-steps steps of 32 triplets, so on large "
        "data an epoch is part of a pass over the history; no early stopping; 0 uses the base "
        "(or, with --warm-start, current) encoder as is (default: 2)",
    )
    p.add_argument(
        "--max-steps",
        type=int,
        help="cap each epoch at this many steps of 32 triplets, each epoch a fresh sample; "
        "0: whole epochs (default: 100, 2-3 minutes an epoch on 2 CPU cores)",
    )
    p.add_argument(
        "--rerank-steps",
        type=int,
        help="also train a reranker (a cross-encoder over each request's shortlisted "
        "candidates) for this many steps of 8 texts, when the encoder is fine-tuned; 200 take "
        "about 4 minutes on 2 CPU cores (default: 0, no reranker: see the README for what it "
        "costs per request)",
    )
    p.add_argument(
        "--no-promote", action="store_true", help="register the version without making it current"
    )
    p.add_argument(
        "--force",
        action="store_true",
        help="promote even if validation accuracy is worse than the current model's",
    )
    p.add_argument("--seed", type=int, default=0, help="random seed (same seed, same model)")
    add_state(p)
    p.set_defaults(func=cmd_train)

    p = sub.add_parser("models", help="list, promote or roll back registered model versions")
    models = p.add_subparsers(dest="models_command", required=True, metavar="ACTION")
    q = models.add_parser("list", help="registered versions; * marks the current one")
    add_state(q)
    q.set_defaults(func=cmd_models_list)
    q = models.add_parser(
        "promote", help="make VERSION current if its validation accuracy is not worse"
    )
    q.add_argument("version", metavar="VERSION", help="version to promote, e.g. v0003")
    q.add_argument(
        "--force", action="store_true", help="promote even if its validation accuracy is worse"
    )
    add_state(q)
    q.set_defaults(func=cmd_models_promote)
    q = models.add_parser("rollback", help="make the previously current version current again")
    add_state(q)
    q.set_defaults(func=cmd_models_rollback)

    p = sub.add_parser(
        "reload", help="make a running server load the registry's current model, without a restart"
    )
    p.add_argument(
        "--server",
        metavar="HOST:PORT",
        help="the running server (default: $PARTMATCH_GRPC_ADDRESS or 127.0.0.1:50051)",
    )
    p.add_argument("--version", help="load this version instead of the current one, e.g. v0003")
    p.add_argument(
        "--timeout",
        type=float,
        default=600.0,
        help="seconds to wait (the server encodes the catalog and history; default: 600)",
    )
    p.set_defaults(func=cmd_reload)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    logging.basicConfig(
        level=logging.DEBUG if args.verbose else logging.INFO,
        format="%(asctime)s %(levelname)s %(name)s: %(message)s",
    )
    try:
        code: int = args.func(args)
        return code
    except ConfigError as exc:
        print(f"partmatch: configuration error: {exc}", file=sys.stderr)
        return 2
    except ValueError as exc:
        # Data errors carry file and line; no traceback for a bad input file.
        print(f"partmatch: error: {exc}", file=sys.stderr)
        return 1


if __name__ == "__main__":
    raise SystemExit(main())
