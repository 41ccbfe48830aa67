"""ElasticsearchSignal against a real node: analysis, writes, zero-downtime reindex and faults.

What any lexical backend must do (upsert and retire visible at once, history, ranking) is in
test_lexical_contract.py; here is what is particular to a remote index. The client seam and the
handling of an unreachable backend are tested without a node, against a fake server.
"""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any, ClassVar

import grpc
import pytest
from grpc_health.v1 import health_pb2, health_pb2_grpc
from partmatch.v1 import partmatch_pb2 as pb
from partmatch.v1 import partmatch_pb2_grpc as pb_grpc

from matcher.catalog import make_part
from matcher.catalog_view import CatalogViewBuilder
from matcher.config import ConfigError, Settings
from matcher.decision import DecisionPolicy
from matcher.elastic.client import (
    BackendError,
    BackendUnavailable,
    SearchClient,
    make_client,
    node_version,
)
from matcher.elastic.index_writer import ElasticsearchIndex
from matcher.elastic.mapping import Analysis, analysed
from matcher.encoder import Encoder
from matcher.engine import Matcher
from matcher.examples import Example
from matcher.fusion import WeightedFusion
from matcher.query import Query
from matcher.signals.base import SignalUnavailable
from matcher.signals.elasticsearch import ElasticsearchSignal
from matcher.signals.fuzzy import FuzzySignal
from matcher.signals.lexical import BM25Signal
from tests.search_node import SearchNode, free_port
from tests.serving import serving

PARTS = [
    make_part(sku="HOOD-1", name="Hood - Ford Focus Mk3 (2011-2018)", aliases=["bonnet"]),
    make_part(sku="HOOD-2", name="Hood Release Cable"),
    make_part(sku="BON-1", name="Bonnet Stay Rod"),
    make_part(sku="BOOT-1", name="Boot Lid Seal"),
    make_part(sku="ALT-1", name="Alternator 120A", description="Remanufactured alternator"),
    make_part(sku="PAD-1", name="Rear Brake Pad"),
    make_part(sku="SEA-1", name="Cafe Racer Seat"),
    make_part(sku="WIP-1", name="Wiper Blade"),
    make_part(sku="BAT-1", name="Car Battery"),
    make_part(sku="FIL-1", name="Oil Filter"),
    make_part(sku="RAD-1", name="Radiator"),
    make_part(sku="MIR-1", name="Door Mirror", aliases=["wing mirror"]),
]
HISTORY = [
    Example("car wont charge and the light with the little box stays on", "ALT-1"),
    Example("squeaky noise when braking at the back", "PAD-1"),
    Example("the rain just smears across the glass", "WIP-1"),
    Example("engine runs hot and leaks green stuff", "RAD-1"),
    Example("where is my parcel", None),
]

# Tests with this mark need a node (ES_URL); the ones at the end run without one.
needs_node = pytest.mark.elasticsearch


# The Elasticsearch signal searches its own index, not the in-process catalog view.
NO_VIEW = CatalogViewBuilder(lexical_history=None).build([], [])


def skus(signal: ElasticsearchSignal, text: str, k: int = 10) -> list[str]:
    return [h.sku for h in signal.search(NO_VIEW, Query.parse(text), k)]


@pytest.fixture
def client(es_url: str) -> Iterator[SearchClient]:
    client = make_client(es_url, timeout_s=5.0)
    yield client
    client.close()


def make_signal(
    client: SearchClient, prefix: str, analysis: Analysis | None = None, **kwargs: Any
) -> ElasticsearchSignal:
    signal = ElasticsearchSignal(ElasticsearchIndex(client, prefix, **kwargs), analysis)
    signal.index.load(PARTS, HISTORY)
    return signal


@pytest.fixture
def signal(client: SearchClient, es_prefix: str) -> ElasticsearchSignal:
    return make_signal(client, es_prefix, swap_grace_s=0.2)


