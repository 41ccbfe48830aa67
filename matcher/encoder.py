"""Sentence embeddings: one model, loaded from a local path, with a cache of known texts.

Catalog and history texts are encoded once (their vectors can be preloaded from an artefact
written by the indexer); a small LRU keeps query vectors so that several signals reading the
same query pay for one encode.

Queries of concurrent requests share forward passes: one worker thread encodes, in one pass,
every query that arrived while the previous pass ran. At low load a pass holds one query and
nothing waits for a window; under load the passes grow, and one pass of n short texts costs
far less than n passes (measured here: 9-18 ms for one text, 280-390 texts/s in batches).
"""

from __future__ import annotations

import hashlib
import threading
from collections import OrderedDict
from collections.abc import Callable, Mapping, Sequence
from concurrent.futures import Future
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

if TYPE_CHECKING:
    from matcher.onnx_encoder import OnnxEncoder

QUERY_CACHE_SIZE = 4096
# Queries encoded in one pass at most: the encoder's own batch size.
MAX_QUERY_BATCH = 64


def vectors_fingerprint(model_path: str | Path, int8: bool) -> str:
    """The key of the vectors a model makes: int8 weights make their own."""
    base = model_fingerprint(model_path)
    return f"{base}-int8" if int8 else base


class QueryBatcher:
    """Encodes queries submitted from many threads in shared passes, on one worker thread.

    `encode` maps texts to unit vectors; it is only ever called from the worker, so passes
    never compete with each other for the CPU's cores.
    """

    def __init__(
        self, encode: Callable[[list[str]], np.ndarray], max_batch: int = MAX_QUERY_BATCH
    ) -> None:
        self._encode = encode
        self._max_batch = max_batch
        self._pending: list[tuple[str, Future[np.ndarray]]] = []
        self._busy = False
        self._ready = threading.Condition()
        self._worker: threading.Thread | None = None
        self._stopping = threading.Event()

    @property
    def idle(self) -> bool:
        """No pass is running and none is waiting: a query submitted now is encoded at once.
        Read without the lock: a hint, which the next submit can make stale."""
        return not self._pending and not self._busy

    def submit(self, text: str) -> Future[np.ndarray]:
        future: Future[np.ndarray] = Future()
        with self._ready:
            self._pending.append((text, future))
            if self._worker is None:
                self._stopping = threading.Event()
                self._worker = threading.Thread(
                    target=self._run, args=(self._stopping,), name="query-encoder", daemon=True
                )
                self._worker.start()
            self._ready.notify()
        return future

    def close(self) -> threading.Thread | None:
        """Lets the worker finish what was submitted, then end; returns it (to join).

        The worker holds the encoder: a model swapped out would otherwise stay in memory for
        the life of the process. A later submit starts a new worker.
        """
        with self._ready:
            worker, self._worker = self._worker, None
            self._stopping.set()
            self._ready.notify_all()
        return worker

    def _run(self, stopping: threading.Event) -> None:
        while True:
            with self._ready:
                self._busy = False
                while not self._pending:
                    if stopping.is_set():
                        return
                    self._ready.wait()
                batch = self._pending[: self._max_batch]
                del self._pending[: self._max_batch]
                self._busy = True
            texts = list(dict.fromkeys(text for text, _ in batch))
            try:
                vectors = dict(zip(texts, self._encode(texts), strict=True))
            except Exception as exc:  # every waiting request fails with it, none hangs
                for _, future in batch:
                    future.set_exception(exc)
                continue
            for text, future in batch:
                future.set_result(vectors[text])


