"""Explicit wiring: settings, stored state and a model version in, a ready Matcher out."""

from __future__ import annotations

import logging
from collections.abc import Sequence
from pathlib import Path

from matcher.catalog import Part
from matcher.catalog_view import CatalogViewBuilder
from matcher.config import Settings
from matcher.decision import DecisionPolicy
from matcher.embedding_cache import cache_path, read_cache
from matcher.encoder import Encoder, model_fingerprint, vectors_fingerprint
from matcher.engine import Matcher
from matcher.examples import Example
from matcher.fusion import Fusion, WeightedFusion
from matcher.fusion_file import load_fusion
from matcher.head import Head
from matcher.onnx_encoder import OnnxEncoder, export_dir, has_export
from matcher.registry import ModelError, ModelVersion, open_current
from matcher.reranker import Reranker, has_reranker
from matcher.signals.base import RemoteIndex, Signal
from matcher.signals.classifier import ClassifierSignal
from matcher.signals.codes import CodeSignal
from matcher.signals.fuzzy import FuzzySignal
from matcher.signals.lexical import BM25Signal
from matcher.signals.semantic import SemanticSignal

log = logging.getLogger(__name__)


def load_encoder(settings: Settings, model: ModelVersion | None = None) -> Encoder:
    """The encoder of the online path (server, evaluation), set up for one text at a time."""
    path = model.encoder_path if model else settings.model_path
    runtime = settings.encoder_runtime
    if runtime == "auto" and _fp32_vectors_only(settings.state_dir, path):
        # A state indexed before int8 became the default holds fp32 vectors only: serve fp32
        # rather than encode the whole catalog at every start (minutes at 10,000 parts),
        # until `partmatch index` or `train` writes int8's.
        runtime = "onnx"
    encoder = open_encoder(settings, path, runtime=runtime)
    cached = read_cache(settings.state_dir, encoder.fingerprint)
    encoder.preload(cached)
    log.info(
        "encoder %s loaded on %s, %d cached vectors",
        encoder.model_path,
        encoder.runtime,
        len(cached),
    )
    return encoder


def _fp32_vectors_only(state_dir: Path, model_path: str | Path) -> bool:
    fp32, int8 = (vectors_fingerprint(model_path, int8) for int8 in (False, True))
    return (
        has_export(state_dir, model_fingerprint(model_path))
        and cache_path(state_dir, fp32).exists()
        and not cache_path(state_dir, int8).exists()
    )


def open_encoder(
    settings: Settings, model_path: str | Path, threads: int = 0, runtime: str = ""
) -> Encoder:
    """The model on `runtime` (default: the one PARTMATCH_ENCODER_RUNTIME chooses), with
    `threads` intra-op threads (0: the online setting)."""
    threads = threads or settings.encoder_threads
    runtime = runtime or settings.encoder_runtime
    fingerprint = model_fingerprint(model_path)
    if runtime != "torch" and has_export(settings.state_dir, fingerprint):
        directory = export_dir(settings.state_dir, fingerprint)
        onnx = OnnxEncoder(directory, int8=runtime != "onnx", threads=threads)
        return Encoder(model_path, onnx=onnx)
    if runtime != "auto" and runtime != "torch":
        raise ModelError(
            f"PARTMATCH_ENCODER_RUNTIME={runtime}: the model {model_path} has no ONNX export "
            f"in {export_dir(settings.state_dir, fingerprint)}; `partmatch index` (base "
            "model) and `partmatch train` write it"
        )
    import torch

    torch.set_num_threads(threads)
    return Encoder(model_path)


def lexical_signal(settings: Settings) -> Signal:
    """Elasticsearch when ES_URL is set, else the embedded BM25 over the catalog view."""
    if settings.es_url:
        from matcher.signals.elasticsearch import ElasticsearchSignal

        return ElasticsearchSignal.from_settings(settings)
    return BM25Signal()


def remote_index(signal: Signal) -> RemoteIndex | None:
    """The index a remote signal searches, which the matcher must keep up to date."""
    from matcher.signals.elasticsearch import ElasticsearchSignal

    return signal.index if isinstance(signal, ElasticsearchSignal) else None


def build_matcher(
    settings: Settings,
    parts: Sequence[Part],
    examples: Sequence[Example],
    model: ModelVersion | None = None,
    *,
    encoder: Encoder | None = None,
    lexical: Signal | None = None,
    head: Head | None = None,
    fusion: Fusion | None = None,
    policy: DecisionPolicy | None = None,
    reranker: Reranker | None = None,
) -> Matcher:
    """A matcher over the given catalog and history; with a model version, its fine-tuned
    encoder, classification head, reranker and learned fusion; without, the base encoder
    alone. The keyword arguments override single pieces (trainers and evaluations use them)."""
    encoder = encoder or load_encoder(settings, model)
    if model is not None:
        head = head or Head.load(model.head_path)
        if fusion is None and model.fusion_path.exists():
            fusion, policy = load_fusion(model.fusion_path)
        if reranker is None and has_reranker(model.reranker_path):
            reranker = Reranker(model.reranker_path, threads=settings.encoder_threads)
    lexical = lexical or lexical_signal(settings)
    remote = remote_index(lexical)
    # Listed after the others: they wait for the query's encoder pass (Matcher._search_all).
    vector: list[Signal] = [SemanticSignal(encoder)]
    if head is not None:
        vector.append(ClassifierSignal(encoder, head))
    signals: list[Signal] = [lexical, FuzzySignal(), CodeSignal(), *vector]
    matcher = Matcher(
        signals=signals,
        fusion=fusion or WeightedFusion(),
        policy=policy or DecisionPolicy(),
        model_version=model.version if model else f"base-{encoder.fingerprint}",
        # With a remote lexical index, the view needs no embedded BM25 index.
        views=CatalogViewBuilder(
            encoder,
            lexical_history=None if remote else True,
            driver_side=settings.driver_side or None,
            code_attributes=settings.code_attribute_names,
        ),
        limits=settings.limits,
        remote_indexes=[remote] if remote else [],
        remote_signals=["lexical"] if remote else [],
        vector_signals=[s.name for s in vector],
        encoder=encoder,
        reranker=reranker,
        remote_timeout_s=settings.es_timeout_s,
    )
    matcher.load(parts, examples)
    return matcher


def build_current_matcher(
    settings: Settings, parts: Sequence[Part], examples: Sequence[Example]
) -> Matcher:
    """The registry's current model if there is one, else the base model."""
    return build_matcher(settings, parts, examples, model=open_current(settings.models_dir))
