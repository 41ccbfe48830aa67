"""A real gRPC server on localhost over a tiny catalog, for tests that need one with settings
of their own (tokens, TLS, limits)."""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import grpc

from matcher.app import build_matcher
from matcher.catalog_store import SqliteCatalogStore
from matcher.config import Settings
from matcher.encoder import Encoder
from matcher.server import MatcherHolder, create_server
from tests.conftest import tiny_catalog, tiny_history


@dataclass
class Serving:
    settings: Settings
    address: str
    store: SqliteCatalogStore


@contextlib.contextmanager
def serving(tmp_path: Path, encoder: Encoder, **settings: Any) -> Iterator[Serving]:
    configured = Settings.from_env(
        env={}, state_dir=tmp_path / "state", grpc_address="127.0.0.1:0", **settings
    )
    store = SqliteCatalogStore(configured.catalog_db)
    store.replace_all(tiny_catalog(), tiny_history())
    holder = MatcherHolder(
        build_matcher(configured, store.parts(), store.examples(), encoder=encoder)
    )
    server, port = create_server(configured, holder, store)
    server.start()
    try:
        yield Serving(configured, f"127.0.0.1:{port}", store)
    finally:
        server.stop(None).wait()
        holder().close()
        store.close()


def code_and_details(call: Any) -> tuple[grpc.StatusCode, str]:
    try:
        call()
    except grpc.RpcError as error:
        assert isinstance(error, grpc.Call)
        return error.code(), error.details() or ""
    raise AssertionError("the call succeeded")
