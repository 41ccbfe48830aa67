"""The transport: the official Elasticsearch 8 client behind one small call, and its errors
sorted into the two kinds the callers act on (an outage, or a refusal)."""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping
from typing import Any, Protocol

_JSON = {"accept": "application/json", "content-type": "application/json"}
_NDJSON = {"accept": "application/json", "content-type": "application/x-ndjson"}


class BackendUnavailable(RuntimeError):
    """The node did not answer in time, refused the connection, or failed (5xx, 429)."""


class BackendError(RuntimeError):
    """The node refused a request (4xx): a bug or a misconfiguration, not an outage."""

    def __init__(self, status: int, error_type: str, message: str) -> None:
        super().__init__(f"{status} {error_type}: {message}")
        self.status = status
        self.error_type = error_type


class IndexMissing(BackendError):
    """The index or alias is gone (e.g. the node came back empty): rebuild, do not retry."""


class SearchClient(Protocol):
    """The one call the index writer and the signal need.

    `body` is a JSON-able object, or a str already in NDJSON (bulk, msearch).
    `timeout` overrides the client's default request timeout for this call.
    """

    def request(
        self,
        method: str,
        path: str,
        body: Any = None,
        *,
        params: Mapping[str, str] | None = None,
        timeout: float | None = None,
    ) -> Any: ...

    def close(self) -> None: ...


def raise_for_status(status: int, body: Any, fallback: str) -> None:
    if status == 429 or status >= 500:
        raise BackendUnavailable(f"backend answered {status}: {fallback}")
    error = body.get("error") if isinstance(body, dict) else None
    if isinstance(error, dict):
        kind, reason = str(error.get("type", "")), str(error.get("reason", ""))
        if kind == "index_not_found_exception":
            raise IndexMissing(status, kind, reason)
        raise BackendError(status, kind, reason)
    raise BackendError(status, "", str(error or fallback))


class ElasticsearchClient:
    """Elasticsearch 8 through the official client, which refuses any other server (it checks
    the `X-Elastic-Product` header of every answer). Building one does not connect, so a
    signal can be built while the node is down and still reach it once it is up."""

    def __init__(self, url: str, timeout_s: float) -> None:
        from elasticsearch import Elasticsearch

        self._client = Elasticsearch(
            url, request_timeout=timeout_s, max_retries=0, retry_on_timeout=False
        )

    def request(
        self,
        method: str,
        path: str,
        body: Any = None,
        *,
        params: Mapping[str, str] | None = None,
        timeout: float | None = None,
    ) -> Any:
        import elastic_transport
        from elasticsearch import ApiError, UnsupportedProductError

        client = self._client if timeout is None else self._client.options(request_timeout=timeout)
        headers = _NDJSON if isinstance(body, str) else _JSON
        try:
            return client.perform_request(
                method, path, params=params, headers=headers, body=body
            ).body
        except UnsupportedProductError as exc:
            raise BackendError(0, "unsupported_product", str(exc)) from exc
        except ApiError as exc:
            raise_for_status(exc.meta.status, exc.body, str(exc))
        except elastic_transport.TransportError as exc:
            raise BackendUnavailable(str(exc)) from exc

    def close(self) -> None:
        self._client.close()


def make_client(url: str, timeout_s: float) -> SearchClient:
    return ElasticsearchClient(url, timeout_s)


def node_version(client: SearchClient) -> str:
    """The version the node reports. Read from `_nodes/_local`: Elastic's minimal distribution
    has no `rest-root` module, so `GET /` (the client's `info()`) answers 405 there."""
    answer = client.request("GET", "/_nodes/_local", params={"filter_path": "nodes.*.version"})
    nodes = answer.get("nodes", {}) if isinstance(answer, dict) else {}
    versions = sorted({str(n.get("version", "")) for n in nodes.values()})
    if len(versions) != 1 or not versions[0]:
        raise BackendError(0, "", f"no single node version in {answer!r}")
    return versions[0]


def ndjson(lines: Iterable[Mapping[str, Any]]) -> str:
    return "".join(json.dumps(line, separators=(",", ":")) + "\n" for line in lines)
