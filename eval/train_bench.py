"""Learning from history, side by side: the pretrained encoder, partmatch's fine-tuning and SetFit.

Every method trains on history.csv, chooses what it may choose on valid.csv, and is scored
once on test.csv (top-1 accuracy; a text that names no part is right only when the method
says "no part"):

- pretrained, nearest catalog text: the base encoder alone, zero-shot;
- pretrained, kNN: vote of the k nearest history and catalog texts (k chosen on valid);
- pretrained + head: the classification head on base embeddings (C chosen on valid);
- fine-tuned + head / fine-tuned kNN: indexer.training (mined hard negatives,
  MultipleNegativesRankingLoss), then the same head or vote;
- matcher, base / fine-tuned: the whole partmatch matcher (BM25, fuzzy, codes, embeddings,
  head, learned fusion fitted on history and valid), as `partmatch train` builds it;
- SetFit: the `setfit` package on the same base model, its default recipe except for a cap
  on steps (its default draws every pair of history texts: 40 million for banking77);
  setfit-body+head puts its fine-tuned body under partmatch's head.

    .venv/bin/python -m eval.train_bench --data data/sample --out var/bench/sample.json
"""

from __future__ import annotations

import argparse
import json
import logging
import os
import sys
import tempfile
import time
from collections.abc import Sequence
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")

from indexer.dataset import Dataset, load_dataset
from indexer.fusion_training import fit_fusion
from indexer.head_training import fit_head
from indexer.metrics import top1_accuracy
from indexer.offline import offline_settings
from indexer.train import evaluate
from indexer.training import EncoderTrainer, PairConfig, TrainerConfig, mine_triplets
from matcher.app import build_matcher
from matcher.config import Settings
from matcher.encoder import Encoder
from matcher.examples import Example
from matcher.head import NO_PART, Head

log = logging.getLogger("train_bench")

HEAD_C = (1.0, 10.0, 100.0)
KNN_K = (1, 5, 10, 20)
METHODS = (
    "pretrained-catalog",
    "pretrained-knn",
    "pretrained-head",
    "finetuned-head",
    "finetuned-knn",
    "matcher-base",
    "matcher-finetuned",
    "setfit",
    "setfit-body+head",
)


@dataclass
class Row:
    method: str
    test_acc: float
    valid_acc: float | None
    train_s: float
    choice: str = ""
    notes: str = ""
    extra: dict[str, Any] = field(default_factory=dict)


@dataclass
class Bench:
    data: Dataset
    settings: Settings
    seed: int
    progress: bool
    rows: list[Row] = field(default_factory=list)

    def add(self, row: Row) -> None:
        self.rows.append(row)
        log.info(
            "%-20s test acc@1 %.4f  valid %s  train %.0fs  %s %s",
            row.method,
            row.test_acc,
            "-" if row.valid_acc is None else f"{row.valid_acc:.4f}",
            row.train_s,
            row.choice,
            row.notes,
        )


# -- predictions from embeddings -------------------------------------------------------------


def labels_of(examples: Sequence[Example]) -> list[str]:
    return [e.sku or NO_PART for e in examples]


def accuracy(predicted: Sequence[str], examples: Sequence[Example]) -> float:
    """indexer.metrics' convention: a "no part" answer is an empty ranking."""
    ranked = [[p] if p != NO_PART else [] for p in predicted]
    return top1_accuracy(ranked, [e.sku for e in examples])


def nearest_catalog(queries: np.ndarray, catalog: np.ndarray, skus: Sequence[str]) -> list[str]:
    return [skus[i] for i in np.argmax(queries @ catalog.T, axis=1)]


def knn(queries: np.ndarray, memory: np.ndarray, labels: Sequence[str], k: int) -> list[str]:
    """Similarity-weighted vote of the k nearest memory texts."""
    predicted = []
    label_array = np.asarray(labels, dtype=object)
    for start in range(0, len(queries), 512):
        sims = queries[start : start + 512] @ memory.T
        top = np.argpartition(-sims, min(k, sims.shape[1]) - 1, axis=1)[:, :k]
        for row, idx in zip(sims, top, strict=True):
            votes: dict[str, float] = {}
            for i in idx:
                votes[label_array[i]] = votes.get(label_array[i], 0.0) + float(row[i])
            predicted.append(max(votes, key=lambda label: votes[label]))
    return predicted


