"""The staff console end to end: a real gRPC server, the console under uvicorn, and either
headless Chromium (playwright) or plain HTTP (httpx) for what a browser would never send."""

from __future__ import annotations

import re
import socket
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import grpc
import httpx
import pytest
import uvicorn
from partmatch.v1 import partmatch_pb2 as pb
from partmatch.v1 import partmatch_pb2_grpc as pb_grpc
from playwright.sync_api import Browser, Dialog, Page, expect, sync_playwright
from starlette.applications import Starlette

from console.server import build_console
from matcher.app import build_matcher
from matcher.catalog import make_part
from matcher.catalog_store import SqliteCatalogStore
from matcher.config import ConfigError, Settings
from matcher.encoder import Encoder
from matcher.review_store import SqliteReviewStore
from matcher.server import MatcherHolder, create_server

ALICE = "alice-token-0123456789"
STAFF = f"alice:{ALICE},bob:bob-token-abcdefghijkl"
SECRET = "console-secret-for-tests-0123456789"
XSS = "<script>alert(1)</script>"
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]

PARTS = [
    make_part(
        sku="BRK-F-CIVIC",
        name="Front Brake Pad Set - Honda Civic",
        aliases=["front disc pads"],
        attributes={"part_number": "45022-TR0-A01"},
    ),
    make_part(
        sku="BRK-R-CIVIC", name="Rear Brake Pad Set - Honda Civic", aliases=["rear disc pads"]
    ),
    make_part(sku="ALT-GOLF", name="Alternator 140A - VW Golf", aliases=["generator"]),
    make_part(sku="WIP-24", name="Wiper Blade 24in", aliases=["windscreen wiper"]),
    make_part(sku="BAT-70", name="Car Battery 70Ah", aliases=["12v battery"]),
]


class Stack:
    """The gRPC server and the console in front of it, both on free localhost ports."""

    def __init__(self, settings: Settings, grpc_port: int, console_url: str) -> None:
        self.settings = settings
        self.url = console_url
        self.channel = grpc.insecure_channel(f"127.0.0.1:{grpc_port}")
        self.matcher = pb_grpc.MatcherStub(self.channel)
        self.review = pb_grpc.ReviewStub(self.channel)
        self.catalog = pb_grpc.CatalogStub(self.channel)

    def queued(self, text: str) -> str:
        response = self.matcher.Match(pb.MatchRequest(text=text), timeout=30)
        assert response.decision == pb.NEEDS_REVIEW and response.review_id, (text, response)
        return str(response.review_id)

    def item(self, review_id: str) -> pb.ReviewItem:
        metadata = (("authorization", f"Bearer {ALICE}"),)
        item: pb.ReviewItem = self.review.GetReview(
            pb.GetReviewRequest(id=review_id), metadata=metadata
        )
        return item


def serve_in_thread(app: Starlette) -> tuple[uvicorn.Server, threading.Thread, str]:
    sock = socket.socket()
    sock.bind(("127.0.0.1", 0))
    port = sock.getsockname()[1]
    server = uvicorn.Server(uvicorn.Config(app, log_level="warning"))
    thread = threading.Thread(target=server.run, kwargs={"sockets": [sock]}, daemon=True)
    thread.start()
    for _ in range(500):
        if server.started:
            break
        threading.Event().wait(0.01)
    assert server.started, "the console did not start"
    return server, thread, f"http://127.0.0.1:{port}"


@pytest.fixture
def stack(tmp_path: Path, encoder: Encoder) -> Iterator[Stack]:
    settings = Settings.from_env(
        env={},
        state_dir=tmp_path / "state",
        grpc_address="127.0.0.1:0",
        staff_tokens=STAFF,
        console_secret=SECRET,
    )
    store = SqliteCatalogStore(settings.catalog_db)
    store.replace_all(PARTS, [])
    holder = MatcherHolder(build_matcher(settings, store.parts(), [], encoder=encoder))
    grpc_server, grpc_port = create_server(settings, holder, store)
    grpc_server.start()
    console, thread, url = serve_in_thread(build_console(settings, server=f"127.0.0.1:{grpc_port}"))
    running = Stack(settings, grpc_port, url)
    yield running
    console.should_exit = True
    thread.join(timeout=10)
    running.channel.close()
    grpc_server.stop(grace=None).wait()
    holder().close()
    store.close()


