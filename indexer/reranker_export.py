"""Export a trained cross-encoder to ONNX, weights quantised to int8, for the online path.

`partmatch train` writes the export into the model version it registers (`reranker/`), so a
version is served whole: the server only reads it (matcher/reranker.py).
"""

from __future__ import annotations

import shutil
import tempfile
import warnings
from pathlib import Path
from typing import Any

from indexer.encoder_export import OPSET, positional, quantise
from matcher.reranker import META_FILE, MODEL_FILE, TOKENIZER_FILE, RerankerInfo


def export_reranker(model: Any, tokenizer: Any, out: Path, max_length: int) -> None:
    """Writes `model` (a transformers sequence-classification model with one label) and its
    fast tokenizer to the directory `out`, which must not exist."""
    import torch

    backend = getattr(tokenizer, "backend_tokenizer", None)
    if backend is None:
        raise ValueError("the reranker's tokenizer has no fast (tokenizers) form")
    sample = tokenizer(
        ["rear brake pads", "bonnet latch"],
        ["Rear Brake Pad Set | brake pad kit", "Bonnet Release Catch"],
        padding=True,
    )
    inputs = tuple(
        name
        for name in ("input_ids", "attention_mask", "token_type_ids")
        if name in sample and name in tokenizer.model_input_names
    )
    network = positional(model.eval(), inputs, "logits")
    tensors = tuple(torch.tensor(sample[name]) for name in inputs)
    axes: dict[str, dict[int, str]] = {name: {0: "pairs", 1: "tokens"} for name in inputs}
    axes["logits"] = {0: "pairs"}
    with tempfile.TemporaryDirectory(prefix="partmatch-reranker-") as work:
        fp32 = Path(work) / "model.onnx"
        with warnings.catch_warnings(), torch.no_grad():
            warnings.simplefilter("ignore")  # tracer notes on the model's own shape checks
            torch.onnx.export(
                network,
                tensors,
                str(fp32),
                input_names=list(inputs),
                output_names=["logits"],
                dynamic_axes=axes,
                opset_version=OPSET,
                dynamo=False,
            )
        out.mkdir(parents=True)
        try:
            quantise(fp32, out / MODEL_FILE)
            backend.save(str(out / TOKENIZER_FILE))
            info = RerankerInfo(
                inputs=inputs,
                max_length=max_length,
                pad_id=int(tokenizer.pad_token_id or 0),
                pad_token=str(tokenizer.pad_token or "[PAD]"),
            )
            (out / META_FILE).write_text(info.to_json(), encoding="utf-8")
        except BaseException:
            shutil.rmtree(out, ignore_errors=True)
            raise
