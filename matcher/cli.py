"""The `partmatch` command: one subcommand per job."""

from __future__ import annotations

import argparse
import logging
import os
import sys
from collections.abc import Sequence
from pathlib import Path

from matcher.config import ConfigError, Settings

os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")


def _settings(args: argparse.Namespace) -> Settings:
    return Settings.from_env(
        state_dir=getattr(args, "state", None),
        grpc_address=getattr(args, "address", None),
        model_path=getattr(args, "model", None),
    )


def _add_state(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--state",
        type=Path,
        help="state directory: catalog store, history, models "
        "(default: $PARTMATCH_STATE_DIR or var/state)",
    )
    parser.add_argument(
        "--model", help="local sentence-transformers model directory (default: all-MiniLM-L6-v2)"
    )


def cmd_sample_data(args: argparse.Namespace) -> int:
    from indexer.sample_data import write_sample_dataset

    counts = write_sample_dataset(args.out, seed=args.seed)
    for name, rows in counts.items():
        print(f"{args.out / name}: {rows} rows")
    return 0


def cmd_index(args: argparse.Namespace) -> int:
    from indexer.build import index_dataset

    report = index_dataset(_settings(args), args.data)
    print(
        f"indexed {report.parts} parts and {report.examples} labelled texts; "
        f"{report.vectors} vectors cached in {report.cache}"
    )
    return 0


def cmd_eval(args: argparse.Namespace) -> int:
    from eval.run import SYSTEMS, evaluate, summary_table

    systems = args.systems.split(",") if args.systems else list(SYSTEMS)
    unknown = set(systems) - set(SYSTEMS)
    if unknown:
        raise ValueError(
            f"--systems: unknown {', '.join(sorted(unknown))}; known: {', '.join(SYSTEMS)}"
        )
    summary = evaluate(
        args.data,
        args.out,
        _settings(args),
        epochs=args.epochs,
        model_dir=args.models,
        systems=systems,
    )
    print(summary_table(summary))
    print(f"\nwrote {args.out / 'summary.json'}, {args.out / 'report.md'} and plots")
    return 0


def cmd_serve(args: argparse.Namespace) -> int:
    from matcher.server import serve

    serve(_settings(args))
    return 0


def cmd_match(args: argparse.Namespace) -> int:
    from matcher.client import MatchClient, print_response

    settings = _settings(args)
    if args.server:
        with MatchClient(args.server, settings) as client:
            for text in args.texts:
                print_response(text, client.match(text, args.top_k, args.vehicle))
        return 0
    from indexer.offline import offline_settings
    from matcher.app import build_matcher
    from matcher.catalog_store import SqliteCatalogStore
    from matcher.service import result_to_proto

    store = SqliteCatalogStore(settings.catalog_db, settings.sqlite_synchronous)
    # A one-off matcher in this process: it must not rebuild a running server's indexes.
    with offline_settings(settings) as own:
        matcher = build_matcher(own, store.parts(), store.examples())
        for text in args.texts:
            print_response(text, result_to_proto(matcher.match(text, args.top_k, args.vehicle)))
        matcher.close()
    return 0


def cmd_console(args: argparse.Namespace) -> int:
    from console.server import run_console

    settings = Settings.from_env(console_address=args.listen)
    run_console(settings, server=args.server or "")
    return 0


def cmd_train(args: argparse.Namespace) -> int:
    from indexer.train import DEFAULT_MAX_STEPS, train
    from indexer.training.trainer import TrainerConfig
    from matcher.registry import ModelError

    settings = _settings(args)
    max_steps = DEFAULT_MAX_STEPS if args.max_steps is None else args.max_steps
    config = TrainerConfig(seed=args.seed, max_steps_per_epoch=max_steps or None)
    try:
        result = train(
            settings,
            args.data,
            warm_start=args.warm_start,
            epochs=args.epochs,
            promote=not args.no_promote,
            force=args.force,
            seed=args.seed,
            trainer_config=config,
        )
    except ModelError as exc:
        print(f"partmatch: error: {exc}", file=sys.stderr)
        return 1
    report = result.report
    if report is not None:
        epochs = ", ".join(f"{s:.0f}s" for s in report.epoch_seconds)
        capped = " (capped)" if report.capped else ""
        print(
            f"fine-tuned on {report.examples} triplets, {report.steps} steps{capped}; "
            f"epochs {epochs}"
        )
    else:
        print("encoder used as is (no fine-tuning)")
    baseline = result.baseline or {}
    versus = f" (current {baseline['version']}: {baseline['acc@1']:.4f})" if baseline else ""
    print(f"registered {result.version}: valid acc@1 {result.metrics['acc@1']:.4f}{versus}")
    print(f"{'promoted' if result.promoted else 'not promoted'}: {result.reason}")
    print(f"took {result.seconds:.0f}s")
    return 0 if result.promoted or args.no_promote else 3