def other_signal(
    client: SearchClient, prefix: str, analysis: Analysis | None = None, **kwargs: Any
) -> ElasticsearchSignal:
    return make_signal(client, f"{prefix}-b", analysis, swap_grace_s=0, **kwargs)


@needs_node
def test_the_node_is_elasticsearch_8(client: SearchClient) -> None:
    # The official client checks the X-Elastic-Product header of every answer: this call
    # succeeding means the node is Elasticsearch, not a look-alike.
    assert node_version(client).startswith("8.")


# -- analysis ------------------------------------------------------------------------------


@needs_node
def test_stemming_matches_plural_to_singular(signal: ElasticsearchSignal) -> None:
    assert skus(signal, "pads")[:1] == ["PAD-1"]
    assert skus(signal, "batteries")[:1] == ["BAT-1"]


@needs_node
def test_accents_are_folded(signal: ElasticsearchSignal) -> None:
    assert skus(signal, "CAFÉ racer")[:1] == ["SEA-1"]


@needs_node
def test_indexed_text_is_the_embedded_bm25_analysis(
    signal: ElasticsearchSignal, client: SearchClient
) -> None:
    doc = client.request("GET", f"/{signal.index.parts_alias}/_doc/SEA-1")["_source"]
    assert doc["name"] == analysed("Cafe Racer Seat") == "cafe racer seat"
    # The same parts, one text at a time: both backends rank the same part first.
    embedded, view = BM25Signal(), CatalogViewBuilder().build(PARTS, HISTORY)
    for text in ("rear brake pads", "oil filters", "WING MIRRORS", "battery for my car"):
        first = embedded.search(view, Query.parse(text), 1)
        assert skus(signal, text)[:1] == [h.sku for h in first]


@needs_node
def test_a_text_of_stopwords_only_finds_nothing(signal: ElasticsearchSignal) -> None:
    assert skus(signal, "is it for the") == []


@needs_node
def test_misspelt_words_match(
    signal: ElasticsearchSignal, client: SearchClient, es_prefix: str
) -> None:
    assert skus(signal, "alternater")[:1] == ["ALT-1"]
    assert skus(signal, "wiper blaed")[:1] == ["WIP-1"]
    exact_only = other_signal(client, es_prefix, Analysis(fuzzy=False))
    assert "ALT-1" not in skus(exact_only, "alternater")


@needs_node
def test_history_index_finds_a_lay_text(
    signal: ElasticsearchSignal, client: SearchClient, es_prefix: str
) -> None:
    text = "it wont charge any more"
    hits = signal.search(NO_VIEW, Query.parse(text), 5)
    assert hits[0].sku == "ALT-1"
    assert hits[0].features["bm25_history"] > 0
    catalog_only = other_signal(client, es_prefix, history=False)
    assert "ALT-1" not in skus(catalog_only, text)


# -- writes and reindex --------------------------------------------------------------------


@needs_node
def test_each_upsert_is_searchable_the_moment_it_returns(signal: ElasticsearchSignal) -> None:
    # The default refresh interval is 1 s: only refresh=wait_for makes all of these pass.
    for i in range(5):
        signal.index.upsert([make_part(sku=f"NEW-{i}", name=f"Gadget{i} Bracket")])
        assert skus(signal, f"gadget{i}")[:1] == [f"NEW-{i}"]
        signal.index.retire([f"NEW-{i}"])
        assert f"NEW-{i}" not in skus(signal, f"gadget{i} bracket")


def indexes(client: SearchClient, prefix: str) -> list[str]:
    rows = client.request(
        "GET", f"/_cat/indices/{prefix}-*", params={"format": "json", "h": "index"}
    )
    return sorted(row["index"] for row in rows)


def aliases(client: SearchClient, prefix: str) -> dict[str, str]:
    rows = client.request("GET", f"/_cat/aliases/{prefix}-*", params={"format": "json"})
    return {row["alias"]: row["index"] for row in rows}


