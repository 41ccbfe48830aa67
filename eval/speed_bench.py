"""`python -m eval.speed_bench` (`make bench-speed`): the real server, driven over gRPC on
localhost as a storefront would, against the floor the hardware sets.

- The server: `partmatch serve` in a process of its own, on a state indexed from `--data` with
  a model trained at `--epochs` (0: the base encoder with head and learned fusion), unless the
  state already holds one.
- Single Match calls: one after another (latency alone), then open loop at fixed rates, each
  request sent at its scheduled time whether or not earlier ones have returned, its latency
  counted from that time (so queueing shows), then as fast as `--clients` closed-loop clients go.
- MatchBatch: calls of `--batch` texts, one after another; texts per second.
- UpsertParts: one part at a time, each a real change; how long until it is live. Enough of
  them (`--upserts`) for the catalog view to be built whole once, in the background; the
  table's max column shows a stall that p99 would hide.
- The floor, in this process: one encoder pass for one text, the encoder's throughput in passes
  of `--batch` texts, and one embedded BM25 query over the catalog.
Every text is sent once: nothing is answered from a cache. Figures go to `--out` as JSON and
are printed as a Markdown table.
"""

from __future__ import annotations

import argparse
import itertools
import json
import os
import shutil
import socket
import subprocess
import sys
import tempfile
import threading
import time
from collections import Counter
from collections.abc import Collection, Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from eval.provenance import provenance
from eval.report import provenance_lines
from indexer.dataset import load_dataset
from matcher.catalog_view.view import COMPACT_AT
from matcher.query import Query

ROOT = Path(__file__).resolve().parent.parent
TOKEN = "speed-bench-token-0123456789abcdef"
# Ways a storefront phrases one request: the dataset's texts are reused under each, so every
# text sent is one the server has not seen.
FRAMES = ("{}", "need {}", "looking for {}", "hi, {} please", "do you have {}", "{} asap")


@dataclass(frozen=True)
class Run:
    """What one load pattern measured."""

    name: str
    sent: int
    seconds: float
    latencies_ms: list[float] = field(repr=False)
    # Texts whose call failed, by gRPC status: a refusal under load is not a fault.
    failed: Counter[str] = field(default_factory=Counter)

    @property
    def errors(self) -> int:
        return self.failed.total()

    def summary(self) -> dict[str, Any]:
        ms = np.asarray(self.latencies_ms) if self.latencies_ms else np.zeros(1)
        return {
            "run": self.name,
            "sent": self.sent,
            "errors": self.errors,
            "error_codes": dict(sorted(self.failed.items())),
            "throughput_per_s": round((self.sent - self.errors) / self.seconds, 1),
            "p50_ms": round(float(np.percentile(ms, 50)), 1),
            "p95_ms": round(float(np.percentile(ms, 95)), 1),
            "p99_ms": round(float(np.percentile(ms, 99)), 1),
            # A stall once in hundreds of calls (a catalog view built whole) is past p99.
            "max_ms": round(float(ms.max()), 1),
        }


def distinct_texts(data: Path, known: Collection[str] = ()) -> Iterator[str]:
    """The dataset's texts, each under every frame in turn, none that the server could answer
    without an encoder pass: never the same query twice, and none whose query's vector it
    holds (`known`: see cached_texts)."""
    dataset = load_dataset(data, splits=("history", "valid", "test"))
    texts = list(dict.fromkeys(e.text for e in (*dataset.history, *dataset.valid, *dataset.test)))
    # Compared as the encoder sees them (Query.parse): "Front pads" and "front pads" share one
    # vector. A frame can make one text into another ("need" + "front pads" is a text of its
    # own).
    seen = {Query.parse(text).text for text in known}
    for frame in FRAMES:
        for text in texts:
            framed = frame.format(text)
            query = Query.parse(framed).text
            if query not in seen:
                seen.add(query)
                yield framed
    raise RuntimeError(f"{data} has too few texts for this benchmark")