def head_predict(head: Head, vectors: np.ndarray) -> list[str]:
    return [str(head.classes[i]) for i in np.argmax(head.predict_proba(vectors), axis=1)]


@dataclass
class Embedded:
    catalog: np.ndarray
    history: np.ndarray
    valid: np.ndarray
    test: np.ndarray
    seconds: float


def embed_all(encoder: Encoder, data: Dataset, progress: bool) -> Embedded:
    started = time.perf_counter()
    return Embedded(
        catalog=encoder.encode([p.catalog_text() for p in data.catalog], progress=progress),
        history=encoder.encode([e.text for e in data.history], progress=progress),
        valid=encoder.encode([e.text for e in data.valid], progress=progress),
        test=encoder.encode([e.text for e in data.test], progress=progress),
        seconds=time.perf_counter() - started,
    )


def embedding_methods(bench: Bench, name: str, vectors: Embedded, encode_s: float) -> None:
    data = bench.data
    skus = [p.sku for p in data.catalog]
    if name == "pretrained":
        predicted = nearest_catalog(vectors.test, vectors.catalog, skus)
        valid_acc = accuracy(nearest_catalog(vectors.valid, vectors.catalog, skus), data.valid)
        bench.add(Row(f"{name}-catalog", accuracy(predicted, data.test), valid_acc, 0.0))

    memory = np.vstack([vectors.history, vectors.catalog])
    memory_labels = labels_of(data.history) + skus
    best_k = max(
        KNN_K, key=lambda k: accuracy(knn(vectors.valid, memory, memory_labels, k), data.valid)
    )
    bench.add(
        Row(
            f"{name}-knn",
            accuracy(knn(vectors.test, memory, memory_labels, best_k), data.test),
            accuracy(knn(vectors.valid, memory, memory_labels, best_k), data.valid),
            encode_s,
            choice=f"k={best_k}",
        )
    )

    started = time.perf_counter()
    heads = {
        c: fit_head(vectors.history, labels_of(data.history), c=c, seed=bench.seed) for c in HEAD_C
    }
    head_s = (time.perf_counter() - started) / len(HEAD_C)
    scores = {c: accuracy(head_predict(h, vectors.valid), data.valid) for c, h in heads.items()}
    best_c = max(HEAD_C, key=lambda c: scores[c])
    bench.add(
        Row(
            f"{name}-head",
            accuracy(head_predict(heads[best_c], vectors.test), data.test),
            scores[best_c],
            encode_s + head_s,
            choice=f"C={best_c:g}",
        )
    )


# -- the whole matcher -----------------------------------------------------------------------


def matcher_method(bench: Bench, name: str, encoder: Encoder, train_s: float) -> None:
    data = bench.data
    started = time.perf_counter()
    head = fit_head(encoder.encode([e.text for e in data.history]), labels_of(data.history))
    report = fit_fusion(
        bench.settings,
        encoder,
        data.catalog,
        data.history,
        data.valid,
        head=head,
        seed=bench.seed,
        progress=bench.progress,
    )
    fit_s = time.perf_counter() - started
    matcher = build_matcher(
        bench.settings,
        data.catalog,
        data.history,
        encoder=encoder,
        head=head,
        fusion=report.fusion,
        policy=report.policy,
    )
    try:
        valid = evaluate(matcher, data.valid)
        test = evaluate(matcher, data.test)
    finally:
        matcher.close()
    bench.add(
        Row(
            name,
            test["acc@1"],
            valid["acc@1"],
            train_s + fit_s,
            notes=f"test recall@1 {test['recall@1']}",
            extra={"valid": valid, "test": test, "fusion_seconds": round(fit_s, 1)},
        )
    )


# -- SetFit ----------------------------------------------------------------------------------


