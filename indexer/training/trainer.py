"""Fine-tuning a sentence-transformer on triplets with MultipleNegativesRankingLoss.

A plain PyTorch loop rather than SentenceTransformerTrainer, for two reasons that matter
here: batches are composed so that no batch holds two anchors of one part, or a negative of
an anchor's own part (otherwise in-batch negatives would push apart texts that mean the same
part - with 77 intents and batches of 32 that happens in most batches), and each epoch is
timed and can be capped in steps, which keeps training practical on a 2-core CPU.
"""

from __future__ import annotations

import logging
import random
import time
from collections.abc import Sequence
from dataclasses import asdict, dataclass, field
from typing import TYPE_CHECKING, Any

import numpy as np

from indexer.training.pairs import Triplet

if TYPE_CHECKING:
    from sentence_transformers import SentenceTransformer

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class TrainerConfig:
    epochs: int = 1
    # On 2 CPU cores a step of 32 triplets (96 short texts) takes about a second; larger
    # batches give more in-batch negatives but fewer updates per minute.
    batch_size: int = 32
    learning_rate: float = 2e-5
    warmup_ratio: float = 0.1
    weight_decay: float = 0.01
    # Inverse temperature of the loss; sentence-transformers' default.
    scale: float = 20.0
    max_grad_norm: float = 1.0
    # Customer texts are short; catalog texts are cut here during training only (the saved
    # model keeps its own limit), since attention cost grows with the square of the length.
    max_seq_length: int = 128
    # The token embeddings are half of MiniLM's weights; freezing them makes a CPU step
    # cheaper and protects the vocabulary from drifting on a few thousand texts.
    freeze_embeddings: bool = True
    # Caps each epoch on large data; None trains on every batch.
    max_steps_per_epoch: int | None = None
    seed: int = 0
    progress: bool = True


@dataclass(frozen=True)
class TrainReport:
    examples: int
    epochs: int
    steps: int
    batch_size: int
    epoch_seconds: list[float] = field(default_factory=list)
    epoch_losses: list[float] = field(default_factory=list)
    # Process CPU seconds per epoch (all threads): on a shared machine, wall time measures
    # the neighbours too, while CPU time / cores approximates a dedicated machine's wall time.
    epoch_cpu_seconds: list[float] = field(default_factory=list)
    # Triplets seen per epoch; fewer than `examples` when the epoch was capped.
    examples_per_epoch: int = 0
    # Steps an uncapped epoch has: with epoch_seconds, what a whole epoch would cost.
    full_epoch_steps: int = 0
    capped: bool = False
    seconds: float = 0.0

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


class EncoderTrainer:
    def __init__(self, config: TrainerConfig | None = None) -> None:
        self.config = config or TrainerConfig()

    def train(self, model: SentenceTransformer, examples: Sequence[Triplet]) -> TrainReport:
        """Fine-tunes `model` in place; returns what was done and how long each epoch took."""
        import torch
        from sentence_transformers.sentence_transformer.losses import (
            MultipleNegativesRankingLoss,
        )
        from tqdm.auto import tqdm
        from transformers import get_linear_schedule_with_warmup

        config = self.config
        started = time.perf_counter()
        if config.epochs <= 0 or not examples:
            return TrainReport(len(examples), 0, 0, config.batch_size)
        _seed_everything(config.seed)
        rng = random.Random(config.seed)

        plans = [compose_batches(examples, config.batch_size, rng) for _ in range(config.epochs)]
        full_steps = len(plans[0])
        if config.max_steps_per_epoch is not None:
            plans = [plan[: config.max_steps_per_epoch] for plan in plans]
        capped = len(plans[0]) < full_steps
        if capped:
            log.info("epochs capped at %d of %d steps", len(plans[0]), full_steps)
        total_steps = sum(len(p) for p in plans)

        loss_fn = MultipleNegativesRankingLoss(model, scale=config.scale)
        frozen = _freeze(model) if config.freeze_embeddings else []
        no_decay = ("bias", "LayerNorm.weight", "LayerNorm.bias")
        named = [(n, p) for n, p in model.named_parameters() if p.requires_grad]
        optimizer = torch.optim.AdamW(
            [
                {
                    "params": [p for n, p in named if not any(k in n for k in no_decay)],
                    "weight_decay": config.weight_decay,
                },
                {
                    "params": [p for n, p in named if any(k in n for k in no_decay)],
                    "weight_decay": 0.0,
                },
            ],
            lr=config.learning_rate,
        )
        scheduler = get_linear_schedule_with_warmup(
            optimizer, int(total_steps * config.warmup_ratio), total_steps
        )

        saved_length = model.max_seq_length
        model.max_seq_length = min(saved_length or config.max_seq_length, config.max_seq_length)
        epoch_seconds: list[float] = []
        epoch_cpu_seconds: list[float] = []
        epoch_losses: list[float] = []
        steps = 0
        model.train()
        try:
            for epoch, plan in enumerate(plans, start=1):
                epoch_start = time.perf_counter()
                cpu_start = time.process_time()
                losses: list[float] = []
                bar = tqdm(
                    plan,
                    desc=f"epoch {epoch}/{config.epochs}",
                    unit="step",
                    disable=not config.progress,
                )
                for batch in bar:
                    columns = [
                        [t.anchor for t in batch],
                        [t.positive for t in batch],
                        [t.negative for t in batch],
                    ]
                    features = [_to_device(model.preprocess(c), model.device) for c in columns]
                    loss = loss_fn(features, torch.zeros(len(batch), device=model.device))
                    optimizer.zero_grad(set_to_none=True)
                    loss.backward()
                    torch.nn.utils.clip_grad_norm_(
                        [p for _, p in named], config.max_grad_norm
                    )
                    optimizer.step()
                    scheduler.step()
                    steps += 1
                    losses.append(float(loss.detach()))
                    bar.set_postfix(loss=f"{np.mean(losses[-20:]):.4f}")
                bar.close()
                epoch_seconds.append(round(time.perf_counter() - epoch_start, 2))
                epoch_cpu_seconds.append(round(time.process_time() - cpu_start, 2))
                epoch_losses.append(round(float(np.mean(losses)) if losses else 0.0, 5))
                log.info(
                    "epoch %d/%d: %d steps, mean loss %.4f, %.1f s (%.1f s CPU)",
                    epoch,
                    config.epochs,
                    len(plan),
                    epoch_losses[-1],
                    epoch_seconds[-1],
                    epoch_cpu_seconds[-1],
                )
        finally:
            model.eval()
            model.max_seq_length = saved_length
            for parameter in frozen:
                parameter.requires_grad_(True)
        return TrainReport(
            examples=len(examples),
            epochs=config.epochs,
            steps=steps,
            batch_size=config.batch_size,
            epoch_seconds=epoch_seconds,
            epoch_losses=epoch_losses,
            epoch_cpu_seconds=epoch_cpu_seconds,
            examples_per_epoch=sum(len(b) for b in plans[0]),
            full_epoch_steps=full_steps,
            capped=capped,
            seconds=round(time.perf_counter() - started, 2),
        )


