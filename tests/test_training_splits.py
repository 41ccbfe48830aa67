"""What each text is used for in training: the encoder never trains on the texts the fusion
learns from, and the gate grades each validation text with a fit that did not see it."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

import pytest

from indexer import train as train_module
from indexer.train import FUSION_SHARE, GATE_SHARE, split_by_hash, train
from indexer.training.pairs import Triplet
from matcher.config import Settings
from matcher.examples import Example
from matcher.registry import open_version
from tests.conftest import tiny_catalog
from tests.test_training import make_splits, quick, write_data

pytestmark = pytest.mark.slow


def test_hash_splits_are_stable_disjoint_and_independent() -> None:
    examples = [Example(f"text number {i}", "SKU") for i in range(2000)]
    rest, taken = split_by_hash(examples, seed=0, share=0.2, purpose="fusion")
    assert len(rest) + len(taken) == len(examples)
    assert not {e.text for e in rest} & {e.text for e in taken}
    assert 0.17 < len(taken) / len(examples) < 0.23
    # A text stays on its side when the data grows around it.
    _, grown_taken = split_by_hash([*examples, Example("new", "S")], 0, 0.2, "fusion")
    assert {e.text for e in taken} <= {e.text for e in grown_taken}
    # Another purpose draws another sample, not the same texts again.
    _, gate = split_by_hash(examples, seed=0, share=0.2, purpose="gate")
    overlap = len({e.text for e in gate} & {e.text for e in taken}) / len(taken)
    assert overlap < 0.35


def test_fusion_texts_stay_out_of_fine_tuning_and_the_gate_grades_cross_fitted_halves(
    settings: Settings, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    splits = make_splits()
    data = write_data(tmp_path / "data", tiny_catalog(), splits)
    trained_on: list[str] = []
    fitted_on: list[str] = []
    first_half: list[str] = []
    real_trainer = train_module.EncoderTrainer
    real_fit = train_module._fit_fusion

    # Spies that record and pass everything through to the real trainer and fusion fit.
    class RecordingTrainer(real_trainer):  # type: ignore[misc, valid-type]
        def train(self, model: object, triplets: Sequence[Triplet]) -> object:
            trained_on.extend(text for t in triplets for text in (t.anchor, t.positive, t.negative))
            return super().train(model, triplets)

    def recording_fit(*args: object, **kwargs: object) -> object:
        valid = args[2].valid  # type: ignore[attr-defined]
        fitted_on.extend(e.text for e in valid)
        first_half.extend(e.text for e, first in zip(valid, args[4], strict=True) if first)  # type: ignore[call-overload]
        return real_fit(*args, **kwargs)  # type: ignore[arg-type]

    monkeypatch.setattr(train_module, "EncoderTrainer", RecordingTrainer)
    monkeypatch.setattr(train_module, "_fit_fusion", recording_fit)
    result = train(settings, data, epochs=1, progress=False, trainer_config=quick(2))

    _, fusion_texts = split_by_hash(splits["history"], 0, FUSION_SHARE, purpose="fusion")
    second_half, first = split_by_hash(splits["valid"], 0, GATE_SHARE, purpose="gate")
    assert fusion_texts and trained_on
    assert not {e.text for e in fusion_texts} & set(trained_on)
    # The deployed calibration and thresholds are fitted on all of valid; the figures grade
    # each hash-chosen half with a fit on the other (indexer.fusion_training.cross_fitted).
    assert set(fitted_on) == {e.text for e in splits["valid"]}
    assert set(first_half) == {e.text for e in first} and second_half
    meta = open_version(settings.models_dir, result.version).metadata
    assert meta["data"]["fusion_rows"] == len(fusion_texts)
    assert meta["data"]["gate_rows"] == meta["metrics"]["texts"] == len(splits["valid"])
    assert meta["metrics"]["graded"] == "cross-fitted"