@needs_node
def test_reindex_swaps_aliases_and_drops_old_indexes(
    signal: ElasticsearchSignal, client: SearchClient, es_prefix: str
) -> None:
    before = aliases(client, es_prefix)
    assert set(before) == {f"{es_prefix}-parts", f"{es_prefix}-history"}
    signal.index.rebuild()
    after = aliases(client, es_prefix)
    assert set(after) == set(before)
    assert all(after[a] != before[a] and after[a].startswith(f"{a}-") for a in after)
    assert indexes(client, es_prefix) == sorted(after.values())


@needs_node
def test_search_keeps_answering_during_reindex(signal: ElasticsearchSignal) -> None:
    failures: list[str] = []
    answers = 0
    done = threading.Event()

    def search_in_a_loop() -> None:
        nonlocal answers
        while not done.is_set():
            try:
                top = skus(signal, "alternator", k=1)
                if top != ["ALT-1"]:
                    failures.append(f"answer {top}")
            except Exception as exc:  # any failure at all is what this test looks for
                failures.append(repr(exc))
            answers += 1

    thread = threading.Thread(target=search_in_a_loop)
    thread.start()
    try:
        for _ in range(3):
            signal.index.rebuild()
    finally:
        done.set()
        thread.join()
    assert failures == []
    assert answers >= 20  # the loop really ran across the swaps


@needs_node
def test_a_lost_index_is_rebuilt(
    signal: ElasticsearchSignal, client: SearchClient, es_prefix: str
) -> None:
    # As if the node came back empty.
    for index in indexes(client, es_prefix):
        client.request("DELETE", f"/{index}")
    with pytest.raises(SignalUnavailable):
        signal.search(NO_VIEW, Query.parse("radiator"), 5)
    assert signal.index.wait_for_resync(30)
    assert skus(signal, "radiator")[:1] == ["RAD-1"]
    # A write meeting a lost index rebuilds it at once; no index named like the alias appears.
    for index in indexes(client, es_prefix):
        client.request("DELETE", f"/{index}")
    signal.index.upsert([make_part(sku="NEW-1", name="Fuel Pump")])
    assert skus(signal, "fuel pump")[:1] == ["NEW-1"]
    assert all(i.rsplit("-", 1)[1].isdigit() for i in indexes(client, es_prefix))
    # The history index alone lost: a retire rebuilds both.
    client.request("DELETE", "/" + aliases(client, es_prefix)[f"{es_prefix}-history"])
    signal.index.retire(["ALT-1"])
    assert set(aliases(client, es_prefix)) == {f"{es_prefix}-parts", f"{es_prefix}-history"}
    assert "ALT-1" not in skus(signal, "alternator")
    assert skus(signal, "squeaky noise when braking")[:1] == ["PAD-1"]


# -- faults, on a private node -------------------------------------------------------------

TIMEOUT_S = 0.5


@pytest.fixture
def node(private_node: SearchNode) -> SearchNode:
    private_node.ensure_up()
    return private_node


@pytest.fixture
def private_signal(node: SearchNode) -> Iterator[ElasticsearchSignal]:
    client = make_client(node.url, timeout_s=TIMEOUT_S)
    signal = make_signal(client, "fault", swap_grace_s=0, write_timeout_s=2.0, resync_backoff_s=0.2)
    yield signal
    signal.close()


def timed_failure(signal: ElasticsearchSignal, text: str) -> float:
    started = time.monotonic()
    with pytest.raises(SignalUnavailable):
        signal.search(NO_VIEW, Query.parse(text), 5)
    return time.monotonic() - started


@needs_node
def test_search_fails_fast_when_the_node_stops(
    node: SearchNode, private_signal: ElasticsearchSignal
) -> None:
    assert skus(private_signal, "radiator")[:1] == ["RAD-1"]
    node.stop()
    assert timed_failure(private_signal, "radiator") < 2 * TIMEOUT_S


