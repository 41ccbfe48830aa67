"""The pieces `EncoderTrainer` plugs into sentence-transformers' `SentenceTransformerTrainer`.

Imported only when training starts: it pulls in `datasets`, `accelerate` and the
transformers Trainer, which `partmatch` needs for nothing else.

- `PartDisjointBatchSampler`: `compose_batches`' batches, epoch by epoch, as indices into
  the triplet dataset - the one thing the stock samplers cannot do (NO_DUPLICATES only
  keeps identical texts apart, not two texts of one part);
- `PartmatchTrainer`: the trainer with that sampler and without the model-card callback,
  which would otherwise copy training texts into the saved model's README;
- `LengthSortedLoss`: MultipleNegativesRankingLoss that embeds a batch's texts in chunks of
  similar length, so a short text is not padded to the longest of its column;
- `EpochMeter`: the per-epoch timings, losses and progress bars that `TrainReport` holds.
"""

from __future__ import annotations

import logging
import random
import time
from collections.abc import Iterator, Sequence
from typing import TYPE_CHECKING, Any

import numpy as np
import torch
from sentence_transformers import SentenceTransformerTrainer
from sentence_transformers.base.sampler import DefaultBatchSampler
from sentence_transformers.sentence_transformer.losses import MultipleNegativesRankingLoss
from tqdm.auto import tqdm
from transformers import TrainerCallback

from indexer.training.batches import compose_batches
from indexer.training.pairs import Triplet

if TYPE_CHECKING:
    from transformers import TrainerControl, TrainerState, TrainingArguments

log = logging.getLogger("indexer.training.trainer")

# Texts per forward pass in LengthSortedLoss. On 2 CPU cores, 20 steps of 32 banking77
# triplets took 2.19 s a step with the stock loss, 1.52 s in chunks of 32 and 1.24 s in
# chunks of 16 or 8: below 16 the padding saved no longer pays for the extra passes.
LENGTH_CHUNK = 16


class PartDisjointBatchSampler(DefaultBatchSampler):
    """Batches in which no anchor meets another text of its own part as a negative.

    Every epoch's batches are drawn up front, from one generator seeded with `seed`: the
    trainer needs the exact number of steps for its learning-rate schedule, and the draw is
    the same whichever process or device trains. An epoch capped at `max_steps_per_epoch`
    keeps its first batches.
    """

    def __init__(
        self,
        triplets: Sequence[Triplet],
        batch_size: int,
        epochs: int,
        max_steps_per_epoch: int | None = None,
        seed: int = 0,
    ) -> None:
        super().__init__(range(len(triplets)), batch_size=batch_size, drop_last=False, seed=seed)
        rng = random.Random(seed)
        plans = [compose_batches(triplets, batch_size, rng) for _ in range(max(1, epochs))]
        self.full_epoch_steps = len(plans[0])
        if max_steps_per_epoch is not None:
            plans = [plan[:max_steps_per_epoch] for plan in plans]
        # compose_batches returns the very objects it was given: identity finds each row.
        row = {id(t): i for i, t in enumerate(triplets)}
        self.plans = [[[row[id(t)] for t in batch] for batch in plan] for plan in plans]
        self.capped = len(self.plans[0]) < self.full_epoch_steps
        self.examples_per_epoch = sum(len(b) for b in self.plans[0])

    @property
    def steps(self) -> int:
        """Optimizer steps over all epochs."""
        return sum(len(plan) for plan in self.plans)

    def epoch_steps(self, epoch: int) -> int:
        return len(self.plans[epoch % len(self.plans)])

    def __iter__(self) -> Iterator[list[int]]:
        return iter(self.plans[self.epoch % len(self.plans)])

    def __len__(self) -> int:
        # First-fit packing can make one epoch a batch longer than another. The trainer
        # sizes every epoch by this length and stops at `steps` (its max_steps): a shorter
        # epoch simply ends early, and no epoch loses batches.
        return max(len(plan) for plan in self.plans)


class PartmatchTrainer(SentenceTransformerTrainer):
    """SentenceTransformerTrainer with a given batch sampler and no model-card bookkeeping."""

    def __init__(self, *args: Any, batch_sampler: PartDisjointBatchSampler, **kwargs: Any) -> None:
        self.part_batch_sampler = batch_sampler
        super().__init__(*args, **kwargs)

    def get_batch_sampler(self, *args: Any, **kwargs: Any) -> PartDisjointBatchSampler:
        return self.part_batch_sampler

    def add_model_card_callback(self, default_args_dict: dict[str, Any]) -> None:
        # It would record sample training texts (customer wording) as the card's widget
        # examples, written into every saved model's README.
        return None