def cached_texts(state: Path) -> set[str]:
    """Every text whose vector the state holds, for any model: the catalog's and history's,
    and those training encoded (the validation texts)."""
    texts: set[str] = set()
    for path in sorted((state / "embeddings").glob("*.npz")):
        with np.load(path, allow_pickle=False) as cache:
            texts.update(cache["texts"].tolist())
    return texts


def take(texts: Iterator[str], count: int) -> list[str]:
    return list(itertools.islice(texts, count))


# -- the server ----------------------------------------------------------------------------


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def prepare_state(data: Path, state: Path, epochs: int | None, env: dict[str, str]) -> None:
    """Indexes `data` into `state` and trains a model there (unless `epochs` is None: the
    server then serves the base encoder, as before a first training), unless it holds both."""
    from matcher.catalog_store import SqliteCatalogStore
    from matcher.config import Settings
    from matcher.registry import current_version

    settings = Settings.from_env(state_dir=state)
    cli = [sys.executable, "-m", "cli.main"]
    if not settings.catalog_db.exists():
        subprocess.run(
            [*cli, "index", "--data", str(data), "--state", str(state)],
            env=env,
            check=True,
            stdout=sys.stderr,  # stdout is the report (make bench-speed tees it to a file)
        )
    if epochs is not None and current_version(settings.models_dir) is None:
        subprocess.run(
            [*cli, "train", "--data", str(data), "--state", str(state), "--epochs", str(epochs)],
            env=env,
            check=True,
            stdout=sys.stderr,
        )
    # A state indexed from other data would be measured under this data's name.
    store = SqliteCatalogStore(settings.catalog_db)
    try:
        served = {p.sku for p in store.parts()}
    finally:
        store.close()
    wanted = {p.sku for p in load_dataset(data, splits=()).catalog}
    if served != wanted:
        raise SystemExit(
            f"{state} serves {len(served)} parts, not the {len(wanted)} of {data}: "
            "give a fresh --state"
        )


class Server:
    """`partmatch serve` in its own process, stopped on exit."""

    def __init__(self, state: Path, env: dict[str, str]) -> None:
        self.address = f"127.0.0.1:{free_port()}"
        # Closed in stop(): the server writes to it for as long as it runs.
        self.log = tempfile.NamedTemporaryFile(prefix="speed-bench-", suffix=".log")  # noqa: SIM115
        started = time.perf_counter()
        command = [sys.executable, "-m", "cli.main", "serve", "--state", str(state)]
        self.process = subprocess.Popen(
            [*command, "--address", self.address],
            env=env,
            stdout=self.log,
            stderr=subprocess.STDOUT,
        )
        while b"partmatch serving" not in Path(self.log.name).read_bytes():
            if self.process.poll() is not None:
                raise RuntimeError(Path(self.log.name).read_text(errors="replace"))
            if time.perf_counter() - started > 300:
                raise RuntimeError("the server did not start within 300 s")
            time.sleep(0.1)
        self.startup_s = time.perf_counter() - started

    def peak_rss_mib(self) -> float:
        for line in Path(f"/proc/{self.process.pid}/status").read_text().splitlines():
            if line.startswith("VmHWM:"):
                return round(int(line.split()[1]) / 1024, 1)
        return float("nan")

    def stop(self) -> None:
        self.process.terminate()
        self.process.wait(30)
        self.log.close()


# -- load patterns -------------------------------------------------------------------------


class Client:
    def __init__(self, address: str) -> None:
        import grpc
        from partmatch.v1 import partmatch_pb2 as pb
        from partmatch.v1 import partmatch_pb2_grpc as pb_grpc

        self.pb = pb
        self.channel = grpc.insecure_channel(address)
        self.stub = pb_grpc.MatcherStub(self.channel)
        self.metadata = (("authorization", f"Bearer {TOKEN}"),)

    def request(self, text: str) -> Any:
        return self.pb.MatchRequest(text=text)

    def close(self) -> None:
        self.channel.close()