@needs_node
def test_search_fails_fast_when_the_node_hangs_and_recovers(
    node: SearchNode, private_signal: ElasticsearchSignal
) -> None:
    assert skus(private_signal, "radiator")[:1] == ["RAD-1"]
    node.freeze()
    try:
        assert timed_failure(private_signal, "radiator") < 2 * TIMEOUT_S
    finally:
        node.thaw()
    # The same client reconnects by itself, once the thawed JVM has caught up (seconds on a
    # loaded machine: searches in between may still time out, which is the point of failing fast).
    deadline = time.monotonic() + 60
    while True:
        try:
            assert skus(private_signal, "radiator")[:1] == ["RAD-1"]
            break
        except SignalUnavailable:
            if time.monotonic() > deadline:
                raise
            time.sleep(0.5)


@needs_node
def test_matcher_degrades_while_the_node_is_down_and_recovers(
    node: SearchNode, private_signal: ElasticsearchSignal
) -> None:
    matcher = Matcher(
        [private_signal, FuzzySignal()],
        WeightedFusion(),
        DecisionPolicy(),
        model_version="test",
        views=CatalogViewBuilder(lexical_history=None),
        remote_indexes=[private_signal.index],
        remote_signals=["lexical"],
        remote_timeout_s=2 * TIMEOUT_S,
    )
    matcher.load(PARTS, HISTORY)
    try:
        healthy = matcher.match("alternator")
        assert not healthy.degraded
        assert healthy.candidates[0].sku == "ALT-1"
        assert healthy.candidates[0].signals.get("lexical", 0) > 0

        node.stop()
        down = matcher.match("alternator")
        assert down.degraded
        assert down.candidates[0].sku == "ALT-1"  # the fuzzy signal still answers
        assert "lexical" not in down.candidates[0].signals

        node.start()  # an empty node: the signal must rebuild its indexes by itself
        deadline = time.monotonic() + 60
        answer = matcher.match("alternator")
        while answer.degraded and time.monotonic() < deadline:
            time.sleep(0.2)
            answer = matcher.match("alternator")
        assert not answer.degraded
        assert answer.candidates[0].signals.get("lexical", 0) > 0
    finally:
        matcher.close()


@needs_node
def test_writes_while_the_node_is_down_are_resynced(
    node: SearchNode, private_signal: ElasticsearchSignal
) -> None:
    node.stop()
    private_signal.index.upsert([make_part(sku="NEW-1", name="Fuel Pump")])  # must not raise
    private_signal.index.retire(["RAD-1"])
    assert private_signal.index.stale
    node.start()
    with pytest.raises(SignalUnavailable):  # the node came back empty
        private_signal.search(NO_VIEW, Query.parse("fuel pump"), 5)
    assert private_signal.index.wait_for_resync(60)
    assert not private_signal.index.stale
    assert skus(private_signal, "fuel pump")[:1] == ["NEW-1"]
    assert "RAD-1" not in skus(private_signal, "radiator")


@needs_node
def test_writes_while_the_node_hangs_are_resynced(
    node: SearchNode, private_signal: ElasticsearchSignal
) -> None:
    node.freeze()
    try:
        started = time.monotonic()
        private_signal.index.upsert([make_part(sku="NEW-1", name="Fuel Pump")])
        assert time.monotonic() - started < 2 * private_signal.index.write_timeout_s
        assert private_signal.index.stale
    finally:
        node.thaw()
    # The index survived: searches answer from it while the resync runs in the background.
    assert skus(private_signal, "radiator")[:1] == ["RAD-1"]
    assert private_signal.index.wait_for_resync(60)
    assert not private_signal.index.stale
    assert skus(private_signal, "fuel pump")[:1] == ["NEW-1"]


# -- without a node ------------------------------------------------------------------------


