"""Offline runs share the Elasticsearch node a server searches, never its indexes.

`partmatch train` and `partmatch eval` build matchers of their own (fusion folds, the gate,
the evaluated service). With the server's index prefix, each of those swapped the aliases the
running server searches to a fold's data; now each run works under a prefix of its own.
"""

from __future__ import annotations

import threading
from collections.abc import Iterator
from pathlib import Path

import grpc
import pytest
from partmatch.v1 import partmatch_pb2 as pb
from partmatch.v1 import partmatch_pb2_grpc as pb_grpc

from eval.run import evaluate
from indexer.offline import offline_settings
from indexer.train import train
from matcher.app import build_matcher
from matcher.catalog_store import SqliteCatalogStore
from matcher.config import Settings
from matcher.elastic.client import SearchClient, make_client
from matcher.elastic.index_writer import ElasticsearchIndex
from matcher.encoder import Encoder
from matcher.server import MatcherHolder, create_server
from tests.conftest import tiny_catalog
from tests.test_training import make_splits, write_data

pytestmark = [pytest.mark.elasticsearch, pytest.mark.slow]

Answer = list[tuple[str, float, float]]


def index_state(client: SearchClient, prefix: str) -> dict[str, tuple[str, int]]:
    """Every index under the prefix: the alias that points at it, and its document count."""
    rows = client.request(
        "GET", f"/_cat/indices/{prefix}-*", params={"format": "json", "h": "index,docs.count"}
    )
    aliases = client.request("GET", f"/_cat/aliases/{prefix}-*", params={"format": "json"})
    alias_of = {row["index"]: row["alias"] for row in aliases}
    return {row["index"]: (alias_of.get(row["index"], ""), int(row["docs.count"])) for row in rows}


@pytest.fixture
def es_settings(tmp_path: Path, es_url: str, es_prefix: str) -> Settings:
    return Settings.from_env(
        state_dir=tmp_path / "state",
        grpc_address="127.0.0.1:0",
        es_url=es_url,
        es_index_prefix=es_prefix,
    )


@pytest.fixture
def stub(es_settings: Settings, encoder: Encoder) -> Iterator[pb_grpc.MatcherStub]:
    splits = make_splits()
    store = SqliteCatalogStore(es_settings.catalog_db)
    store.replace_all(tiny_catalog(), splits["history"])
    holder = MatcherHolder(
        build_matcher(es_settings, tiny_catalog(), splits["history"], encoder=encoder)
    )
    server, port = create_server(es_settings, holder, store)
    server.start()
    with grpc.insecure_channel(f"127.0.0.1:{port}") as channel:
        yield pb_grpc.MatcherStub(channel)
    server.stop(None)
    holder().close()
    store.close()


def test_train_and_eval_leave_a_running_server_untouched(
    es_settings: Settings,
    stub: pb_grpc.MatcherStub,
    es_client: SearchClient,
    es_prefix: str,
    tmp_path: Path,
) -> None:
    splits = make_splits()
    data = write_data(tmp_path / "data", tiny_catalog(), splits)
    texts = [e.text for e in splits["test"] if e.sku][::8]

    def answers() -> list[Answer] | None:
        """The answers to every text; None for a round in which a search timed out (the
        offline run shares the CPU): a degraded answer says nothing about the indexes."""
        out = []
        for text in texts:
            response = stub.Match(pb.MatchRequest(text=text, top_k=5), timeout=30)
            if response.degraded:
                return None
            out.append(
                [
                    (c.sku, round(c.confidence, 6), round(c.signals["lexical"], 6))
                    for c in response.candidates
                    if "lexical" in c.signals
                ]
            )
        return out

    served = index_state(es_client, es_prefix)
    assert sorted(alias for alias, _ in served.values()) == [
        f"{es_prefix}-history",
        f"{es_prefix}-parts",
    ]
    before = answers()
    assert before is not None and all(before), "every text should have lexical evidence"

    changed: list[str] = []
    rounds = 0
    done = threading.Event()

    def keep_asking() -> None:
        nonlocal rounds
        while not done.is_set():
            now = answers()
            if now is None:
                continue
            changed.extend(t for t, a, b in zip(texts, before, now, strict=True) if a != b)
            rounds += 1

    watcher = threading.Thread(target=keep_asking)
    watcher.start()
    try:
        train(es_settings, data, epochs=0, progress=False)
        evaluate(
            data,
            tmp_path / "eval",
            es_settings,
            epochs=0,
            systems=("service", "es_bm25", "es_bm25_history"),
            progress=False,
        )
    finally:
        done.set()
        watcher.join()

    assert rounds >= 2, "the server answered undegraded rounds during the offline runs"
    assert changed == []
    assert answers() == before
    # The same concrete indexes with the same documents, and no offline index left behind.
    assert index_state(es_client, es_prefix) == served


def test_an_offline_run_drops_its_indexes_also_when_it_fails(
    es_settings: Settings, es_client: SearchClient, es_prefix: str
) -> None:
    splits = make_splits()
    with pytest.raises(RuntimeError, match="the run broke"), offline_settings(es_settings) as own:
        assert own.es_index_prefix.startswith(f"{es_prefix}-offline-")
        client = make_client(own.es_url, timeout_s=30.0)
        index = ElasticsearchIndex(client, own.es_index_prefix, swap_grace_s=0)
        index.load(tiny_catalog(), splits["history"])
        assert len(index_state(es_client, own.es_index_prefix)) == 2
        client.close()
        raise RuntimeError("the run broke")
    assert index_state(es_client, es_prefix) == {}