def compose_batches(
    examples: Sequence[Triplet], batch_size: int, rng: random.Random
) -> list[list[Triplet]]:
    """Shuffled batches in which every anchor's in-batch negatives are truly other parts.

    MultipleNegativesRankingLoss scores each anchor against every positive and negative in
    the batch; a second anchor of the same part, or another triplet's negative drawn from
    the anchor's part, would be scored as a wrong answer. Triplets are placed first-fit
    into open batches that have room and no such clash; on a catalog with few parts,
    batches come out smaller than `batch_size` rather than wrong.

    Each batch holds one kind of triplet: a column is padded to its longest text, and a
    single catalog description among short customer texts would make the whole column
    pay for its length.
    """
    order = list(examples)
    rng.shuffle(order)
    batches: list[list[Triplet]] = []
    for kind in sorted({t.kind for t in order}):
        batches.extend(_pack([t for t in order if t.kind == kind], batch_size))
    # Interleave kinds and leftover batches, so neither comes all at the end.
    rng.shuffle(batches)
    return batches


def _pack(order: Sequence[Triplet], batch_size: int) -> list[list[Triplet]]:
    batches: list[list[Triplet]] = []
    open_batches: list[tuple[list[Triplet], set[str], set[str]]] = []
    for triplet in order:
        for members, anchor_skus, negative_skus in open_batches:
            if (
                triplet.sku not in anchor_skus
                and triplet.sku not in negative_skus
                and triplet.negative_sku not in anchor_skus
            ):
                members.append(triplet)
                anchor_skus.add(triplet.sku)
                negative_skus.add(triplet.negative_sku)
                break
        else:
            open_batches.append(([triplet], {triplet.sku}, {triplet.negative_sku}))
        # A full batch leaves the open list at once, keeping the first-fit scan short.
        full = [b for b in open_batches if len(b[0]) >= batch_size]
        if full:
            batches.extend(b[0] for b in full)
            open_batches = [b for b in open_batches if len(b[0]) < batch_size]
    batches.extend(b[0] for b in open_batches)
    return batches


def _freeze(model: SentenceTransformer) -> list[Any]:
    frozen = []
    for name, parameter in model.named_parameters():
        if ".embeddings." in name and parameter.requires_grad:
            parameter.requires_grad_(False)
            frozen.append(parameter)
    return frozen


def _seed_everything(seed: int) -> None:
    import torch

    random.seed(seed)
    np.random.seed(seed)
    torch.manual_seed(seed)


def _to_device(features: dict[str, Any], device: Any) -> dict[str, Any]:
    return {k: v.to(device) if hasattr(v, "to") else v for k, v in features.items()}
