"""The encoder on ONNX Runtime: the export of the real base model gives PyTorch's vectors, the
int8 variant keeps its own cache key, and the runtime setting is honoured or refused clearly."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import numpy as np
import pytest

from indexer.encoder_export import export_encoder
from matcher.app import load_encoder, open_encoder
from matcher.config import ConfigError, Settings
from matcher.embedding_cache import write_cache
from matcher.encoder import Encoder, model_fingerprint
from matcher.onnx_encoder import export_dir, has_export
from matcher.registry import ModelError

TEXTS = [
    "rear brake pads for a 2012 golf",
    "alternater",
    "",
    "Bonnet latch, BMW F30 320d — offside please!",
    "1K0 698 451 J",
    # Past the model's 256 tokens: truncated the same way on both runtimes.
    "front wing mirror glass heated " * 80,
]


@pytest.fixture(scope="module")
def exported(tmp_path_factory: pytest.TempPathFactory, base_settings: Settings) -> Settings:
    state = tmp_path_factory.mktemp("onnx-state")
    assert export_encoder(state, base_settings.model_path) is not None
    return Settings.from_env(state_dir=state)


def on(settings: Settings, runtime: str) -> Encoder:
    return open_encoder(
        Settings.from_env(state_dir=settings.state_dir, encoder_runtime=runtime),
        settings.model_path,
    )


def test_the_export_gives_pytorchs_vectors(exported: Settings, encoder: Encoder) -> None:
    onnx = on(exported, "onnx")
    assert onnx.runtime == "onnx"
    assert onnx.fingerprint == encoder.fingerprint  # the same vectors: one cache serves both
    got = onnx.encode(TEXTS, remember=False)
    want = encoder.encode(TEXTS, remember=False)
    assert got.dtype == np.float32 and got.shape == want.shape
    np.testing.assert_allclose(np.linalg.norm(got, axis=1), 1.0, atol=1e-5)
    assert float((got * want).sum(axis=1).min()) > 0.9999


def test_int8_is_close_but_keeps_its_own_cache_key(exported: Settings, encoder: Encoder) -> None:
    int8 = on(exported, "onnx-int8")
    assert int8.runtime == "onnx-int8"
    assert int8.fingerprint != encoder.fingerprint
    cosines = (int8.encode(TEXTS, remember=False) * encoder.encode(TEXTS, remember=False)).sum(1)
    assert float(cosines.min()) > 0.95, cosines


def test_concurrent_queries_on_onnx_get_their_own_vectors(exported: Settings) -> None:
    onnx = on(exported, "onnx")
    alone = {text: onnx.encode([text], remember=False)[0] for text in TEXTS[:4]}
    onnx.forget_queries()
    for text, vector in alone.items():
        np.testing.assert_allclose(onnx.encode_query(text), vector, atol=1e-5)


def test_auto_runs_torch_without_an_export_and_int8_with_one(
    exported: Settings, tmp_path: Path
) -> None:
    bare = Settings.from_env(state_dir=tmp_path)
    assert open_encoder(bare, bare.model_path).runtime == "torch"
    assert on(exported, "auto").runtime == "onnx-int8"
    assert on(exported, "onnx").runtime == "onnx"
    assert on(exported, "torch").runtime == "torch"


def test_auto_serves_fp32_where_a_state_holds_only_fp32_vectors(
    exported: Settings, tmp_path: Path
) -> None:
    # A state indexed before int8 became the default: the server would otherwise encode the
    # whole catalog at every start. `partmatch index` (which opens int8) moves it on.
    state = tmp_path / "state"
    shutil.copytree(exported.state_dir, state)
    settings = Settings.from_env(state_dir=state)
    assert load_encoder(settings).runtime == "onnx-int8"  # nothing cached: the default
    vector = {"brake pads": np.ones(384, dtype=np.float32)}
    write_cache(state, model_fingerprint(settings.model_path), vector)
    assert load_encoder(settings).runtime == "onnx"
    assert open_encoder(settings, settings.model_path).runtime == "onnx-int8"
    write_cache(state, model_fingerprint(settings.model_path) + "-int8", vector)
    assert load_encoder(settings).runtime == "onnx-int8"


def test_a_required_export_that_is_missing_is_refused_by_name(tmp_path: Path) -> None:
    settings = Settings.from_env(state_dir=tmp_path, encoder_runtime="onnx")
    with pytest.raises(ModelError, match=r"PARTMATCH_ENCODER_RUNTIME=onnx.*no ONNX export"):
        open_encoder(settings, settings.model_path)


def test_an_unknown_runtime_is_a_configuration_error() -> None:
    with pytest.raises(ConfigError, match="PARTMATCH_ENCODER_RUNTIME: one of auto, onnx"):
        Settings.from_env(encoder_runtime="tensorrt")


def test_training_needs_the_pytorch_model(exported: Settings) -> None:
    with pytest.raises(TypeError, match="runs an ONNX export"):
        _ = on(exported, "onnx").model


def test_a_model_pooled_otherwise_is_not_exported(base_settings: Settings, tmp_path: Path) -> None:
    model = tmp_path / "cls-model"
    shutil.copytree(base_settings.model_path, model)
    pooling = model / "1_Pooling" / "config.json"
    config = json.loads(pooling.read_text())
    config.update(pooling_mode_mean_tokens=False, pooling_mode_cls_token=True)
    pooling.write_text(json.dumps(config))
    state = tmp_path / "state"

    assert export_encoder(state, model) is None
    assert not has_export(state, model_fingerprint(model))
    assert not export_dir(state, model_fingerprint(model)).exists()