class LengthSortedLoss(MultipleNegativesRankingLoss):
    """MultipleNegativesRankingLoss over embeddings computed in chunks of similar length.

    The stock loss runs a column per forward pass, padded to its longest text; with a long
    tail of customer texts, a batch of 32 pays for its one chatty message 32 times over (on
    banking77, 35 padded tokens a text where the median text has 13). Embedding all columns'
    texts sorted by length, `chunk` at a time, computes the same vectors from far fewer
    tokens: each text's vector depends on its own tokens alone.
    """

    def __init__(self, model: Any, scale: float, chunk: int) -> None:
        super().__init__(model, scale=scale)
        self.chunk = chunk

    def forward(self, sentence_features: Any, labels: torch.Tensor) -> torch.Tensor:
        if getattr(self.model.tokenizer, "padding_side", "right") != "right":
            # Cutting rows to their length below assumes padding at the end.
            return super().forward(sentence_features, labels)
        columns = list(sentence_features)
        return self.compute_loss_from_embeddings(self.embed_by_length(columns), labels)

    def embed_by_length(self, columns: Sequence[dict[str, torch.Tensor]]) -> list[torch.Tensor]:
        width = max(int(c["input_ids"].shape[1]) for c in columns)
        # Padded on the right, a row cut to any width at or above its own length keeps all
        # its tokens; the zeros added here are masked out like the tokenizer's own padding.
        merged = {
            key: torch.cat(
                [
                    torch.nn.functional.pad(c[key], (0, width - int(c[key].shape[1])))
                    for c in columns
                ]
            )
            for key in columns[0]
            if isinstance(columns[0][key], torch.Tensor) and columns[0][key].dim() == 2
        }
        lengths = merged["attention_mask"].sum(dim=1)
        order = torch.argsort(lengths, stable=True)
        pieces = []
        for start in range(0, len(order), self.chunk):
            rows = order[start : start + self.chunk]
            cut = int(lengths[rows].max())
            features = {key: value[rows, :cut] for key, value in merged.items()}
            pieces.append(self.model(features)["sentence_embedding"])
        embeddings = torch.cat(pieces)[torch.argsort(order)]
        return list(embeddings.split([int(c["input_ids"].shape[0]) for c in columns]))


class EpochMeter(TrainerCallback):
    """Wall and CPU seconds, mean loss and a progress bar per epoch; needs logging_steps=1."""

    def __init__(self, sampler: PartDisjointBatchSampler, epochs: int, progress: bool) -> None:
        self.sampler = sampler
        self.epochs = epochs
        self.progress = progress
        self.epoch_seconds: list[float] = []
        self.epoch_cpu_seconds: list[float] = []
        self.epoch_losses: list[float] = []
        self._losses: list[float] = []
        self._bar: Any = None
        self._wall = self._cpu = 0.0

    def on_epoch_begin(
        self, args: TrainingArguments, state: TrainerState, control: TrainerControl, **kw: Any
    ) -> None:
        epoch = len(self.epoch_seconds)
        self._losses = []
        self._bar = tqdm(
            total=self.sampler.epoch_steps(epoch),
            desc=f"epoch {epoch + 1}/{self.epochs}",
            unit="step",
            disable=not self.progress,
        )
        self._wall, self._cpu = time.perf_counter(), time.process_time()

    def on_log(
        self,
        args: TrainingArguments,
        state: TrainerState,
        control: TrainerControl,
        logs: dict[str, float] | None = None,
        **kw: Any,
    ) -> None:
        if logs and "loss" in logs and self._bar is not None:
            self._losses.append(float(logs["loss"]))
            self._bar.update(1)
            self._bar.set_postfix(loss=f"{np.mean(self._losses[-20:]):.4f}")

    def on_epoch_end(
        self, args: TrainingArguments, state: TrainerState, control: TrainerControl, **kw: Any
    ) -> None:
        self.close()
        self.epoch_seconds.append(round(time.perf_counter() - self._wall, 2))
        self.epoch_cpu_seconds.append(round(time.process_time() - self._cpu, 2))
        losses = self._losses
        self.epoch_losses.append(round(float(np.mean(losses)) if losses else 0.0, 5))
        log.info(
            "epoch %d/%d: %d steps, mean loss %.4f, %.1f s (%.1f s CPU)",
            len(self.epoch_seconds),
            self.epochs,
            len(losses),
            self.epoch_losses[-1],
            self.epoch_seconds[-1],
            self.epoch_cpu_seconds[-1],
        )

    def close(self) -> None:
        if self._bar is not None:
            self._bar.close()
            self._bar = None
