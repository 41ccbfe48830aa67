"""gRPC servicers for the review queue (role staff) and storefront feedback (role storefront).

Who may call them is checked before a handler runs (matcher/access.py): a caller without a
valid token learns nothing else, not even whether its request was well formed.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import TypeVar

import grpc
from partmatch.v1 import partmatch_pb2 as pb
from partmatch.v1 import partmatch_pb2_grpc as pb_grpc

from matcher.access import current_caller
from matcher.catalog import CatalogError
from matcher.catalog_store import CatalogStore
from matcher.grpc_errors import guard
from matcher.limits import DEFAULT_LIMITS, Limits, bad_text_character, describe
from matcher.review_queue import (
    ReviewConflict,
    ReviewInputError,
    ReviewItem,
    ReviewNotFound,
    ReviewQueue,
)
from matcher.service import candidate_to_proto

log = logging.getLogger(__name__)

MAX_PAGE_SIZE = 500
DEFAULT_PAGE_SIZE = 50
MAX_FIELD_CHARS = 1000

Response = TypeVar("Response")


_ERROR_CODES = (
    (ReviewInputError, grpc.StatusCode.INVALID_ARGUMENT),
    # A label for a SKU that is unknown or retired (the catalog store's check).
    (CatalogError, grpc.StatusCode.INVALID_ARGUMENT),
    (ReviewNotFound, grpc.StatusCode.NOT_FOUND),
    (ReviewConflict, grpc.StatusCode.FAILED_PRECONDITION),
)


def _guard(context: grpc.ServicerContext, call: Callable[[], Response], what: str) -> Response:
    return guard(context, call, what, _ERROR_CODES)


def item_to_proto(item: ReviewItem) -> pb.ReviewItem:
    return pb.ReviewItem(
        id=item.id,
        text=item.text,
        vehicle=item.vehicle,
        candidates=[candidate_to_proto(c) for c in item.candidates],
        status=item.status,
        resolved_sku=item.resolved_sku or "",
        names_no_part=item.names_no_part,
        reviewer=item.reviewer,
        created_at=item.created_at,
        resolved_at=item.resolved_at,
        priority=item.priority,
        request_id=item.request_id,
        model_version=item.model_version,
    )


def _check_length(value: str, name: str, most: int = MAX_FIELD_CHARS) -> None:
    if len(value) > most:
        raise ReviewInputError(f"{name} is over {most} characters")


class ReviewServicer(pb_grpc.ReviewServicer):
    def __init__(self, store: ReviewQueue) -> None:
        self._store = store

    def ListPending(
        self, request: pb.ListPendingRequest, context: grpc.ServicerContext
    ) -> pb.ListPendingResponse:
        def run() -> pb.ListPendingResponse:
            size = request.page_size or DEFAULT_PAGE_SIZE
            if not 0 < size <= MAX_PAGE_SIZE:
                raise ReviewInputError(
                    f"page_size must be between 1 and {MAX_PAGE_SIZE} (0 means "
                    f"{DEFAULT_PAGE_SIZE}), got {request.page_size}"
                )
            _check_length(request.candidate_sku, "candidate_sku")
            _check_length(request.text_contains, "text_contains")
            page = self._store.list_pending(
                size, request.page_token, request.candidate_sku, request.text_contains
            )
            return pb.ListPendingResponse(
                items=[item_to_proto(i) for i in page.items],
                next_page_token=page.next_page_token,
                total_pending=page.total,
            )

        return _guard(context, run, "ListPending")

    def GetReview(
        self, request: pb.GetReviewRequest, context: grpc.ServicerContext
    ) -> pb.ReviewItem:
        def run() -> pb.ReviewItem:
            if not request.id:
                raise ReviewInputError("id must not be empty")
            return item_to_proto(self._store.get(request.id))

        return _guard(context, run, "GetReview")

    def ResolveReview(
        self, request: pb.ResolveReviewRequest, context: grpc.ServicerContext
    ) -> pb.ReviewItem:
        def run() -> pb.ReviewItem:
            if not request.id:
                raise ReviewInputError("id must not be empty")
            if bool(request.sku) == request.names_no_part:
                raise ReviewInputError("set exactly one of sku and names_no_part")
            # The reviewer (empty, length, characters) is checked by the queue, for every caller.
            item = self._store.resolve(request.id, request.sku or None, request.reviewer)
            # The token says who called; reviewer says for whom (e.g. the console's user).
            caller = current_caller()
            log.info(
                "review %s resolved as %s by %s (token of %s)",
                item.id,
                item.resolved_sku or "names-no-part",
                item.reviewer,
                caller.name if caller else "nobody",
            )
            return item_to_proto(item)

        return _guard(context, run, "ResolveReview")


def _check_report(request: pb.ReportMappingRequest, limits: Limits) -> None:
    """The one check of a report's fields; the catalog store then checks, in the transaction
    that writes the example, that its SKU is an active part."""
    if not request.text.strip():
        raise ReviewInputError("text must not be empty or whitespace only")
    if len(request.text) > limits.max_text_chars:
        raise ReviewInputError(f"text is over {limits.max_text_chars} characters")
    if not request.sku:
        raise ReviewInputError("sku must not be empty")
    _check_length(request.sku, "sku", limits.max_sku_chars)
    _check_length(request.request_id, "request_id")
    # What Match refuses must not become training data through feedback either.
    bad = bad_text_character(request.text, allow_newlines=True)
    if bad is not None:
        raise ReviewInputError(f"text holds the control character {describe(bad)}")


class FeedbackServicer(pb_grpc.FeedbackServicer):
    def __init__(self, store: CatalogStore, limits: Limits = DEFAULT_LIMITS) -> None:
        # The catalog store: it owns the labelled examples a report becomes.
        self._store = store
        self._limits = limits

    def ReportMapping(
        self, request: pb.ReportMappingRequest, context: grpc.ServicerContext
    ) -> pb.ReportMappingResponse:
        def run() -> pb.ReportMappingResponse:
            _check_report(request, self._limits)
            recorded = self._store.record_feedback(request.text, request.sku, request.request_id)
            return pb.ReportMappingResponse(recorded=recorded)

        return _guard(context, run, "ReportMapping")