def count_failure(failed: Counter[str], error: BaseException, texts: int = 1) -> None:
    """Counts a failed call under its gRPC status, and prints the first of each status."""
    code = getattr(error, "code", None)
    status = str(code().name) if callable(code) else type(error).__name__
    if not failed[status]:
        details = getattr(error, "details", None)
        print(f"{status}: {details() if callable(details) else error}", file=sys.stderr)
    failed[status] += texts


def sequential(client: Client, texts: Sequence[str]) -> Run:
    latencies, failed = [], Counter[str]()
    started = time.perf_counter()
    for text in texts:
        sent = time.perf_counter()
        try:
            client.stub.Match(client.request(text), metadata=client.metadata, timeout=30)
        except Exception as exc:
            count_failure(failed, exc)
        latencies.append((time.perf_counter() - sent) * 1000)
    return Run("sequential", len(texts), time.perf_counter() - started, latencies, failed)


def open_loop(client: Client, texts: Iterator[str], rate: float, seconds: float) -> Run:
    """Each request at its scheduled time; latency from that time to the answer."""
    count = max(1, round(rate * seconds))
    latencies: list[float] = []
    failed = Counter[str]()
    lock = threading.Lock()
    done = threading.Semaphore(0)

    def finished(scheduled: float) -> Any:
        def record(future: Any) -> None:
            with lock:
                error = future.exception()
                if error is not None:
                    count_failure(failed, error)
                else:
                    latencies.append((time.perf_counter() - scheduled) * 1000)
            done.release()

        return record

    batch = list(itertools.islice(texts, count))
    started = time.perf_counter()
    for i, text in enumerate(batch):
        scheduled = started + i / rate
        delay = scheduled - time.perf_counter()
        if delay > 0:
            time.sleep(delay)
        future = client.stub.Match.future(
            client.request(text), metadata=client.metadata, timeout=60
        )
        future.add_done_callback(finished(scheduled))
    for _ in batch:
        done.acquire()
    seconds = time.perf_counter() - started
    return Run(f"open loop {rate:g}/s", count, seconds, latencies, failed)