def test_an_unreachable_backend_never_breaks_writes() -> None:
    client = make_client(f"http://127.0.0.1:{free_port()}", 0.5)
    signal = ElasticsearchSignal(ElasticsearchIndex(client, "nowhere", resync_backoff_s=60))
    signal.index.load(PARTS, HISTORY)
    signal.index.upsert([make_part(sku="NEW-1", name="Fuel Pump")])
    signal.index.retire(["RAD-1"])
    assert signal.index.stale
    started = time.monotonic()
    with pytest.raises(SignalUnavailable):
        signal.search(NO_VIEW, Query.parse("radiator"), 5)
    assert time.monotonic() - started < 1.0
    signal.close()


class FakeBackend(BaseHTTPRequestHandler):
    """Answers like Elasticsearch 8 (product header included) and records each request."""

    seen: ClassVar[list[tuple[str, str, bytes]]] = []
    status: ClassVar[int] = 200
    product: ClassVar[str] = "Elasticsearch"

    def _answer(self) -> None:
        body = self.rfile.read(int(self.headers.get("content-length") or 0))
        FakeBackend.seen.append((self.command, self.path, body))
        if self.status != 200:
            payload: dict[str, Any] = {
                "error": {"type": "fake_exception", "reason": "refused"},
                "status": self.status,
            }
        elif self.path.startswith("/_nodes/_local"):
            payload = {"nodes": {"n1": {"version": "8.14.1"}}}
        else:
            hit = {"_id": "RAD-1", "_score": 5.0, "_source": {"sku": "RAD-1"}}
            hits = {"hits": {"hits": [hit]}}
            payload = {"responses": [hits, hits]}
        out = json.dumps(payload).encode()
        self.send_response(self.status)
        self.send_header("content-type", "application/json")
        if self.product:
            self.send_header("x-elastic-product", self.product)
        self.send_header("content-length", str(len(out)))
        self.end_headers()
        self.wfile.write(out)

    do_GET = do_POST = do_PUT = do_DELETE = _answer

    def log_message(self, format: str, *args: Any) -> None:
        pass


@pytest.fixture
def fake_backend() -> Iterator[str]:
    FakeBackend.seen = []
    FakeBackend.status = 200
    FakeBackend.product = "Elasticsearch"
    server = ThreadingHTTPServer(("127.0.0.1", 0), FakeBackend)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}"
    server.shutdown()
    server.server_close()


def loaded_signal(url: str) -> ElasticsearchSignal:
    """A signal over the fake backend, as if loaded: only its searches are looked at."""
    index = ElasticsearchIndex(make_client(url, 1.0), "p", history=True)
    index._parts = {p.sku: p for p in PARTS}
    return ElasticsearchSignal(index)


def test_search_sends_one_msearch_of_analysed_text(fake_backend: str) -> None:
    signal = loaded_signal(fake_backend)
    hits = signal.search(NO_VIEW, Query.parse("the Radiators", vehicle="Golf"), 3)
    assert [h.sku for h in hits] == ["RAD-1"]
    signal.close()
    ((method, path, body),) = FakeBackend.seen
    assert (method, path) == ("POST", "/_msearch")
    header, query, history_header, _ = (json.loads(line) for line in body.decode().splitlines())
    assert header == {"index": "p-parts"}
    assert history_header == {"index": "p-history"}
    # Folded, stopwords gone, plural folded: the terms the index holds.
    assert '"query": "radiator golf"' in json.dumps(query)


def test_client_errors_map_to_outage_or_refusal(fake_backend: str) -> None:
    client = make_client(fake_backend, 1.0)
    FakeBackend.status = 503
    with pytest.raises(BackendUnavailable):
        client.request("POST", "/_msearch", "{}\n{}\n")
    FakeBackend.status = 400
    with pytest.raises(BackendError) as refused:
        client.request("POST", "/_msearch", "{}\n{}\n")
    assert refused.value.status == 400
    assert refused.value.error_type == "fake_exception"
    client.close()


def test_the_node_version_and_a_server_that_is_not_elasticsearch(fake_backend: str) -> None:
    client = make_client(fake_backend, 1.0)
    assert node_version(client) == "8.14.1"
    client.close()
    # The client checks the product once, on its first answer.
    FakeBackend.product = ""  # e.g. OpenSearch, which the official client refuses
    other = make_client(fake_backend, 1.0)
    with pytest.raises(BackendError, match="unsupported_product"):
        node_version(other)
    other.close()


