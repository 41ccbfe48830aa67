"""Fitting the classification head on embeddings of labelled history."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
from sklearn.linear_model import LogisticRegression

from matcher.head import NO_PART, Head


def fit_head(
    vectors: np.ndarray, skus: Sequence[str | None], c: float = 10.0, seed: int = 0
) -> Head:
    """Multinomial logistic regression; texts that name no part form a class of their own."""
    labels = np.asarray([s or NO_PART for s in skus], dtype=str)
    classes = np.unique(labels)
    if len(classes) < 2:
        raise ValueError("the head needs labelled texts of at least two classes")
    model = LogisticRegression(C=c, max_iter=2000, random_state=seed)
    model.fit(vectors, labels)
    return Head(
        classes=np.asarray(model.classes_, dtype=str),
        coef=model.coef_.astype(np.float32),
        intercept=model.intercept_.astype(np.float32),
    )
