"""Model versions: `partmatch train` and `partmatch models list|promote|rollback`."""

from __future__ import annotations

import argparse
import sys

from cli.common import settings_for


def cmd_train(args: argparse.Namespace) -> int:
    from indexer.train import DEFAULT_MAX_STEPS, train
    from indexer.training.reranker_trainer import RerankerConfig
    from indexer.training.trainer import TrainerConfig
    from matcher.registry import ModelError

    settings = settings_for(args)
    max_steps = DEFAULT_MAX_STEPS if args.max_steps is None else args.max_steps
    config = TrainerConfig(seed=args.seed, max_steps_per_epoch=max_steps or None)
    steps = args.rerank_steps
    reranker = RerankerConfig(seed=args.seed, steps=steps) if steps else None
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
            reranker_config=reranker,
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
    if result.reranker_report is not None:
        rr = result.reranker_report
        print(f"reranker trained on {rr.groups} texts, {rr.steps} steps, {rr.seconds:.0f}s")
    baseline = result.baseline or {}
    versus = f" (current {baseline['version']}: {baseline['acc@1']:.4f})" if baseline else ""
    print(f"registered {result.version}: valid acc@1 {result.metrics['acc@1']:.4f}{versus}")
    print(f"{'promoted' if result.promoted else 'not promoted'}: {result.reason}")
    print(f"took {result.seconds:.0f}s")
    return 0 if result.promoted or args.no_promote else 3


def cmd_models_list(args: argparse.Namespace) -> int:
    from indexer.registry_admin import list_versions

    settings = settings_for(args)
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
        result = promote(settings_for(args).models_dir, args.version, force=args.force)
    except ModelError as exc:
        print(f"partmatch: error: {exc}", file=sys.stderr)
        return 1
    print(f"{'promoted' if result.promoted else 'refused'} {result.version}: {result.reason}")
    return 0 if result.promoted else 3


def cmd_models_rollback(args: argparse.Namespace) -> int:
    from indexer.registry_admin import rollback
    from matcher.registry import ModelError

    try:
        result = rollback(settings_for(args).models_dir)
    except ModelError as exc:
        print(f"partmatch: error: {exc}", file=sys.stderr)
        return 1
    print(result.reason)
    return 0