# -- in a real browser -----------------------------------------------------------------------


@pytest.fixture(scope="module")
def browser() -> Iterator[Browser]:
    with sync_playwright() as playwright:
        chromium = playwright.chromium.launch(
            executable_path="/usr/bin/chromium", args=CHROMIUM_ARGS
        )
        yield chromium
        chromium.close()


@pytest.fixture
def dialogs() -> list[str]:
    """Messages of every alert/confirm/prompt the page opened: there must be none."""
    return []


@pytest.fixture
def page(browser: Browser, stack: Stack, dialogs: list[str]) -> Iterator[Page]:
    context = browser.new_context(base_url=stack.url)
    page = context.new_page()

    def record(dialog: Dialog) -> None:
        dialogs.append(dialog.message)
        dialog.dismiss()

    page.on("dialog", record)
    yield page
    context.close()


def log_in(page: Page, name: str = "alice", token: str = ALICE) -> None:
    page.goto("/queue")
    assert page.url.endswith("/login")
    page.get_by_label("Name").fill(name)
    page.get_by_label("Token").fill(token)
    page.get_by_role("button", name="Log in").click()
    expect(page).to_have_url(re.compile(r"/queue$"))


def press(page: Page, key: str) -> None:
    # Shortcuts live in a deferred script: a key pressed before it ran would do nothing.
    page.wait_for_load_state("load")
    page.keyboard.press(key)


@pytest.mark.browser
def test_review_an_item_in_the_browser(stack: Stack, page: Page, dialogs: list[str]) -> None:
    p = page
    brake = stack.queued("brake pads for civic")
    wiper = stack.queued(f"wiper {XSS}")
    battery = stack.queued("battery")

    log_in(p)
    rows = p.locator("table.queue tbody tr")
    expect(rows).to_have_count(3)
    # The customer's markup is shown as text, never run.
    expect(p.get_by_text(f"wiper {XSS}", exact=True)).to_be_visible()

    # The item page: text, candidates, the words that matched, the signals.
    p.get_by_role("link", name="brake pads for civic").click()
    expect(p.locator("#customer-text")).to_have_text("brake pads for civic")
    candidates = p.locator("table.candidates tbody tr")
    expect(candidates.first.locator("mark").first).to_have_text(
        re.compile("brake|pad", re.IGNORECASE)
    )
    expect(candidates.first.locator(".signals meter").first).to_be_attached()
    top_sku = candidates.first.get_attribute("data-sku")

    # `a` accepts the top candidate, then the console moves on to the next item.
    press(p, "a")
    expect(p.locator(".flash")).to_contain_text(f"as {top_sku}")
    resolved = stack.item(brake)
    assert resolved.status == pb.RESOLVED
    assert resolved.resolved_sku == top_sku and resolved.reviewer == "alice"

    p.goto("/queue")
    expect(rows).to_have_count(2)
    expect(p.locator(f'tr[data-review-id="{brake}"]')).to_have_count(0)

    # Choose another part from a catalog search (`/` focuses the search box).
    p.goto(f"/items/{wiper}")
    expect(p.locator("#customer-text")).to_have_text(f"wiper {XSS}")
    press(p, "/")
    p.keyboard.type("alternater golf")
    press(p, "Enter")
    result = p.locator('table.results tr[data-sku="ALT-GOLF"]')
    result.get_by_role("button", name="Choose").click()
    expect(p.locator(".flash")).to_contain_text("as ALT-GOLF")
    assert stack.item(wiper).resolved_sku == "ALT-GOLF"

    # `x`: the text names no part; the queue is then empty.
    p.goto(f"/items/{battery}")
    press(p, "x")
    expect(p.get_by_text("Nothing to review")).to_be_visible()
    assert stack.item(battery).names_no_part

    # A resolved item still opens, read-only, with its resolution.
    p.goto(f"/items/{brake}")
    expect(p.locator(".resolved")).to_contain_text("by alice")
    expect(p.get_by_role("button", name=re.compile("Accept"))).to_have_count(0)

    p.get_by_role("button", name="Log out").click()
    p.goto("/queue")
    expect(p).to_have_url(re.compile(r"/login$"))
    assert dialogs == []


