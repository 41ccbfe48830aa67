"""Export a trained cross-encoder to ONNX, weights quantised to int8, for the online path.

`partmatch train` writes the export into the model version it registers (`reranker/`), so a
version is served whole: the server only reads it (matcher/reranker.py).
"""

from __future__ import annotations

import shutil
import tempfile
from pathlib import Path
from typing import Any

from indexer.encoder_export import quantise, trace_to_onnx
from matcher.reranker import MODEL_FILE, TOKENIZER_FILE, RerankerInfo


def export_reranker(model: Any, tokenizer: Any, out: Path, max_length: int) -> None:
    """Writes `model` (a transformers sequence-classification model with one label) and its
    fast tokenizer to the directory `out`, which must not exist."""
    backend = getattr(tokenizer, "backend_tokenizer", None)
    if backend is None:
        raise ValueError("the reranker's tokenizer has no fast (tokenizers) form")
    sample = tokenizer(
        ["rear brake pads", "bonnet latch"],
        ["Rear Brake Pad Set | brake pad kit", "Bonnet Release Catch"],
        padding=True,
    )
    with tempfile.TemporaryDirectory(prefix="partmatch-reranker-") as work:
        fp32 = Path(work) / "model.onnx"
        inputs = trace_to_onnx(model.eval(), tokenizer, sample, "logits", {0: "batch"}, fp32)
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
            info.write(out)
        except BaseException:
            shutil.rmtree(out, ignore_errors=True)
            raise
