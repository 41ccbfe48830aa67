"""Fine-tuning a sentence-transformer on triplets with MultipleNegativesRankingLoss.

sentence-transformers' `SentenceTransformerTrainer` runs the loop (optimizer, schedule,
clipping, device placement: the GPU when there is one); this module adds what it lacks:
batches composed so that no batch holds two anchors of one part, or a negative of an
anchor's own part (otherwise in-batch negatives would push apart texts that mean the same
part - with 77 intents and batches of 32 that happens in most batches), and epochs that are
timed and can be capped in steps, which keeps training practical on a 2-core CPU. The
trainer-side pieces are in `indexer.training.st_trainer`, imported only when training starts.
"""

from __future__ import annotations

import functools
import logging
import tempfile
import time
from collections.abc import Sequence
from dataclasses import asdict, dataclass, field
from typing import TYPE_CHECKING, Any

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
        """Fine-tunes `model` in place; returns what was done and how long each epoch took.

        Trains on the GPU when there is one, and hands the model back on the device it came on.
        """
        config = self.config
        started = time.perf_counter()
        if config.epochs <= 0 or not examples:
            return TrainReport(len(examples), 0, 0, config.batch_size)

        import torch
        from datasets import Dataset
        from sentence_transformers import SentenceTransformerTrainingArguments
        from transformers import PrinterCallback, ProgressCallback

        from indexer.training.st_trainer import (
            LENGTH_CHUNK,
            EpochMeter,
            LengthSortedLoss,
            PartDisjointBatchSampler,
            PartmatchTrainer,
        )

        sampler = PartDisjointBatchSampler(
            examples, config.batch_size, config.epochs, config.max_steps_per_epoch, config.seed
        )
        if sampler.capped:
            log.info(
                "epochs capped at %d of %d steps", sampler.epoch_steps(0), sampler.full_epoch_steps
            )
        report = functools.partial(
            TrainReport,
            examples=len(examples),
            epochs=config.epochs,
            batch_size=config.batch_size,
            examples_per_epoch=sampler.examples_per_epoch,
            full_epoch_steps=sampler.full_epoch_steps,
            capped=sampler.capped,
        )
        if sampler.steps == 0:
            return report(steps=0, seconds=round(time.perf_counter() - started, 2))

        # Column order is the loss's: anchor, positive, negative.
        dataset = Dataset.from_dict(
            {
                "anchor": [t.anchor for t in examples],
                "positive": [t.positive for t in examples],
                "negative": [t.negative for t in examples],
            }
        )
        cuda = torch.cuda.is_available()
        meter = EpochMeter(sampler, config.epochs, config.progress)
        frozen = _freeze(model) if config.freeze_embeddings else []
        device = model.device
        saved_length = model.max_seq_length
        model.max_seq_length = min(saved_length or config.max_seq_length, config.max_seq_length)
        try:
            with tempfile.TemporaryDirectory(prefix="partmatch-trainer-") as output_dir:
                args = SentenceTransformerTrainingArguments(
                    output_dir=output_dir,
                    num_train_epochs=config.epochs,
                    # Exactly the composed batches; max_steps also sizes the schedule.
                    max_steps=sampler.steps,
                    per_device_train_batch_size=config.batch_size,
                    learning_rate=config.learning_rate,
                    lr_scheduler_type="linear",
                    warmup_steps=int(sampler.steps * config.warmup_ratio),
                    weight_decay=config.weight_decay,
                    max_grad_norm=config.max_grad_norm,
                    seed=config.seed,
                    use_cpu=not cuda,
                    dataloader_pin_memory=cuda,
                    # Every step's loss reaches EpochMeter; nothing is saved or reported.
                    logging_strategy="steps",
                    logging_steps=1,
                    save_strategy="no",
                    eval_strategy="no",
                    report_to="none",
                    disable_tqdm=True,
                )
                trainer = PartmatchTrainer(
                    model=model,
                    args=args,
                    train_dataset=dataset,
                    loss=LengthSortedLoss(model, config.scale, LENGTH_CHUNK),
                    callbacks=[meter],
                    batch_sampler=sampler,
                )
                # EpochMeter draws the progress bars; the stock ones would print every log.
                trainer.remove_callback(PrinterCallback)
                trainer.remove_callback(ProgressCallback)
                trainer.train()
                steps = trainer.state.global_step
        finally:
            meter.close()
            model.eval()
            model.to(device)
            model.max_seq_length = saved_length
            for parameter in frozen:
                parameter.requires_grad_(True)
        if steps != sampler.steps:
            log.warning("trained %d steps of the %d composed", steps, sampler.steps)
        return report(
            steps=steps,
            epoch_seconds=meter.epoch_seconds,
            epoch_losses=meter.epoch_losses,
            epoch_cpu_seconds=meter.epoch_cpu_seconds,
            seconds=round(time.perf_counter() - started, 2),
        )


def _freeze(model: SentenceTransformer) -> list[Any]:
    frozen = []
    for name, parameter in model.named_parameters():
        if ".embeddings." in name and parameter.requires_grad:
            parameter.requires_grad_(False)
            frozen.append(parameter)
    return frozen