@pytest.mark.browser
def test_skip_walks_the_queue_and_hostile_text_stays_text(
    stack: Stack, page: Page, dialogs: list[str]
) -> None:
    p = page
    first = stack.queued("brake pads for civic")
    hostile = stack.queued(f"wiper {XSS}")
    store = SqliteReviewStore(stack.settings.catalog_db)
    vehicle_xss = store.enqueue(
        f"battery {XSS}", '<img src=x onerror="alert(2)">', [], "req", "m", priority=0.0
    )
    store.close()

    log_in(p)
    rows = p.locator("table.queue tbody tr")
    expect(rows).to_have_count(3)
    order = rows.evaluate_all("rows => rows.map(r => r.dataset.reviewId)")
    assert set(order) == {first, hostile, vehicle_xss}
    press(p, "n")
    expect(p).to_have_url(re.compile(f"/items/{order[0]}$"))
    press(p, "n")
    expect(p).to_have_url(re.compile(f"/items/{order[1]}$"))
    press(p, "n")
    expect(p).to_have_url(re.compile(f"/items/{order[2]}$"))
    press(p, "n")
    expect(p).to_have_url(re.compile(f"/items/{order[0]}$"))

    p.goto(f"/items/{vehicle_xss}")
    expect(p.locator("#customer-text")).to_have_text(f"battery {XSS}")
    expect(p.locator("#vehicle")).to_have_text('<img src=x onerror="alert(2)">')
    assert p.locator("main img").count() == 0
    assert p.locator("main script").count() == 0
    p.goto(f"/queue?q={XSS}")
    expect(p.locator('input[name="q"]')).to_have_value(XSS)
    assert dialogs == []


# -- over plain HTTP -----------------------------------------------------------------------------

CSRF = re.compile(r'name="csrf_token" value="([^"]+)"')


@contextmanager
def logged_in(stack: Stack) -> Iterator[tuple[httpx.Client, str]]:
    """An HTTP client logged in as alice, and the CSRF token of its session."""
    with httpx.Client(base_url=stack.url, follow_redirects=False) as client:
        token = CSRF.search(client.get("/login").text)
        assert token
        response = client.post(
            "/login", data={"name": "alice", "token": ALICE, "csrf_token": token.group(1)}
        )
        assert response.status_code == 303 and response.headers["location"] == "/queue"
        page = client.get("/queue")
        assert page.status_code == 200
        csrf = CSRF.search(page.text)
        assert csrf
        yield client, csrf.group(1)


def test_posts_without_the_csrf_token_are_refused(stack: Stack) -> None:
    review_id = stack.queued("brake pads for civic")
    with logged_in(stack) as (client, csrf):
        for data in (
            {"choice": "sku", "sku": "BRK-F-CIVIC"},
            {"choice": "sku", "sku": "BRK-F-CIVIC", "csrf_token": "forged"},
            {"choice": "sku", "sku": "BRK-F-CIVIC", "csrf_token": ""},
        ):
            response = client.post(f"/items/{review_id}/resolve", data=data)
            assert response.status_code == 403, data
        assert client.post("/logout", data={}).status_code == 403
        assert stack.item(review_id).status == pb.PENDING
        # The same form with its token goes through: the 403s above were the token's doing.
        accepted = client.post(
            f"/items/{review_id}/resolve",
            data={"choice": "sku", "sku": "BRK-F-CIVIC", "csrf_token": csrf},
        )
        assert accepted.status_code == 303
        assert stack.item(review_id).resolved_sku == "BRK-F-CIVIC"

    # A login form posted from elsewhere (login CSRF) is refused as well.
    with httpx.Client(base_url=stack.url) as fresh:
        response = fresh.post("/login", data={"name": "alice", "token": ALICE})
        assert response.status_code == 403


