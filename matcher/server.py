"""The gRPC server: the Matcher and Catalog services, health and reflection, clean shutdown."""

from __future__ import annotations

import dataclasses
import logging
import signal
import threading
from concurrent import futures
from types import FrameType

import grpc
from grpc_health.v1 import health, health_pb2, health_pb2_grpc
from grpc_reflection.v1alpha import reflection
from partmatch.v1 import partmatch_pb2 as pb
from partmatch.v1 import partmatch_pb2_grpc as pb_grpc

from matcher.access import interceptor_for
from matcher.admin_service import AdminService, ModelReloader, RegistryWatcher
from matcher.app import build_current_matcher
from matcher.catalog_store import CatalogStore, SqliteCatalogStore
from matcher.channel import channel_options, server_credentials
from matcher.config import Settings
from matcher.decision import Decision
from matcher.engine import Matcher, MatchResult
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
# Health of each remote signal, e.g. "partmatch.v1.signal.lexical": NOT_SERVING while the
# matcher answers without it (degraded), SERVING again once it is back.
SIGNAL_HEALTH_PREFIX = "partmatch.v1.signal."


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

    def track_degraded(result: MatchResult) -> MatchResult:
        for name in holder().signals:
            status = (
                health_pb2.HealthCheckResponse.NOT_SERVING
                if name.name in holder().degraded_signals
                else health_pb2.HealthCheckResponse.SERVING
            )
            health_servicer.set(SIGNAL_HEALTH_PREFIX + name.name, status)
        return result

    def enqueue_for_review(results: list[MatchResult]) -> list[MatchResult]:
        results = [track_degraded(r) for r in results]
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
        health_servicer.set(SIGNAL_HEALTH_PREFIX + s.name, health_pb2.HealthCheckResponse.SERVING)
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
    return server, port


def serve(settings: Settings) -> None:
    store = SqliteCatalogStore(settings.catalog_db, settings.sqlite_synchronous)
    parts, examples = store.parts(), store.examples()
    if not parts:
        log.warning(
            "the catalog store %s is empty: run `partmatch index` first", settings.catalog_db
        )
    holder = MatcherHolder(build_current_matcher(settings, parts, examples))
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
