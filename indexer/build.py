"""`partmatch index`: load a data directory into the catalog store and precompute vectors."""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

from indexer.dataset import load_dataset
from indexer.encoder_export import export_encoder
from matcher.app import open_encoder
from matcher.catalog_store import SqliteCatalogStore
from matcher.config import Settings
from matcher.embedding_cache import write_cache


@dataclass(frozen=True)
class IndexReport:
    parts: int
    examples: int
    vectors: int
    cache: Path


def index_dataset(settings: Settings, data_dir: Path, progress: bool = True) -> IndexReport:
    # Load and validate every file before touching the store: a bad file changes nothing.
    dataset = load_dataset(data_dir, splits=("history",))
    export_encoder(settings.state_dir, settings.model_path)
    encoder = open_encoder(settings, settings.model_path, threads=os.cpu_count() or 1)
    texts = [p.catalog_text() for p in dataset.catalog] + [e.text for e in dataset.history]
    encoder.encode(texts, progress=progress)
    cache = write_cache(settings.state_dir, encoder.fingerprint, encoder.known_vectors())
    store = SqliteCatalogStore(settings.catalog_db, settings.sqlite_synchronous)
    try:
        store.replace_all(dataset.catalog, dataset.history)
    finally:
        store.close()
    return IndexReport(len(dataset.catalog), len(dataset.history), len(texts), cache)