class Encoder:
    """A sentence-transformers model, run by PyTorch or, given its export, by ONNX Runtime."""

    def __init__(
        self, model_path: str | Path, batch_size: int = 64, onnx: OnnxEncoder | None = None
    ) -> None:
        self.model_path = str(model_path)
        self.batch_size = batch_size
        self.onnx = onnx
        self._model: Any = None
        if onnx is None:
            # Imported here: importing torch costs seconds, and many commands never encode.
            from sentence_transformers import SentenceTransformer

            self._model = SentenceTransformer(self.model_path, device="cpu")
            self.dimension = int(self._model.get_embedding_dimension() or 0)
        else:
            self.dimension = onnx.dimension
        self._known: dict[str, np.ndarray] = {}
        self._recent: OrderedDict[str, np.ndarray] = OrderedDict()
        self._lock = threading.Lock()
        self._queries = QueryBatcher(lambda texts: self.encode(texts, remember=False))
        # Query passes started by prefetch and not yet finished, by text.
        self._started: dict[str, Future[np.ndarray]] = {}

    @property
    def model(self) -> Any:
        """The PyTorch model (what training changes); an encoder on ONNX has none."""
        if self._model is None:
            raise TypeError(f"the encoder of {self.model_path} runs an ONNX export, not PyTorch")
        return self._model

    @property
    def pass_size(self) -> int:
        """Texts per forward pass."""
        return self.onnx.pass_size if self.onnx is not None else self.batch_size

    @property
    def runtime(self) -> str:
        if self.onnx is None:
            return "torch"
        return "onnx-int8" if self.onnx.int8 else "onnx"

    @property
    def fingerprint(self) -> str:
        """Identifies the weights, so cached vectors are never used with another model. The
        fp32 export gives PyTorch's vectors and shares its cache; int8's vectors differ."""
        return vectors_fingerprint(self.model_path, self.onnx is not None and self.onnx.int8)

    def preload(self, vectors: Mapping[str, np.ndarray]) -> None:
        self._known.update(vectors)

    def known_vectors(self) -> dict[str, np.ndarray]:
        return dict(self._known)

    def encode(
        self, texts: Sequence[str], progress: bool = False, remember: bool = True
    ) -> np.ndarray:
        """Unit-length float32 vectors, one row per text."""
        missing = [t for t in dict.fromkeys(texts) if self._cached(t) is None]
        if missing:
            vectors = self._forward(missing, progress)
            with self._lock:
                for text, vector in zip(missing, vectors, strict=True):
                    if remember:
                        self._known[text] = vector
                    else:
                        self._recent[text] = vector
                while len(self._recent) > QUERY_CACHE_SIZE:
                    self._recent.popitem(last=False)
        if not texts:
            return np.zeros((0, self.dimension), dtype=np.float32)
        return np.stack([self._lookup(t) for t in texts])

    def _forward(self, texts: list[str], progress: bool) -> np.ndarray:
        if self.onnx is not None:
            return self.onnx.encode(texts)
        vectors = self.model.encode(
            texts,
            batch_size=self.batch_size,
            normalize_embeddings=True,
            convert_to_numpy=True,
            show_progress_bar=progress,
        )
        return np.asarray(vectors, dtype=np.float32)

    def prefetch(self, text: str) -> bool:
        """Starts the pass of a query that encode_query will soon be asked for, so that it runs
        (off the GIL) while the caller does work that needs no vector. True when that pass
        starts at once, on an idle encoder: the caller then has the pass's time to itself."""
        with self._lock:
            if self._cached(text) is not None or text in self._started:
                return False
            alone = self._queries.idle
            future = self._started[text] = self._queries.submit(text)
        future.add_done_callback(lambda _: self._finished(text))
        return alone

    def _finished(self, text: str) -> None:
        with self._lock:  # the vector is cached by now (QueryBatcher encodes through encode)
            self._started.pop(text, None)

    def encode_query(self, text: str) -> np.ndarray:
        """One query's vector: from the cache, from the pass prefetch started, or from a pass
        shared with concurrent queries."""
        with self._lock:
            vector = self._cached(text)
            started = self._started.get(text)
        if vector is not None:
            return vector
        return (started or self._queries.submit(text)).result()

    def close(self) -> threading.Thread | None:
        """Ends the query worker (see QueryBatcher.close); the encoder still works after."""
        return self._queries.close()

    def forget_queries(self) -> None:
        """Drop the cached query vectors (catalog and history vectors stay): the next query
        pays for its encode, as a cold one would. Evaluations call it between systems."""
        with self._lock:
            self._recent.clear()

    def _cached(self, text: str) -> np.ndarray | None:
        vector = self._known.get(text)
        return vector if vector is not None else self._recent.get(text)

    def _lookup(self, text: str) -> np.ndarray:
        vector = self._cached(text)
        if vector is None:
            raise KeyError(text)
        return vector


def model_fingerprint(model_path: str | Path) -> str:
    """A short hash of the model's weight files' names, sizes and modification times."""
    root = Path(model_path)
    digest = hashlib.sha256()
    for path in sorted(root.rglob("*")):
        if path.is_file() and path.suffix in {".safetensors", ".bin", ".json", ".txt"}:
            stat = path.stat()
            digest.update(f"{path.relative_to(root)}:{stat.st_size}:{int(stat.st_mtime)}".encode())
    return digest.hexdigest()[:16]