def cmd_models_list(args: argparse.Namespace) -> int:
    from indexer.registry_admin import list_versions

    settings = _settings(args)
    versions = list_versions(settings.models_dir)
    if not versions:
        print(f"no models in {settings.models_dir}")
    for info in versions:
        metric = f"{info.metric:.4f}" if info.metric is not None else "-"
        mark = "*" if info.current else " "
        status = f"  BROKEN: {info.problem}" if info.problem else ""
        created = info.metadata.get("created_at", "?")
        parent = info.metadata.get("parent") or "-"
        print(f"{mark} {info.version}  acc@1 {metric}  parent {parent}  {created}{status}")
    return 0


def cmd_models_promote(args: argparse.Namespace) -> int:
    from indexer.registry_admin import promote
    from matcher.registry import ModelError

    try:
        result = promote(_settings(args).models_dir, args.version, force=args.force)
    except ModelError as exc:
        print(f"partmatch: error: {exc}", file=sys.stderr)
        return 1
    print(f"{'promoted' if result.promoted else 'refused'} {result.version}: {result.reason}")
    return 0 if result.promoted else 3


def cmd_models_rollback(args: argparse.Namespace) -> int:
    from indexer.registry_admin import rollback
    from matcher.registry import ModelError

    try:
        result = rollback(_settings(args).models_dir)
    except ModelError as exc:
        print(f"partmatch: error: {exc}", file=sys.stderr)
        return 1
    print(result.reason)
    return 0


def cmd_reload(args: argparse.Namespace) -> int:
    import grpc
    from partmatch.v1 import partmatch_pb2 as pb
    from partmatch.v1 import partmatch_pb2_grpc as pb_grpc

    from matcher.channel import open_channel, token_metadata

    settings = Settings.from_env()
    address = args.server or settings.grpc_address
    with open_channel(address, settings) as channel:
        try:
            response = pb_grpc.AdminStub(channel).ReloadModel(
                pb.ReloadModelRequest(version=args.version or ""),
                timeout=args.timeout,
                metadata=token_metadata(settings.client_token),
            )
        except grpc.RpcError as exc:
            code = exc.code().name
            print(f"partmatch: reload refused ({code}): {exc.details()}", file=sys.stderr)
            return 1
    print(f"{address} now serves {response.model_version} (was {response.previous_version})")
    return 0


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
    _add_state(p)
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
        help="fine-tuning epochs when training on the history (0: base encoder + head + fusion)",
    )
    p.add_argument(
        "--models",
        type=Path,
        help="evaluate this registry's current model instead of training one",
    )
    p.add_argument("--systems", help="comma-separated subset of systems (default: all)")
    _add_state(p)
    p.set_defaults(func=cmd_eval)

    p = sub.add_parser("serve", help="run the gRPC server")
    p.add_argument("--address", help="HOST:PORT to listen on (default 127.0.0.1:50051)")
    _add_state(p)
    p.set_defaults(func=cmd_serve)

    p = sub.add_parser("match", help="match texts, in process or against a running server")
    p.add_argument("texts", nargs="+", metavar="TEXT", help="customer text(s) to match")
    p.add_argument("--top-k", type=int, default=5, help="number of candidates to show")
    p.add_argument("--vehicle", default="", help="vehicle context, e.g. '2012 VW Golf'")
    p.add_argument("--server", help="HOST:PORT of a running server; default: match in process")
    _add_state(p)
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
        help="fine-tuning epochs; 0 uses the base (or, with --warm-start, current) encoder as is "
        "(default: 2)",
    )
    p.add_argument(
        "--max-steps",
        type=int,
        help="cap each epoch at this many steps of 32 triplets, each epoch a fresh sample; "
        "0: whole epochs (default: 100, 4-5 minutes an epoch on 2 CPU cores)",
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
    _add_state(p)
    p.set_defaults(func=cmd_train)

    p = sub.add_parser("models", help="list, promote or roll back registered model versions")
    models = p.add_subparsers(dest="models_command", required=True, metavar="ACTION")
    q = models.add_parser("list", help="registered versions; * marks the current one")
    _add_state(q)
    q.set_defaults(func=cmd_models_list)
    q = models.add_parser(
        "promote", help="make VERSION current if its validation accuracy is not worse"
    )
    q.add_argument("version", metavar="VERSION", help="version to promote, e.g. v0003")
    q.add_argument(
        "--force", action="store_true", help="promote even if its validation accuracy is worse"
    )
    _add_state(q)
    q.set_defaults(func=cmd_models_promote)
    q = models.add_parser("rollback", help="make the previously current version current again")
    _add_state(q)
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
