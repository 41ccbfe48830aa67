"""The gRPC server: the Matcher and Catalog services, health and reflection, clean shutdown."""

from __future__ import annotations

import dataclasses
import logging
import signal
import sys
import threading
from concurrent import futures
from types import FrameType
from typing import Any

import grpc
from grpc_health.v1 import health, health_pb2, health_pb2_grpc
from grpc_reflection.v1alpha import reflection
from partmatch.v1 import partmatch_pb2 as pb
from partmatch.v1 import partmatch_pb2_grpc as pb_grpc
from threadpoolctl import threadpool_limits

from matcher import heap
from matcher.access import interceptor_for
from matcher.admin_service import AdminService, ModelReloader, RegistryWatcher
from matcher.app import build_current_matcher
from matcher.catalog_store import CatalogStore, SqliteCatalogStore
from matcher.channel import channel_options, server_credentials
from matcher.config import Settings
from matcher.decision import Decision
from matcher.engine import Matcher, MatchResult
from matcher.lexical_probe import LexicalProbe, elasticsearch_index
from matcher.review_queue import Queued, ReviewQueue, SqliteReviewQueue
from matcher.review_service import FeedbackServicer, ReviewServicer
from matcher.service import CatalogService, MatcherService

log = logging.getLogger(__name__)

SERVICE_NAMES = (
    pb.DESCRIPTOR.services_by_name["Matcher"].full_name,
    pb.DESCRIPTOR.services_by_name["Catalog"].full_name,
    pb.DESCRIPTOR.services_by_name["Review"].full_name,
    pb.DESCRIPTOR.services_by_name["Feedback"].full_name,
    pb.DESCRIPTOR.services_by_name["Admin"].full_name,
)
# Health of each signal, e.g. "partmatch.v1.signal.lexical": NOT_SERVING while the matcher
# answers without it (degraded), SERVING again once it is back.
SIGNAL_HEALTH_PREFIX = "partmatch.v1.signal."
# How long a thread holding the GIL keeps it while another waits (Python's default: 5 ms).
SWITCH_INTERVAL_S = 0.0002


class SignalHealth:
    """The one place that sets the signals' health statuses. Two sources report to it: each
    Match (a remote signal that failed or timed out is unavailable, one that answered is
    available) and, with Elasticsearch, the lexical probe (matcher/lexical_probe.py), which
    keeps the status current without Match traffic. The latest report wins; a status is set,
    and logged, only when it changes, so Watch streams see changes, not every call."""

    def __init__(self, servicer: health.HealthServicer) -> None:
        self._servicer = servicer
        self._lock = threading.Lock()
        self._available: dict[str, bool] = {}

    def report(self, signal: str, available: bool) -> None:
        with self._lock:
            before = self._available.get(signal)
            if before == available:
                return
            self._available[signal] = available
            self._servicer.set(
                SIGNAL_HEALTH_PREFIX + signal,
                health_pb2.HealthCheckResponse.SERVING
                if available
                else health_pb2.HealthCheckResponse.NOT_SERVING,
            )
        if before is not None:
            if available:
                log.info("signal %s is back", signal)
            else:
                log.warning("signal %s unavailable: answering without it", signal)

    def report_match(self, matcher: Matcher) -> None:
        """What the matcher's latest searches found: every signal not degraded is available."""
        degraded = matcher.degraded_signals
        for s in matcher.signals:
            self.report(s.name, s.name not in degraded)


class ProbedServer(grpc.Server):
    """The gRPC server with the lexical probe alongside: the probe starts when the server
    starts and stops when it stops."""

    def __init__(self, server: grpc.Server, probe: LexicalProbe) -> None:
        self._server = server
        self.probe = probe

    def add_generic_rpc_handlers(self, generic_rpc_handlers: Any) -> None:
        self._server.add_generic_rpc_handlers(generic_rpc_handlers)

    def add_registered_method_handlers(self, service_name: str, method_handlers: Any) -> None:
        self._server.add_registered_method_handlers(  # type: ignore[attr-defined]
            service_name, method_handlers
        )

    def add_insecure_port(self, address: str) -> int:
        return self._server.add_insecure_port(address)

    def add_secure_port(self, address: str, server_credentials: grpc.ServerCredentials) -> int:
        return self._server.add_secure_port(address, server_credentials)

    def start(self) -> None:
        self._server.start()
        self.probe.start()

    def stop(self, grace: float | None = None) -> threading.Event:
        self.probe.stop()
        return self._server.stop(grace)

    def wait_for_termination(self, timeout: float | None = None) -> bool:
        return self._server.wait_for_termination(timeout)


class MatcherHolder:
    """The current matcher; replaced atomically when a new model is promoted."""

    def __init__(self, matcher: Matcher) -> None:
        self._matcher = matcher

    def __call__(self) -> Matcher:
        return self._matcher

    def swap(self, matcher: Matcher) -> Matcher:
        old, self._matcher = self._matcher, matcher
        return old


