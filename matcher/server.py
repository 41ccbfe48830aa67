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

from matcher.admin_service import AdminService, ModelReloader, RegistryWatcher
from matcher.app import build_current_matcher
from matcher.catalog_store import CatalogStore, SqliteCatalogStore
from matcher.config import Settings
from matcher.decision import Decision
from matcher.engine import Matcher, MatchResult
from matcher.review_service import FeedbackServicer, ReviewServicer, StaffAuth
from matcher.review_store import ReviewStore, SqliteReviewStore
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
    reviews: ReviewStore | None = None,
) -> tuple[grpc.Server, int]:
    # The queue shares the catalog's SQLite file: a label and its SKU check are one transaction.
    if reviews is None:
        path = store.path if isinstance(store, SqliteCatalogStore) else settings.catalog_db
        reviews = SqliteReviewStore(path)
    review_store = reviews
    server = grpc.server(
        futures.ThreadPoolExecutor(max_workers=settings.workers, thread_name_prefix="grpc"),
        options=[("grpc.max_receive_message_length", 32 * 1024 * 1024)],
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

    def enqueue_for_review(result: MatchResult) -> MatchResult:
        if result.decision is not Decision.NEEDS_REVIEW:
            return result
        # A failure here fails the Match (INTERNAL, retried by the client) rather than answer
        # NEEDS_REVIEW for an item that never reached the queue.
        review_id = review_store.enqueue(
            result.text,
            result.vehicle,
            result.candidates,
            result.request_id,
            result.model_version,
        )
        return dataclasses.replace(result, review_id=review_id)

    pb_grpc.add_MatcherServicer_to_server(
        MatcherService(holder, lambda r: enqueue_for_review(track_degraded(r))), server
    )
    pb_grpc.add_ReviewServicer_to_server(
        ReviewServicer(review_store, StaffAuth(settings.staff)), server
    )
    pb_grpc.add_FeedbackServicer_to_server(FeedbackServicer(review_store), server)
    pb_grpc.add_CatalogServicer_to_server(CatalogService(store, holder), server)
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
    port = server.add_insecure_port(settings.grpc_address)
    if port == 0:
        raise RuntimeError(f"cannot listen on {settings.grpc_address}")
    return server, port


def serve(settings: Settings) -> None:
    store = SqliteCatalogStore(settings.catalog_db)
    parts, examples = store.parts(), store.examples()
    if not parts:
        log.warning(
            "the catalog store %s is empty: run `partmatch index` first", settings.catalog_db
        )
    holder = MatcherHolder(build_current_matcher(settings, parts, examples))
    reviews = SqliteReviewStore(settings.catalog_db)
    server, port = create_server(settings, holder, store, reviews)
    server.start()
    watcher = (
        RegistryWatcher(ModelReloader(settings, holder, store), settings.model_watch_s).start()
        if settings.model_watch_s > 0
        else None
    )
    host = settings.grpc_address.rpartition(":")[0]
    # Printed for people and for scripts that wait for the port.
    print(f"partmatch serving on {host}:{port} ({len(parts)} parts)", flush=True)
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