def closed_loop(client: Client, texts: Iterator[str], clients: int, seconds: float) -> Run:
    """`clients` callers, each sending its next text as soon as the last is answered."""
    latencies: list[float] = []
    failed = Counter[str]()
    lock = threading.Lock()
    deadline = time.perf_counter() + seconds

    def caller() -> None:
        while time.perf_counter() < deadline:
            with lock:
                text = next(texts)
            sent = time.perf_counter()
            error: Exception | None = None
            try:
                client.stub.Match(client.request(text), metadata=client.metadata, timeout=60)
            except Exception as exc:
                error = exc
            with lock:
                latencies.append((time.perf_counter() - sent) * 1000)
                if error is not None:
                    count_failure(failed, error)

    started = time.perf_counter()
    threads = [threading.Thread(target=caller) for _ in range(clients)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    seconds = time.perf_counter() - started
    name = f"max, {clients} clients"
    return Run(name, len(latencies), seconds, latencies, failed)


def batches(client: Client, groups: Sequence[Sequence[str]]) -> Run:
    latencies, failed = [], Counter[str]()
    started = time.perf_counter()
    for group in groups:
        request = client.pb.MatchBatchRequest(requests=[client.request(t) for t in group])
        sent = time.perf_counter()
        try:
            client.stub.MatchBatch(request, metadata=client.metadata, timeout=120)
        except Exception as exc:
            count_failure(failed, exc, len(group))
        latencies.append((time.perf_counter() - sent) * 1000)
    seconds = time.perf_counter() - started
    texts = sum(len(group) for group in groups)
    return Run(f"MatchBatch of {len(groups[0])}", texts, seconds, latencies, failed)


def upserts(client: Client, parts: Sequence[Any], count: int) -> Run:
    """UpsertParts of one part at a time, each a real change (its description revised): how
    long until the catalog change is live in every signal."""
    from partmatch.v1 import partmatch_pb2_grpc as pb_grpc

    stub = pb_grpc.CatalogStub(client.channel)
    latencies, failed = [], Counter[str]()
    started = time.perf_counter()
    for number, part in zip(range(count), itertools.cycle(parts), strict=False):
        request = client.pb.UpsertPartsRequest(
            parts=[
                client.pb.Part(
                    sku=part.sku,
                    name=part.name,
                    description=f"{part.description} Revision {number}.",
                    aliases=list(part.aliases),
                    attributes=dict(part.attributes),
                    active=True,
                )
            ]
        )
        sent = time.perf_counter()
        try:
            stub.UpsertParts(request, metadata=client.metadata, timeout=120)
        except Exception as exc:
            count_failure(failed, exc)
        latencies.append((time.perf_counter() - sent) * 1000)
    seconds = time.perf_counter() - started
    return Run("UpsertParts of one part", count, seconds, latencies, failed)


# -- the floor -----------------------------------------------------------------------------


def floor(
    data: Path,
    state: Path,
    model_path: str,
    singles: Sequence[str],
    groups: Sequence[Sequence[str]],
) -> dict[str, Any]:
    """One encoder pass for one text and one BM25 query, over the texts the sequential run
    sent, and the encoder's throughput over the MatchBatch run's texts, a call per batch: the
    service and its floor are measured on the same words."""
    from matcher.app import open_encoder
    from matcher.catalog_view import CatalogViewBuilder
    from matcher.config import Settings
    from matcher.signals.lexical import BM25Signal

    # The server's own runtime and threads (matcher.app.load_encoder), or the floor is
    # another machine's.
    encoder = open_encoder(Settings.from_env(state_dir=state), model_path)
    encoder.batch_size = len(groups[0])
    one = []
    for text in singles:
        started = time.perf_counter()
        encoder.encode([text], remember=False)
        one.append((time.perf_counter() - started) * 1000)
    started = time.perf_counter()
    for group in groups:
        encoder.encode(group, remember=False)
    throughput = sum(len(group) for group in groups) / (time.perf_counter() - started)

    dataset = load_dataset(data, splits=("history",))
    view = CatalogViewBuilder(None).build(dataset.catalog, dataset.history)
    signal, bm25 = BM25Signal(), []
    for text in singles:
        query = Query.parse(text)
        started = time.perf_counter()
        signal.search(view, query, 50)
        bm25.append((time.perf_counter() - started) * 1000)
    return {
        "encoder_runtime": encoder.runtime,
        "encode_one_ms": round(float(np.median(one)), 2),
        "encoder_texts_per_s": round(throughput, 1),
        "bm25_query_ms": round(float(np.median(bm25)), 3),
    }


# -- the run -------------------------------------------------------------------------------


def measure(args: argparse.Namespace) -> dict[str, Any]:
    env = {
        **os.environ,
        "HF_HUB_OFFLINE": "1",
        "TOKENIZERS_PARALLELISM": "false",
        "PARTMATCH_TOKENS": f"bench:storefront+catalog+staff+admin:{TOKEN}",
    }
    env.pop("ES_URL", None)  # the embedded BM25 backend: what the floor measures
    state = Path(args.state)
    prepare_state(Path(args.data), state, None if args.no_train else args.epochs, env)
    texts = distinct_texts(Path(args.data), cached_texts(state))
    catalog = load_dataset(Path(args.data), splits=()).catalog

    server = Server(state, env)
    try:
        client = Client(server.address)
        sequential(client, take(texts, 20))  # warm-up: first calls load lazily
        singles = take(texts, args.sequential)
        runs = [sequential(client, singles)]
        for rate in args.rates:
            runs.append(open_loop(client, texts, rate, args.seconds))
        runs.append(closed_loop(client, texts, args.clients, args.seconds))
        groups = [take(texts, args.batch) for _ in range(args.batches)]
        runs.append(batches(client, groups))
        # Distinct parts, as many as the calls where the catalog has them: the view counts
        # changed parts, not changes, towards being built whole.
        changed = catalog[:: max(1, len(catalog) // max(1, args.upserts))][: args.upserts]
        runs.append(upserts(client, changed, args.upserts))
        client.close()
        rss = server.peak_rss_mib()
        startup = server.startup_s
    finally:
        server.stop()

    from matcher.config import Settings
    from matcher.registry import current_version, open_version

    settings = Settings.from_env(state_dir=state)
    version = current_version(settings.models_dir)
    model_path = (
        str(open_version(settings.models_dir, version).encoder_path)
        if version
        else settings.model_path
    )
    floors = floor(Path(args.data), state, model_path, singles, groups)
    summaries = [run.summary() for run in runs]
    sequential_p50 = summaries[0]["p50_ms"]
    batch = next(s for s in summaries if s["run"].startswith("MatchBatch"))
    return {
        "provenance": provenance(),
        "data": str(args.data),
        "model": version or "base encoder, default fusion (untrained)",
        "catalog_parts": len(catalog),
        "server": {"startup_s": round(startup, 1), "peak_rss_mib": rss},
        "floor": floors,
        "runs": summaries,
        "ratios": {
            # The low-load target: service latency against one encode plus one query.
            "sequential_p50_over_floor": round(
                sequential_p50 / (floors["encode_one_ms"] + floors["bm25_query_ms"]), 2
            ),
            "batch_over_encoder": round(
                batch["throughput_per_s"] / floors["encoder_texts_per_s"], 3
            ),
        },
    }


def errors(run: dict[str, Any]) -> str:
    codes = ", ".join(f"{count} {code}" for code, count in run.get("error_codes", {}).items())
    return f"{run['errors']} ({codes})" if codes else str(run["errors"])


def markdown(figures: dict[str, Any]) -> str:
    lines = [
        "# Speed (`make bench-speed`)",
        "",
        *provenance_lines(figures["provenance"]),
        f"Data `{figures['data']}` ({figures['catalog_parts']} parts), model "
        f"`{figures['model']}`; server start-up "
        f"{figures['server']['startup_s']} s, peak RSS {figures['server']['peak_rss_mib']} MiB.",
        "",
        "| run | sent | errors | throughput/s | p50 ms | p95 ms | p99 ms | max ms |",
        "| --- | --- | --- | --- | --- | --- | --- | --- |",
    ]
    for run in figures["runs"]:
        lines.append(
            f"| {run['run']} | {run['sent']} | {errors(run)} | {run['throughput_per_s']} "
            f"| {run['p50_ms']} | {run['p95_ms']} | {run['p99_ms']} | {run['max_ms']} |"
        )
    fl, ratio = figures["floor"], figures["ratios"]
    lines += [
        "",
        f"Floor ({fl['encoder_runtime']} encoder): one encoder pass for one "
        f"text {fl['encode_one_ms']} ms; encoder "
        f"{fl['encoder_texts_per_s']} texts/s in passes of the batch size; one BM25 query "
        f"{fl['bm25_query_ms']} ms. Sequential p50 / (encode + BM25) = "
        f"{ratio['sequential_p50_over_floor']}; MatchBatch / encoder throughput = "
        f"{ratio['batch_over_encoder']}.",
    ]
    return "\n".join(lines) + "\n"


# The committed figures of `make bench-speed` and `make bench-speed-scale`, smallest catalog
# first; BENCHMARKS.md carries their overview (eval/bench_quality.py).
COMMITTED = (
    "BENCHMARKS-speed.json",
    "BENCHMARKS-speed-10000.json",
    "BENCHMARKS-speed-100000.json",
)


def overview(paths: Sequence[Path]) -> str:
    """One Markdown row per speed benchmark's figures (the JSON `--out` writes), with what the
    speed targets read: latency at 50 and 100 requests/s, throughput, MatchBatch against the
    encoder, upserts and the low-load ratio. Files that do not exist are left out."""
    lines = [
        "| catalog | code | start-up s | peak RSS MiB | sequential p50 ms | 50/s p99 ms "
        "| 100/s p99 ms | flat out /s | MatchBatch texts/s (/ encoder) | upsert p99 / max ms "
        "| sequential p50 / (encode + BM25) |",
        "| --- | --- | --- | --- | --- | --- | --- | --- | --- | --- | --- |",
    ]
    for path in paths:
        if not path.exists():
            continue
        figures = json.loads(path.read_text())
        runs = {run["run"]: run for run in figures["runs"]}
        # Named for their clients and batch size: found by what the names begin with.
        flat_out = next((n for n in runs if n.startswith("max, ")), "")
        batch = next((n for n in runs if n.startswith("MatchBatch")), "")
        upsert = runs.get("UpsertParts of one part")
        upserts = f"{upsert['p99_ms']} / {upsert['max_ms']}" if upsert else "—"
        lines.append(
            f"| {figures['catalog_parts']} parts (`{path.name}`) "
            f"| `{figures['provenance'].get('commit', 'unknown')[:7]}` "
            f"| {figures['server']['startup_s']} | {figures['server']['peak_rss_mib']} "
            f"| {_cell(runs, 'sequential', 'p50_ms')} | {_cell(runs, 'open loop 50/s', 'p99_ms')} "
            f"| {_cell(runs, 'open loop 100/s', 'p99_ms')} "
            f"| {_cell(runs, flat_out, 'throughput_per_s')} "
            f"| {_cell(runs, batch, 'throughput_per_s')} "
            f"({figures['ratios']['batch_over_encoder']}) "
            f"| {upserts} "
            f"| {figures['ratios']['sequential_p50_over_floor']} |"
        )
    return "\n".join(lines) + "\n"


def _cell(runs: dict[str, dict[str, Any]], name: str, key: str) -> str:
    """One figure of a named run, with its errors when it had any; a dash for a run not made."""
    run = runs.get(name)
    if run is None:
        return "—"
    return f"{run[key]} ({run['errors']} errors)" if run["errors"] else str(run[key])


def parse_args(argv: Sequence[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="python -m eval.speed_bench", description=__doc__)
    parser.add_argument("--data", default=str(ROOT / "data" / "sample"))
    parser.add_argument("--state", help="state directory (default: a fresh temporary one)")
    parser.add_argument("--epochs", type=int, default=0, help="when training a model (0)")
    parser.add_argument(
        "--no-train",
        action="store_true",
        help="serve the base encoder with the default fusion, as before a first training "
        "(for catalogs too large to train on here in reasonable time)",
    )
    parser.add_argument("--rates", default="10,50,100,200", help="open-loop requests/s")
    parser.add_argument("--seconds", type=float, default=10.0, help="per open-loop rate")
    parser.add_argument("--sequential", type=int, default=200, help="one-by-one calls")
    parser.add_argument("--clients", type=int, default=16, help="closed-loop clients")
    parser.add_argument("--batch", type=int, default=64, help="texts per MatchBatch")
    parser.add_argument("--batches", type=int, default=20, help="MatchBatch calls")
    parser.add_argument(
        "--upserts",
        type=int,
        default=COMPACT_AT + 44,
        help="UpsertParts calls of one part (default: enough for the catalog view to be built "
        "whole once, after COMPACT_AT changed parts)",
    )
    parser.add_argument("--out", help="write the figures here as JSON")
    parser.add_argument("--smoke", action="store_true", help="a few seconds: checks it works")
    args = parser.parse_args(argv)
    args.rates = [float(r) for r in str(args.rates).split(",") if r]
    if args.smoke:
        args.rates, args.seconds, args.sequential = [5.0], 1.0, 5
        args.clients, args.batch, args.batches, args.upserts = 2, 8, 2, 2
    return args


def main(argv: Sequence[str] | None = None) -> int:
    args = parse_args(argv)
    temporary = None
    if args.state is None:
        temporary = tempfile.mkdtemp(prefix="speed-bench-")
        args.state = temporary
    try:
        figures = measure(args)
    finally:
        if temporary:
            shutil.rmtree(temporary, ignore_errors=True)
    if args.out:
        Path(args.out).write_text(json.dumps(figures, indent=2) + "\n", encoding="utf-8")
    print(markdown(figures), end="")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