def create_server(
    settings: Settings,
    holder: MatcherHolder,
    store: CatalogStore,
    reviews: ReviewQueue | None = None,
) -> tuple[grpc.Server, int]:
    limits = settings.limits
    # The queue shares the catalog's SQLite file: a label and its SKU check are one transaction.
    if reviews is None:
        path = store.path if isinstance(store, SqliteCatalogStore) else settings.catalog_db
        reviews = SqliteReviewQueue(path, limits, settings.sqlite_synchronous)
    queue = reviews
    server = grpc.server(
        futures.ThreadPoolExecutor(max_workers=settings.workers, thread_name_prefix="grpc"),
        interceptors=[interceptor_for(settings)],
        options=channel_options(settings),
        # Past this many calls in progress the server answers RESOURCE_EXHAUSTED at once:
        # a flood gets fast refusals instead of a queue that makes everyone wait.
        maximum_concurrent_rpcs=settings.max_concurrent_rpcs,
    )
    health_servicer = health.HealthServicer()
    signal_health = SignalHealth(health_servicer)

    def enqueue_for_review(results: list[MatchResult]) -> list[MatchResult]:
        signal_health.report_match(holder())
        waiting = [i for i, r in enumerate(results) if r.decision is Decision.NEEDS_REVIEW]
        if not waiting:
            return results
        # One transaction for a whole batch: it is queued whole or not at all. A failure
        # here fails the call (INTERNAL, retried by the client) rather than answer
        # NEEDS_REVIEW for an item that never reached the queue.
        ids = queue.enqueue_many(
            [
                Queued(r.text, r.vehicle, r.candidates, r.request_id, r.model_version)
                for r in (results[i] for i in waiting)
            ]
        )
        for i, review_id in zip(waiting, ids, strict=True):
            results[i] = dataclasses.replace(results[i], review_id=review_id)
        return results

    pb_grpc.add_MatcherServicer_to_server(MatcherService(holder, enqueue_for_review), server)
    pb_grpc.add_ReviewServicer_to_server(ReviewServicer(queue), server)
    pb_grpc.add_FeedbackServicer_to_server(FeedbackServicer(store, limits), server)
    pb_grpc.add_CatalogServicer_to_server(CatalogService(store, holder, limits), server)
    pb_grpc.add_AdminServicer_to_server(
        AdminService(ModelReloader(settings, holder, store)), server
    )
    health_pb2_grpc.add_HealthServicer_to_server(health_servicer, server)
    for name in ("", *SERVICE_NAMES):
        health_servicer.set(name, health_pb2.HealthCheckResponse.SERVING)
    for s in holder().signals:
        signal_health.report(s.name, True)
    reflection.enable_server_reflection(
        (
            *SERVICE_NAMES,
            health_pb2.DESCRIPTOR.services_by_name["Health"].full_name,
            reflection.SERVICE_NAME,
        ),
        server,
    )
    credentials = server_credentials(settings)
    if credentials is None:
        port = server.add_insecure_port(settings.grpc_address)
    else:
        port = server.add_secure_port(settings.grpc_address, credentials)
    if port == 0:
        raise RuntimeError(f"cannot listen on {settings.grpc_address}")
    if not settings.es_url:
        return server, port
    probe = LexicalProbe(
        lambda: elasticsearch_index(holder().signals),
        lambda available: signal_health.report("lexical", available),
        interval_s=settings.es_probe_s,
        timeout_s=settings.es_timeout_s,
    )
    return ProbedServer(server, probe), port


def serve(settings: Settings) -> None:
    # Concurrent requests are the server's parallelism: a BLAS thread pool inside each matrix
    # product only spins against them. Under 16 clients on 2 cores, OpenBLAS's threads took
    # 30% of the server's CPU in the product of the query with the history's vectors (py-spy).
    threadpool_limits(limits=1)
    # The encoder's thread takes the GIL back several times a pass (tokens in, vectors out)
    # and, while a request thread runs Python, waits up to the switch interval each time: at
    # the default 5 ms, a pass ran at half speed beside a thread running Python. Where the
    # matching is cheap (a 20-part catalog) a MatchBatch reached 0.79-0.87 of the bare
    # encoder at 0.2 ms, against 0.66-0.75 at 5 ms; on the sample's 306 parts, where matching
    # costs twice the encoder, the difference was within the noise, for single calls too.
    sys.setswitchinterval(SWITCH_INTERVAL_S)
    store = SqliteCatalogStore(settings.catalog_db, settings.sqlite_synchronous)
    parts, examples = store.parts(), store.examples()
    if not parts:
        log.warning(
            "the catalog store %s is empty: run `partmatch index` first", settings.catalog_db
        )
    holder = MatcherHolder(build_current_matcher(settings, parts, examples))
    heap.keep_live_objects_frozen()
    reviews = SqliteReviewQueue(settings.catalog_db, settings.limits, settings.sqlite_synchronous)
    server, port = create_server(settings, holder, store, reviews)
    server.start()
    watcher = (
        RegistryWatcher(ModelReloader(settings, holder, store), settings.model_watch_s).start()
        if settings.model_watch_s > 0
        else None
    )
    host = settings.grpc_address.rpartition(":")[0]
    tls = "TLS" if settings.tls_cert else "plaintext"
    if settings.tls_client_ca:
        tls = "mutual TLS"
    # Printed for people and for scripts that wait for the port.
    print(f"partmatch serving on {host}:{port} ({len(parts)} parts, {tls})", flush=True)
    stopped = threading.Event()

    def stop(signum: int, frame: FrameType | None) -> None:
        log.info("signal %d: draining in-flight requests", signum)
        stopped.set()

    signal.signal(signal.SIGTERM, stop)
    signal.signal(signal.SIGINT, stop)
    stopped.wait()
    if watcher is not None:
        watcher.stop()
    server.stop(grace=5).wait()
    holder().close()
    reviews.close()
    store.close()