@pytest.mark.parametrize("status", [400, 429, 500, 503])
def test_a_failed_search_leaves_the_answer_to_the_other_signals(
    fake_backend: str, status: int
) -> None:
    signal = loaded_signal(fake_backend)
    FakeBackend.status = status
    with pytest.raises(SignalUnavailable):
        signal.search(NO_VIEW, Query.parse("radiator"), 3)
    assert not signal.index.stale  # nothing was lost: no rebuild
    signal.close()


# -- the lexical health probe --------------------------------------------------------------

LEXICAL_HEALTH = "partmatch.v1.signal.lexical"
SERVING = health_pb2.HealthCheckResponse.SERVING
NOT_SERVING = health_pb2.HealthCheckResponse.NOT_SERVING


def lexical_health(address: str) -> int:
    with grpc.insecure_channel(address) as channel:
        answer = health_pb2_grpc.HealthStub(channel).Check(
            health_pb2.HealthCheckRequest(service=LEXICAL_HEALTH), timeout=30
        )
    return int(answer.status)


def wait_for_lexical_health(address: str, wanted: int, timeout_s: float = 60.0) -> None:
    """Polls the health service, and only it: no Match is sent."""
    deadline = time.monotonic() + timeout_s
    status = lexical_health(address)
    while status != wanted:
        assert time.monotonic() < deadline, (
            f"{LEXICAL_HEALTH} still {health_pb2.HealthCheckResponse.ServingStatus.Name(status)}"
        )
        time.sleep(0.2)
        status = lexical_health(address)


@needs_node
def test_lexical_health_follows_the_node_without_match_traffic(
    node: SearchNode, encoder: Encoder, tmp_path: Path
) -> None:
    # A generous search deadline: on a loaded machine the probe's HEAD must not flap.
    with serving(
        tmp_path,
        encoder,
        es_url=node.url,
        es_index_prefix="probe",
        es_probe_s=0.5,
        es_timeout_s=2.0,
    ) as served:
        wait_for_lexical_health(served.address, SERVING)
        node.stop()
        wait_for_lexical_health(served.address, NOT_SERVING)
        # An empty node: the probe finds the alias gone and has the index rebuilt, so the
        # signal is back before anyone searches.
        node.start()
        wait_for_lexical_health(served.address, SERVING)
        with grpc.insecure_channel(served.address) as channel:
            answer = pb_grpc.MatcherStub(channel).Match(
                pb.MatchRequest(text="alternator"), timeout=30
            )
        assert not answer.degraded
        assert answer.candidates[0].sku == "ALT"


def test_the_lexical_probe_reports_an_unreachable_node_and_stops_with_the_server(
    encoder: Encoder, tmp_path: Path
) -> None:
    nowhere = f"http://127.0.0.1:{free_port()}"
    with serving(tmp_path, encoder, es_url=nowhere, es_probe_s=0.2) as served:
        wait_for_lexical_health(served.address, NOT_SERVING)
        # The embedded signals do not depend on the node.
        with grpc.insecure_channel(served.address) as channel:
            stub = health_pb2_grpc.HealthStub(channel)
            fuzzy = stub.Check(
                health_pb2.HealthCheckRequest(service="partmatch.v1.signal.fuzzy"), timeout=30
            )
        assert fuzzy.status == SERVING
        assert any(t.name == "lexical-probe" for t in threading.enumerate())
    assert not any(t.name == "lexical-probe" for t in threading.enumerate())


@pytest.mark.parametrize("value", ["0", "-1", "nan", "inf"])
def test_the_probe_interval_must_be_a_positive_number(value: str) -> None:
    with pytest.raises(ConfigError, match="PARTMATCH_ES_PROBE_S"):
        Settings.from_env(env={"PARTMATCH_ES_PROBE_S": value})
