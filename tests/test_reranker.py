"""The reranker: which candidates it scores, that training teaches it the pairs, that its
int8 export answers as the trained model does, and that a version trained with one serves it."""

from __future__ import annotations

import random
from pathlib import Path

import numpy as np
import pytest

from indexer.reranker_export import export_reranker
from indexer.train import train
from indexer.training.reranker_trainer import (
    RerankerConfig,
    RerankerTrainer,
    RerankGroup,
    base_reranker,
)
from matcher.app import build_matcher
from matcher.config import Settings
from matcher.registry import open_version
from matcher.reranker import RERANK, Reranker, rerank_text, shortlist
from matcher.signals.base import Hit
from tests.conftest import tiny_catalog
from tests.test_training import WORDINGS, make_splits, quick, write_data


def test_the_shortlist_takes_every_signals_best_before_anyones_second() -> None:
    hits = {
        "lexical": [Hit("A", 0.9), Hit("B", 0.8), Hit("C", 0.7), Hit("D", 0.6)],
        "semantic": [Hit("E", 0.9), Hit("A", 0.8), Hit("F", 0.7)],
        "code": [],
    }
    assert shortlist(hits) == ["A", "E", "B", "C", "F"]
    assert shortlist(hits, depth=3) == ["A", "E", "B"]
    # D is only lexical's fourth: no signal puts it among its first three.
    assert "D" not in shortlist(hits, depth=100)


def _groups(rng: random.Random) -> list[RerankGroup]:
    parts = {p.sku: p for p in tiny_catalog()}
    groups = []
    for sku, wordings in WORDINGS.items():
        others = [s for s in WORDINGS if s != sku]
        for wording in wordings:
            negatives = tuple(rerank_text(parts[s]) for s in rng.sample(others, 3))
            groups.append(RerankGroup(wording, rerank_text(parts[sku]), negatives))
    return groups


def _first_right(scores: list[np.ndarray]) -> float:
    """Share of groups whose positive (scored first) scores highest."""
    return float(np.mean([int(np.argmax(s)) == 0 for s in scores]))


@pytest.mark.slow
def test_training_teaches_the_pairs_and_the_export_answers_as_the_model(
    base_settings: Settings, tmp_path: Path
) -> None:
    import torch

    groups = _groups(random.Random(4))
    model, tokenizer = base_reranker(base_settings.model_path, seed=0)

    def torch_scores() -> list[np.ndarray]:
        out = []
        with torch.no_grad():
            for g in groups:
                candidates = [g.positive, *g.negatives]
                inputs = tokenizer(
                    [g.query] * len(candidates), candidates, padding=True, return_tensors="pt"
                )
                out.append(torch.sigmoid(model(**inputs).logits.squeeze(-1)).numpy())
        return out

    model.eval()
    before = _first_right(torch_scores())
    config = RerankerConfig(
        steps=len(groups) * 4 // 6, texts_per_step=6, learning_rate=1e-4, progress=False
    )
    rng = random.Random(5)
    epochs = [rng.sample(groups, len(groups)) for _ in range(4)]
    report = RerankerTrainer(config).train(model, tokenizer, [g for e in epochs for g in e])
    after_scores = torch_scores()
    after = _first_right(after_scores)
    # 36 groups of four: chance picks the positive a quarter of the time, the untrained model
    # 0.11-0.33 of it (over head seeds 0-4), the trained one 0.92-0.97.
    assert after >= 0.8 and after > before, (before, after)
    assert report.last_loss < report.first_loss

    export_reranker(model, tokenizer, tmp_path / "reranker", config.max_length)
    served = Reranker(tmp_path / "reranker")
    served_scores = [served.score(g.query, [g.positive, *g.negatives]) for g in groups]
    # Weights in int8 move the scores a little, not the choice.
    agree = np.mean(
        [np.argmax(a) == np.argmax(b) for a, b in zip(after_scores, served_scores, strict=True)]
    )
    assert agree >= 0.9, agree
    assert all(((s >= 0) & (s <= 1)).all() for s in served_scores)


@pytest.mark.slow
def test_a_version_trained_with_a_reranker_serves_it(settings: Settings, tmp_path: Path) -> None:
    data = write_data(tmp_path / "data", tiny_catalog(), make_splits())
    result = train(
        settings,
        data,
        epochs=1,
        progress=False,
        trainer_config=quick(max_steps=2),
        reranker_config=RerankerConfig(steps=3, texts_per_step=4, progress=False),
    )
    model = open_version(settings.models_dir, result.version)
    assert result.reranker_report is not None and result.reranker_report.steps == 3
    assert model.metadata["reranker_report"]["steps"] == 3
    # Part of the version: covered by its checksums like every other file.
    assert "reranker/model-int8.onnx" in model.metadata["files"]
    parts = tiny_catalog()
    matcher = build_matcher(settings, parts, make_splits()["history"], model=model)
    try:
        assert matcher.reranker is not None
        result_ = matcher.match("pads for the front brakes on my golf", top_k=5)
        scored = [c for c in result_.candidates if RERANK in c.signals]
        assert scored, "no candidate was reranked"
        assert all(0.0 <= c.signals[RERANK] <= 1.0 for c in scored)
        shortlisted = set(matcher.shortlist("pads for the front brakes on my golf"))
        assert {c.sku for c in scored} <= shortlisted
    finally:
        matcher.close()
