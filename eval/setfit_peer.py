"""SetFit (the `setfit` package) as the peer: same base model, its default recipe (contrastive
pairs + logistic-regression head), with a step cap so it runs on a 2-core CPU."""

from __future__ import annotations

import tempfile
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from matcher.examples import Example

# SetFit's default draws 20 pairs per text: 180,000 for Banking77, days on 2 CPU cores. The
# cap gives it about the compute of partmatch's own fine-tuning.
DEFAULT_MAX_STEPS = 100


@dataclass
class SetFitPeer:
    model: Any
    labels: list[str]  # class index -> SKU; "" for texts that name no part

    @classmethod
    def fit(
        cls,
        model_path: str,
        history: Sequence[Example],
        max_steps: int = DEFAULT_MAX_STEPS,
        batch_size: int = 16,
        seed: int = 0,
        progress: bool = True,
    ) -> SetFitPeer:
        from datasets import Dataset as HFDataset
        from setfit import SetFitModel, Trainer, TrainingArguments

        labels = sorted({e.sku or "" for e in history})
        index = {label: i for i, label in enumerate(labels)}
        model = SetFitModel.from_pretrained(model_path, device="cpu")
        with tempfile.TemporaryDirectory(prefix="setfit-") as out:
            args = TrainingArguments(
                output_dir=out,
                batch_size=batch_size,
                max_steps=max_steps,
                seed=seed,
                save_strategy="no",
                report_to="none",
                show_progress_bar=progress,
            )
            train_set = HFDataset.from_dict(
                {"text": [e.text for e in history], "label": [index[e.sku or ""] for e in history]}
            )
            Trainer(model=model, args=args, train_dataset=train_set).train()
        return cls(model, labels)

    def rank(self, text: str, k: int = 10) -> list[tuple[str, float]]:
        probabilities = np.asarray(self.model.predict_proba([text]))[0]
        order = np.argsort(-probabilities)
        ranked = [(self.labels[i], float(probabilities[i])) for i in order if self.labels[i]]
        return ranked[:k]
