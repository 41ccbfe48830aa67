"""The classification head: a linear softmax over sentence embeddings (as in SetFit).

Stored as plain arrays (npz), never pickles: a model directory is data, not code.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np

# The class of texts that name no part; a real SKU is never empty.
NO_PART = ""


@dataclass(frozen=True)
class Head:
    classes: np.ndarray  # str array; NO_PART for "names no part"
    coef: np.ndarray  # (n_classes, dim)
    intercept: np.ndarray  # (n_classes,)

    def predict_proba(self, vectors: np.ndarray) -> np.ndarray:
        logits = vectors @ self.coef.T + self.intercept
        logits -= logits.max(axis=1, keepdims=True)
        exp = np.exp(logits)
        probabilities: np.ndarray = exp / exp.sum(axis=1, keepdims=True)
        return probabilities

    def save(self, path: Path) -> None:
        np.savez(path, classes=self.classes.astype(str), coef=self.coef, intercept=self.intercept)

    @classmethod
    def load(cls, path: Path) -> Head:
        with np.load(path, allow_pickle=False) as data:
            head = cls(data["classes"], data["coef"], data["intercept"])
        if head.coef.shape[0] != len(head.classes) or head.intercept.shape != (len(head.classes),):
            raise ValueError(f"{path}: head arrays disagree on the number of classes")
        return head