def test_pages_need_a_login_and_bad_logins_fail(stack: Stack) -> None:
    review_id = stack.queued("battery")
    with httpx.Client(base_url=stack.url, follow_redirects=False) as client:
        for path in ("/", "/queue", f"/items/{review_id}", f"/items/{review_id}/next"):
            response = client.get(path)
            assert response.status_code == 303, path
            assert response.headers["location"] in ("/login", "/queue"), path
        form = client.get("/login")
        csrf = CSRF.search(form.text)
        assert csrf
        for name, token in (("alice", "bob-token-abcdefghijkl"), ("mallory", ALICE), ("", "")):
            response = client.post(
                "/login", data={"name": name, "token": token, "csrf_token": csrf.group(1)}
            )
            assert response.status_code == 401
            assert "Unknown name or token" in response.text
        assert client.get("/queue").status_code == 303
        # Security headers: no inline scripts, no framing.
        csp = form.headers["content-security-policy"]
        assert "script-src 'self'" in csp and "frame-ancestors 'none'" in csp
        assert form.headers["x-frame-options"] == "DENY"


def test_refusals_from_the_server_are_shown(stack: Stack) -> None:
    review_id = stack.queued("brake pads for civic")
    stack.catalog.RetireParts(pb.RetirePartsRequest(skus=["BRK-R-CIVIC"]))
    with logged_in(stack) as (client, csrf):
        retired = client.post(
            f"/items/{review_id}/resolve",
            data={"choice": "sku", "sku": "BRK-R-CIVIC", "csrf_token": csrf},
        )
        assert retired.status_code == 400
        assert "retired" in retired.text
        assert stack.item(review_id).status == pb.PENDING

        assert client.get(f"/items/{'0' * 32}").status_code == 404
        bad = client.post(f"/items/{review_id}/resolve", data={"choice": "sku", "csrf_token": csrf})
        assert bad.status_code == 400

        # Another reviewer got there first with a different answer: a 409, not an overwrite.
        stack.review.ResolveReview(
            pb.ResolveReviewRequest(id=review_id, sku="BRK-F-CIVIC", reviewer="bob"),
            metadata=(("authorization", "Bearer bob-token-abcdefghijkl"),),
        )
        late = client.post(
            f"/items/{review_id}/resolve", data={"choice": "no_part", "csrf_token": csrf}
        )
        assert late.status_code == 409
        assert "already resolved" in late.text
        assert stack.item(review_id).resolved_sku == "BRK-F-CIVIC"


def test_the_console_needs_its_configuration(tmp_path: Path) -> None:
    no_secret = Settings.from_env(env={}, staff_tokens=STAFF)
    with pytest.raises(ConfigError, match="PARTMATCH_CONSOLE_SECRET"):
        build_console(no_secret)
    no_staff = Settings.from_env(env={}, console_secret=SECRET)
    with pytest.raises(ConfigError, match="PARTMATCH_STAFF_TOKENS"):
        build_console(no_staff)


def test_an_unreachable_server_is_a_clear_503(tmp_path: Path) -> None:
    with socket.socket() as probe:  # a port nobody listens on
        probe.bind(("127.0.0.1", 0))
        dead = f"127.0.0.1:{probe.getsockname()[1]}"
    settings = Settings.from_env(env={}, staff_tokens=STAFF, console_secret=SECRET)
    console, thread, url = serve_in_thread(build_console(settings, server=dead))
    try:
        with httpx.Client(base_url=url, follow_redirects=True) as client:
            csrf = CSRF.search(client.get("/login").text)
            assert csrf
            form = {"name": "alice", "token": ALICE, "csrf_token": csrf.group(1)}
            response = client.post("/login", data=form)  # follows the redirect to /queue
            assert response.status_code == 503
            assert f"server at {dead} is unreachable" in response.text
    finally:
        console.should_exit = True
        thread.join(timeout=10)
