"""Export a sentence-transformers encoder to ONNX, fp32 and int8, for the online path.

`partmatch index` exports the base model and `partmatch train` each model it trains, next
to the embedding cache and keyed like it by the model's fingerprint; the server only reads
the export (matcher/onnx_encoder.py). A directory appears whole or not at all.
"""

from __future__ import annotations

import logging
import shutil
import tempfile
import warnings
from pathlib import Path
from typing import Any

from matcher.encoder import model_fingerprint
from matcher.onnx_encoder import (
    FP32_FILE,
    INT8_FILE,
    TOKENIZER_FILE,
    ExportInfo,
    export_dir,
    has_export,
)

log = logging.getLogger(__name__)
OPSET = 17


class ExportError(RuntimeError):
    """A model this exporter cannot reproduce outside PyTorch; the message says why."""


def export_encoder(state_dir: Path, model_path: str | Path) -> Path | None:
    """The export of the model at `model_path`, written unless one exists already; None for a
    model the exporter cannot reproduce (the server then runs it on PyTorch)."""
    fingerprint = model_fingerprint(model_path)
    target = export_dir(state_dir, fingerprint)
    if has_export(state_dir, fingerprint):
        return target
    target.parent.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(prefix=f".{fingerprint}-", dir=target.parent) as work:
        staged = Path(work) / "export"
        staged.mkdir()
        try:
            _export(Path(model_path), staged, fingerprint)
        except ExportError as exc:
            log.warning("no ONNX export, the encoder runs on PyTorch: %s", exc)
            return None
        if target.exists():  # a half-written directory of an earlier crash: never read
            shutil.rmtree(target)
        staged.rename(target)
    log.info("encoder %s exported to ONNX in %s", model_path, target)
    return target


def _export(model_path: Path, out: Path, fingerprint: str) -> None:
    from sentence_transformers import SentenceTransformer

    model = SentenceTransformer(str(model_path), device="cpu")
    modules: list[Any] = list(model)
    kinds = [type(module).__name__ for module in modules]
    if kinds not in (["Transformer", "Pooling"], ["Transformer", "Pooling", "Normalize"]):
        raise ExportError(f"{model_path}: modules {kinds}; only a transformer with pooling")
    pooling = modules[1].get_config_dict()
    if pooling.get("pooling_mode") != "mean":
        raise ExportError(f"{model_path}: pooling {pooling.get('pooling_mode')!r}, not mean")
    transformer = modules[0]
    tokenizer = model.tokenizer
    backend = getattr(tokenizer, "backend_tokenizer", None)
    if backend is None:
        raise ExportError(f"{model_path}: the tokenizer has no fast (tokenizers) form")
    backend.save(str(out / TOKENIZER_FILE))

    sample = tokenizer(["rear brake pads", "a bonnet latch for a golf"], padding=True)
    axes = {0: "batch", 1: "tokens"}
    inputs = trace_to_onnx(
        transformer.auto_model, tokenizer, sample, "last_hidden_state", axes, out / FP32_FILE
    )
    quantise(out / FP32_FILE, out / INT8_FILE)
    info = ExportInfo(
        inputs=inputs,
        max_seq_length=int(transformer.max_seq_length),
        lowercase=bool(getattr(transformer, "do_lower_case", False)),
        pad_id=int(tokenizer.pad_token_id or 0),
        pad_token=str(tokenizer.pad_token or "[PAD]"),
        dimension=int(model.get_embedding_dimension() or 0),
        fingerprint=fingerprint,
    )
    info.write(out)


def quantise(source: Path, target: Path) -> None:
    """Weights to int8, per output channel: per-tensor scales moved MiniLM's vectors twice
    as far (mean cosine to fp32 0.959 against 0.992 here)."""
    from onnxruntime.quantization import QuantType, quantize_dynamic

    # The quantiser logs a line per tensor at INFO on the root logger (over a hundred for
    # MiniLM), which buried the progress of `partmatch train` and `index`.
    root = logging.getLogger()
    level = root.level
    root.setLevel(max(level, logging.WARNING))
    try:
        quantize_dynamic(str(source), str(target), weight_type=QuantType.QInt8, per_channel=True)
    finally:
        root.setLevel(level)


def trace_to_onnx(
    model: Any,
    tokenizer: Any,
    sample: Any,
    output: str,
    output_axes: dict[int, str],
    path: Path,
) -> tuple[str, ...]:
    """Traces a transformers `model` on `sample` (its tokenizer's padded output) to an ONNX
    file at `path` that returns the field `output` of the model's output, with dynamic batch
    and token axes; returns the inputs it takes (of ids, attention mask and token types)."""
    import torch

    inputs = tuple(
        name
        for name in ("input_ids", "attention_mask", "token_type_ids")
        if name in sample and name in tokenizer.model_input_names
    )
    tensors = tuple(torch.tensor(sample[name]) for name in inputs)
    axes = {name: {0: "batch", 1: "tokens"} for name in inputs}
    axes[output] = output_axes
    with warnings.catch_warnings(), torch.no_grad():
        warnings.simplefilter("ignore")  # tracer notes on the model's own shape checks
        torch.onnx.export(
            _positional(model, inputs, output),
            tensors,
            str(path),
            input_names=list(inputs),
            output_names=[output],
            dynamic_axes=axes,
            opset_version=OPSET,
            dynamo=False,
        )
    return inputs


def _positional(network: Any, inputs: tuple[str, ...], output: str) -> Any:
    """A transformers model as a module of positional tensors (what the tracer feeds) that
    returns one field of its output (`last_hidden_state`, `logits`)."""
    import torch

    class Positional(torch.nn.Module):
        def __init__(self) -> None:
            super().__init__()
            self.network = network

        def forward(self, *tensors: torch.Tensor) -> torch.Tensor:
            result = self.network(**dict(zip(inputs, tensors, strict=True)))
            return getattr(result, output)

    return Positional().eval()