def setfit_method(bench: Bench, max_steps: int, batch_size: int) -> None:
    from datasets import Dataset as HFDataset
    from setfit import SetFitModel, Trainer, TrainingArguments

    data = bench.data
    started = time.perf_counter()
    model = SetFitModel.from_pretrained(bench.settings.model_path, device="cpu")
    with tempfile.TemporaryDirectory(prefix="setfit-") as out:
        args = TrainingArguments(
            output_dir=out,
            batch_size=batch_size,
            max_steps=max_steps,
            seed=bench.seed,
            save_strategy="no",
            report_to="none",
            show_progress_bar=bench.progress,
        )
        train_set = HFDataset.from_dict(
            {"text": [e.text for e in data.history], "label": labels_of(data.history)}
        )
        Trainer(model=model, args=args, train_dataset=train_set).train()
    train_s = time.perf_counter() - started
    valid_acc = accuracy([str(p) for p in model.predict([e.text for e in data.valid])], data.valid)
    test_acc = accuracy([str(p) for p in model.predict([e.text for e in data.test])], data.test)
    bench.add(
        Row(
            "setfit",
            test_acc,
            valid_acc,
            train_s,
            notes=f"max_steps={max_steps}, batch {batch_size} pairs, default loss and head",
        )
    )
    # Its fine-tuned body under partmatch's head (C chosen on valid): tells the contrastive
    # stage apart from SetFit's default head.
    with tempfile.TemporaryDirectory(prefix="setfit-body-") as body_dir:
        model.model_body.save(body_dir)
        vectors = embed_all(Encoder(body_dir), data, progress=False)
    started = time.perf_counter()
    heads = {c: fit_head(vectors.history, labels_of(data.history), c=c) for c in HEAD_C}
    head_s = (time.perf_counter() - started) / len(HEAD_C)
    scores = {c: accuracy(head_predict(h, vectors.valid), data.valid) for c, h in heads.items()}
    best_c = max(HEAD_C, key=lambda c: scores[c])
    bench.add(
        Row(
            "setfit-body+head",
            accuracy(head_predict(heads[best_c], vectors.test), data.test),
            scores[best_c],
            train_s + head_s,
            choice=f"C={best_c:g}",
        )
    )


# -- the run ---------------------------------------------------------------------------------


def run(args: argparse.Namespace) -> dict[str, Any]:
    settings = Settings.from_env(state_dir=Path(tempfile.mkdtemp(prefix="train-bench-state-")))
    with offline_settings(settings) as offline:
        return _run(args, offline)


def _run(args: argparse.Namespace, settings: Settings) -> dict[str, Any]:
    data = load_dataset(args.data)
    skip = {s.strip() for s in (args.skip or "").split(",") if s.strip()}
    unknown = skip - set(METHODS) - {"pretrained", "finetuned", "matcher"}
    if unknown:
        raise SystemExit(f"unknown --skip entries: {', '.join(sorted(unknown))}")
    bench = Bench(data, settings, args.seed, not args.quiet)
    log.info(
        "%s: %d parts, history %d, valid %d, test %d; load average %s",
        args.data,
        len(data.catalog),
        len(data.history),
        len(data.valid),
        len(data.test),
        os.getloadavg(),
    )
    timings: dict[str, Any] = {}

    base = Encoder(settings.model_path)
    base_vectors = embed_all(base, data, bench.progress)
    timings["encode_base_s"] = round(base_vectors.seconds, 1)
    if "pretrained" not in skip:
        embedding_methods(bench, "pretrained", base_vectors, 0.0)
    if "matcher-base" not in skip and "matcher" not in skip:
        matcher_method(bench, "matcher-base", base, 0.0)

    steps_done = 0
    if "finetuned" not in skip:
        started = time.perf_counter()
        triplets = mine_triplets(
            data.catalog, data.history, lambda t: base.encode(t), PairConfig(seed=args.seed)
        )
        mine_s = time.perf_counter() - started
        config = TrainerConfig(
            epochs=args.epochs,
            batch_size=args.batch_size,
            max_steps_per_epoch=args.max_steps or None,
            seed=args.seed,
            progress=bench.progress,
        )
        report = EncoderTrainer(config).train(base.model, triplets)
        steps_done = report.steps
        with tempfile.TemporaryDirectory(prefix="bench-encoder-") as work:
            base.model.save(work)
            tuned = Encoder(work)
            tuned_vectors = embed_all(tuned, data, bench.progress)
            train_s = mine_s + report.seconds
            timings["fine_tune"] = {
                "mine_s": round(mine_s, 1),
                "triplets": len(triplets),
                **report.to_dict(),
                "estimated_full_epoch_s": round(
                    sum(report.epoch_seconds) / max(1, report.steps) * report.full_epoch_steps, 1
                ),
                # Shared machines inflate wall time; CPU seconds spread over all cores bound
                # from below what a dedicated machine would take.
                "full_epoch_dedicated_lower_bound_s": round(
                    sum(report.epoch_cpu_seconds)
                    / max(1, report.steps)
                    * report.full_epoch_steps
                    / (os.cpu_count() or 1),
                    1,
                ),
            }
            if "finetuned-head" not in skip:
                embedding_methods(bench, "finetuned", tuned_vectors, train_s)
            if "matcher-finetuned" not in skip and "matcher" not in skip:
                matcher_method(bench, "matcher-finetuned", tuned, train_s)

    if "setfit" not in skip:
        # Equal compute: a partmatch step encodes 3 x batch texts (triplets), a SetFit step
        # 2 x batch texts (pairs).
        max_steps = args.setfit_max_steps or max(
            1, (steps_done or args.epochs * args.max_steps) * 3 * args.batch_size // (2 * 16)
        )
        try:
            setfit_method(bench, max_steps, 16)
        except Exception as exc:
            log.exception("SetFit failed")
            bench.rows.append(Row("setfit", float("nan"), None, 0.0, notes=f"FAILED: {exc!r}"))

    return {
        "data": str(args.data),
        "counts": {
            "parts": len(data.catalog),
            "history": len(data.history),
            "valid": len(data.valid),
            "test": len(data.test),
        },
        "args": {k: str(v) for k, v in vars(args).items()},
        "load_average_end": os.getloadavg(),
        "timings": timings,
        "rows": [asdict(r) for r in bench.rows],
    }


def table(result: dict[str, Any]) -> str:
    lines = [
        f"### {result['data']}",
        "",
        "| method | test acc@1 | valid acc@1 | train s | chosen on valid | notes |",
        "| --- | ---: | ---: | ---: | --- | --- |",
    ]
    for row in result["rows"]:
        valid = "-" if row["valid_acc"] is None else f"{row['valid_acc']:.4f}"
        lines.append(
            f"| {row['method']} | {row['test_acc']:.4f} | {valid} | {row['train_s']:.0f} | "
            f"{row['choice']} | {row['notes']} |"
        )
    return "\n".join(lines)


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--data", type=Path, required=True, help="data directory (with test.csv)")
    parser.add_argument("--out", type=Path, help="write the figures here as JSON")
    parser.add_argument("--epochs", type=int, default=2, help="fine-tuning epochs (default: 2)")
    parser.add_argument(
        "--max-steps",
        type=int,
        default=100,
        help="cap on steps per fine-tuning epoch; 0: whole epochs (default: 100)",
    )
    parser.add_argument(
        "--batch-size", type=int, default=32, help="triplets per step (default: 32)"
    )
    parser.add_argument(
        "--setfit-max-steps",
        type=int,
        default=0,
        help="SetFit's step cap (default: the same number of encoded texts as fine-tuning)",
    )
    parser.add_argument("--seed", type=int, default=0, help="random seed")
    parser.add_argument(
        "--skip", help=f"comma-separated methods to leave out, of: {', '.join(METHODS)}"
    )
    parser.add_argument("--quiet", action="store_true", help="no progress bars")
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(name)s: %(message)s")
    result = run(args)
    text = table(result)
    print(text, flush=True)
    if args.out:
        args.out.parent.mkdir(parents=True, exist_ok=True)
        args.out.write_text(json.dumps(result, indent=2, default=str) + "\n", encoding="utf-8")
        args.out.with_suffix(".md").write_text(text + "\n", encoding="utf-8")
    return 0


if __name__ == "__main__":
    sys.exit(main())
