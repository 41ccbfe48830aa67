"""The staff console end to end: a real gRPC server, the console under uvicorn, and either
headless Chromium (playwright) or plain HTTP (httpx) for what a browser would never send."""

from __future__ import annotations

import dataclasses
import datetime
import ipaddress
import math
import re
import socket
import ssl
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import grpc
import httpx
import pytest
import uvicorn
from partmatch.v1 import partmatch_pb2 as pb
from partmatch.v1 import partmatch_pb2_grpc as pb_grpc
from playwright.sync_api import Browser, Dialog, Page, expect, sync_playwright
from starlette.applications import Starlette
from starlette.testclient import TestClient

from console.app import create_app
from console.backend import Backend
from console.login_limits import LoginLimits
from console.security import LOGIN_COOKIE, SESSION_COOKIE, Staff
from console.server import build_console, run_console, uvicorn_options
from console.sessions import ABSOLUTE_S, IDLE_S, SessionStore
from console.views import CandidateView, default_candidate
from matcher.app import build_matcher
from matcher.attributes.marks import Mark
from matcher.catalog import Part, make_part
from matcher.catalog_store import SqliteCatalogStore
from matcher.config import ConfigError, Settings
from matcher.encoder import Encoder
from matcher.engine import Candidate
from matcher.review_queue import SqliteReviewQueue
from matcher.server import MatcherHolder, create_server

ALICE = "alice-token-0123456789"
STAFF = f"alice:{ALICE},bob:bob-token-abcdefghijkl"
SECRET = "console-secret-for-tests-0123456789"
# Catalog writes (retiring a part) need the catalog role, which no staff member has.
CATALOG_TOKEN = "catalog-token-0123456789"
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


# Parts a hostile catalog editor could add: names that read like the console's own buttons,
# or carry HTML. None may ever become what one keypress accepts.
HOSTILE_PARTS = [
    make_part(
        sku="EVIL-HIGH",
        name="Names no part <kbd>x</kbd>",
        aliases=['<button data-key="a" autofocus>Accept BRK-F-CIVIC</button>'],
    ),
    make_part(sku="EVIL-SEARCH", name="Accept BRK-F-CIVIC (a) Front Brake Pad Set"),
]


class FakeClock:
    """The console's clock for sessions and lockouts: time passes only when a test says so."""

    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now

    def advance(self, seconds: float) -> None:
        self.now += seconds


class Stack:
    """The gRPC server and the console in front of it, both on free localhost ports."""

    def __init__(
        self, settings: Settings, grpc_port: int, console_url: str, clock: FakeClock
    ) -> None:
        self.settings = settings
        self.url = console_url
        self.clock = clock
        self.grpc_address = f"127.0.0.1:{grpc_port}"
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

    def enqueue(
        self,
        text: str,
        candidates: list[tuple[str, float]],
        priority: float,
        marks: dict[str, tuple[Mark, ...]] | None = None,
    ) -> str:
        """An item queued straight into the store, with exactly these candidates (SKU,
        confidence) in this order, and `marks` by SKU: what a tampered or hostile queue entry
        looks like, or one the matcher compared attributes for."""
        names = {p.sku: p.name for p in [*PARTS, *HOSTILE_PARTS]}
        marks = marks or {}
        store = SqliteReviewQueue(self.settings.catalog_db)
        try:
            return store.enqueue(
                text,
                "",
                [
                    Candidate(sku, names[sku], conf, {}, {}, marks.get(sku, ()))
                    for sku, conf in candidates
                ],
                "req",
                "m",
                priority=priority,
            )
        finally:
            store.close()


def serve_in_thread(app: Starlette, **config: Any) -> tuple[uvicorn.Server, threading.Thread, str]:
    """`app` under uvicorn on a free port; `config`: more uvicorn.Config options (TLS)."""
    sock = socket.socket()
    sock.bind(("127.0.0.1", 0))
    port = sock.getsockname()[1]
    server = uvicorn.Server(uvicorn.Config(app, log_level="warning", **config))
    thread = threading.Thread(target=server.run, kwargs={"sockets": [sock]}, daemon=True)
    thread.start()
    for _ in range(500):
        if server.started:
            break
        threading.Event().wait(0.01)
    assert server.started, "the console did not start"
    scheme = "https" if "ssl_certfile" in config else "http"
    return server, thread, f"{scheme}://127.0.0.1:{port}"


@contextmanager
def running(tmp_path: Path, encoder: Encoder, parts: list[Part]) -> Iterator[Stack]:
    settings = Settings.from_env(
        env={},
        state_dir=tmp_path / "state",
        grpc_address="127.0.0.1:0",
        staff_tokens=STAFF,
        tokens=f"catalog-admin:catalog:{CATALOG_TOKEN}",
        console_secret=SECRET,
    )
    store = SqliteCatalogStore(settings.catalog_db)
    store.replace_all(parts, [])
    holder = MatcherHolder(build_matcher(settings, store.parts(), [], encoder=encoder))
    grpc_server, grpc_port = create_server(settings, holder, store)
    grpc_server.start()
    clock = FakeClock()
    app = build_console(settings, server=f"127.0.0.1:{grpc_port}", clock=clock)
    console, thread, url = serve_in_thread(app)
    stack = Stack(settings, grpc_port, url, clock)
    try:
        yield stack
    finally:
        console.should_exit = True
        thread.join(timeout=10)
        stack.channel.close()
        grpc_server.stop(grace=None).wait()
        holder().close()
        store.close()


@pytest.fixture
def stack(tmp_path: Path, encoder: Encoder) -> Iterator[Stack]:
    with running(tmp_path, encoder, PARTS) as stack:
        yield stack


@pytest.fixture
def hostile_stack(tmp_path: Path, encoder: Encoder) -> Iterator[Stack]:
    """The same, with HOSTILE_PARTS in the catalog too."""
    with running(tmp_path, encoder, [*PARTS, *HOSTILE_PARTS]) as stack:
        yield stack


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


@contextmanager
def browser_page(browser: Browser, url: str, dialogs: list[str]) -> Iterator[Page]:
    context = browser.new_context(base_url=url)
    page = context.new_page()

    def record(dialog: Dialog) -> None:
        dialogs.append(dialog.message)
        dialog.dismiss()

    page.on("dialog", record)
    try:
        yield page
    finally:
        context.close()


@pytest.fixture
def page(browser: Browser, stack: Stack, dialogs: list[str]) -> Iterator[Page]:
    with browser_page(browser, stack.url, dialogs) as page:
        yield page


def log_in(page: Page, name: str = "alice", token: str = ALICE) -> None:
    page.goto("/queue")
    assert page.url.endswith("/login")
    page.get_by_label("Name").fill(name)
    page.get_by_label("Token").fill(token)
    page.get_by_role("button", name="Log in").click()
    expect(page).to_have_url(re.compile(r"/queue$"))


def armed(page: Page) -> None:
    """Wait until the page's shortcuts count: they live in a deferred script, and the ones
    that resolve an item are armed only a moment after the page is shown."""
    page.wait_for_load_state("load")
    page.locator('html[data-shortcuts="armed"]').wait_for(state="attached")


def press(page: Page, key: str) -> None:
    armed(page)
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
    store = SqliteReviewQueue(stack.settings.catalog_db)
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


def resolved_as(stack: Stack, review_id: str) -> str | None:
    """The SKU (or "no part") an item was resolved as; None while it is pending."""
    item = stack.item(review_id)
    if item.status != pb.RESOLVED:
        return None
    return "no part" if item.names_no_part else str(item.resolved_sku)


@pytest.mark.browser
def test_a_held_or_early_key_never_resolves_the_next_item_unseen(
    stack: Stack, page: Page, dialogs: list[str]
) -> None:
    p = page
    first = stack.enqueue("brake pads for civic", [("BRK-F-CIVIC", 0.7)], priority=0.9)
    second = stack.enqueue("rear pads civic", [("BRK-R-CIVIC", 0.6)], priority=0.8)
    third = stack.enqueue("wiper 24", [("WIP-24", 0.5)], priority=0.7)
    log_in(p)

    # `a` held down: the first press resolves the first item and the console moves on; the
    # key's auto-repeats then reach the second item's page and must not accept it.
    p.goto(f"/items/{first}")
    armed(p)
    p.keyboard.down("a")
    expect(p).to_have_url(re.compile(f"/items/{second}$"))
    assert resolved_as(stack, first) == "BRK-F-CIVIC"
    armed(p)
    p.keyboard.down("a")  # playwright sends it as a repeat (event.repeat): the key is held
    p.keyboard.down("a")
    p.wait_for_timeout(700)
    expect(p).to_have_url(re.compile(f"/items/{second}$"))
    assert resolved_as(stack, second) is None
    p.keyboard.up("a")
    # A fresh press is what accepts: the refusal above was the repeat's doing.
    press(p, "a")
    expect(p).to_have_url(re.compile(f"/items/{third}$"))
    assert resolved_as(stack, second) == "BRK-R-CIVIC"

    # A key that arrives as the page appears (a double press: the second lands on the next
    # item) does nothing either. Checked and pressed in one script, so there is no race.
    p.goto(f"/items/{third}", wait_until="domcontentloaded")
    early = p.evaluate(
        """() => {
            const early = document.documentElement.dataset.shortcuts !== "armed";
            document.dispatchEvent(new KeyboardEvent("keydown", {key: "a", bubbles: true}));
            return early;
        }"""
    )
    armed(p)
    if early:  # (a machine too slow to reach the script within the arming delay proves less)
        p.wait_for_timeout(300)
        assert resolved_as(stack, third) is None
    assert dialogs == []


@pytest.mark.browser
def test_hostile_catalog_entries_never_become_the_default_action(
    hostile_stack: Stack, browser: Browser, dialogs: list[str]
) -> None:
    stack = hostile_stack
    # A hostile part pushed to the top with a confidence no model gives; one whose place
    # above a likelier part is not the model's order; and an honest item.
    inflated = stack.enqueue(
        "front pads civic", [("EVIL-HIGH", 7.5), ("BRK-F-CIVIC", 0.6)], priority=0.9
    )
    reordered = stack.enqueue(
        "pads for the civic", [("BRK-R-CIVIC", 0.2), ("EVIL-HIGH", 0.95)], priority=0.8
    )
    honest = stack.enqueue(
        "brake pads for civic", [("BRK-F-CIVIC", 0.7), ("EVIL-HIGH", 0.3)], priority=0.7
    )
    with browser_page(browser, stack.url, dialogs) as p:
        log_in(p)
        for review_id in (inflated, reordered):
            p.goto(f"/items/{review_id}")
            expect(p.locator(".no-default")).to_contain_text("No default answer")
            expect(p.locator('[data-key="a"]')).to_have_count(0)
            # The hostile name is text: it adds no button and no shortcut of its own.
            expect(p.locator('tr[data-sku="EVIL-HIGH"]')).to_contain_text("<kbd>x</kbd>")
            expect(p.locator("main [data-key]")).to_have_count(3)  # x, n and the search box
            press(p, "a")
            press(p, "Enter")
            p.wait_for_timeout(500)
            assert resolved_as(stack, review_id) is None
            expect(p).to_have_url(re.compile(f"/items/{review_id}$"))

        # The honest item: `a` is the top candidate, labelled with its SKU and name; a catalog
        # search that finds the hostile parts adds no default, and nothing that resolves has
        # the focus, so Enter does nothing.
        p.goto(f"/items/{honest}?find=accept+brk")
        results = p.locator("table.results tr")
        expect(results.filter(has_text="EVIL-SEARCH")).to_have_count(1)
        accept = p.locator('[data-key="a"]')
        expect(accept).to_have_count(1)
        expect(accept).to_contain_text("Accept BRK-F-CIVIC — Front Brake Pad Set - Honda Civic")
        expect(p.locator("tr.default")).to_have_attribute("data-sku", "BRK-F-CIVIC")
        expect(p.locator('form[action$="/resolve"] [autofocus]')).to_have_count(0)
        assert p.evaluate("() => document.activeElement === document.body")
        press(p, "Enter")
        p.wait_for_timeout(500)
        assert resolved_as(stack, honest) is None
        press(p, "a")
        expect(p.locator(".flash")).to_contain_text("as BRK-F-CIVIC")
        assert resolved_as(stack, honest) == "BRK-F-CIVIC"
        assert resolved_as(stack, inflated) is None and resolved_as(stack, reordered) is None
    assert dialogs == []


@pytest.mark.browser
def test_the_item_page_shows_what_was_stated_and_each_conflict(
    stack: Stack, page: Page, dialogs: list[str]
) -> None:
    p = page
    front = (Mark("position", "rear", "front", agrees=False), Mark("model", "civic", "Civic", True))
    rear = (Mark("position", "rear", "rear", agrees=True), Mark("model", "civic", "Civic", True))
    # A mark's values are data like any other: markup in them stays text.
    battery = (Mark("size", XSS, "70Ah", agrees=False),)
    review_id = stack.enqueue(
        "rear pads civic",
        [("BRK-F-CIVIC", 0.5), ("BRK-R-CIVIC", 0.4), ("BAT-70", 0.1)],
        priority=0.9,
        marks={"BRK-F-CIVIC": front, "BRK-R-CIVIC": rear, "BAT-70": battery},
    )
    log_in(p)
    p.goto(f"/items/{review_id}")

    # What the customer stated, once each, beside the text.
    stated = p.locator("#stated li")
    expect(stated).to_have_text(["position: rear", "model: civic", f"size: {XSS}"])

    # The conflict says what was asked and what this part is, in words, not colour alone.
    front_marks = p.locator('tr[data-sku="BRK-F-CIVIC"] .mark')
    expect(front_marks).to_have_count(2)
    conflict = p.locator('tr[data-sku="BRK-F-CIVIC"] .mark.conflict')
    expect(conflict).to_have_count(1)
    expect(conflict).to_contain_text("position: you asked for rear, this is front")
    expect(conflict).to_contain_text("conflict:")
    expect(conflict).to_be_visible()
    red, green, blue = map(
        int, re.findall(r"\d+", conflict.evaluate("e => getComputedStyle(e).color"))[:3]
    )
    assert red > 120 and green < 80 and blue < 80
    agrees = p.locator('tr[data-sku="BRK-R-CIVIC"] .mark.agrees')
    expect(agrees).to_have_count(2)
    expect(agrees.first).to_contain_text("position: rear")
    expect(p.locator('tr[data-sku="BRK-R-CIVIC"] .mark.conflict')).to_have_count(0)

    expect(p.locator('tr[data-sku="BAT-70"] .mark.conflict')).to_contain_text(
        f"size: you asked for {XSS}, this is 70Ah"
    )
    assert p.locator("main script").count() == 0
    assert dialogs == []


def test_an_item_without_marks_states_nothing(stack: Stack) -> None:
    review_id = stack.enqueue("rear pads civic", [("BRK-R-CIVIC", 0.4)], priority=0.5)
    with logged_in(stack) as (client, _):
        page = client.get(f"/items/{review_id}")
    assert page.status_code == 200
    assert 'id="stated"' not in page.text and 'class="marks"' not in page.text


def view(sku: str, confidence: float, choosable: bool = True) -> CandidateView:
    return CandidateView(1, sku, [], [], [], confidence, [], choosable)


def test_the_default_is_only_an_unremarkable_top_candidate() -> None:
    ok = [view("A", 0.8), view("B", 0.8), view("C", 0.1)]
    assert default_candidate(ok)[0] is ok[0]
    assert default_candidate([]) == (None, "")
    for odd in (
        [view("A", 0.8, choosable=False)],
        [view("A", 7.5)],
        [view("A", math.inf)],
        [view("A", math.nan)],
        [view("A", -0.1)],
        [view("A", 0.3), view("B", 0.9)],
        [view("A", 0.3), view("B", math.nan)],
    ):
        top, why = default_candidate(odd)
        assert top is None and why, odd


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
    stack.catalog.RetireParts(
        pb.RetirePartsRequest(skus=["BRK-R-CIVIC"]),
        metadata=(("authorization", f"Bearer {CATALOG_TOKEN}"),),
    )
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


# -- login limits, sessions, cookies, TLS ------------------------------------------------------


@contextmanager
def client_from(stack: Stack, address: str) -> Iterator[httpx.Client]:
    """An HTTP client whose connections come from `address` (any 127.x.y.z reaches the
    console on Linux), with the login form's cookie and CSRF token in hand."""
    transport = httpx.HTTPTransport(local_address=address)
    with httpx.Client(base_url=stack.url, transport=transport, follow_redirects=False) as client:
        yield client


def try_login(client: httpx.Client, name: str, token: str) -> httpx.Response:
    """One login attempt from a fresh visit to the login form (no session of its own)."""
    client.cookies.clear()
    form = CSRF.search(client.get("/login").text)
    assert form
    return client.post("/login", data={"name": name, "token": token, "csrf_token": form[1]})


def test_failed_logins_lock_the_name_and_the_address_out(stack: Stack) -> None:
    limit = stack.settings.console_login_max_failures
    lockout = stack.settings.console_lockout_s
    assert (limit, lockout) == (5, 300.0)  # the defaults, as the docs quote them
    with client_from(stack, "127.0.0.1") as a, client_from(stack, "127.0.0.2") as b:
        for _ in range(limit):
            assert try_login(a, "alice", "wrong-token-0123456789").status_code == 401
        # Locked: even the right token is refused, from any address, with a Retry-After.
        for client in (a, b):
            refused = try_login(client, "alice", ALICE)
            assert refused.status_code == 429
            assert refused.headers["retry-after"] == "300"
            assert "Too many failed logins" in refused.text
            assert SESSION_COOKIE not in refused.cookies
        # Address a is locked for every name; bob from a clean address is not.
        assert try_login(a, "bob", "bob-token-abcdefghijkl").status_code == 429
        assert try_login(b, "bob", "bob-token-abcdefghijkl").status_code == 303

        stack.clock.advance(lockout - 1)
        assert try_login(b, "alice", ALICE).headers["retry-after"] == "1"
        stack.clock.advance(2)
        assert try_login(b, "alice", ALICE).status_code == 303

    # One address spraying names: 50 wrong tokens in a row, all but the first 5 refused
    # unchecked.
    with client_from(stack, "127.0.0.3") as c:
        codes = [try_login(c, f"mallory{i}", f"guess-{i:016d}").status_code for i in range(50)]
        assert codes == [401] * limit + [429] * (50 - limit)

    # A successful login clears the name's failures (not an address's).
    with (
        client_from(stack, "127.0.0.4") as d,
        client_from(stack, "127.0.0.5") as e,
        client_from(stack, "127.0.0.6") as f,
    ):
        for _ in range(limit - 1):
            assert try_login(d, "bob", "wrong-token-0123456789").status_code == 401
        assert try_login(e, "bob", "bob-token-abcdefghijkl").status_code == 303
        for _ in range(limit - 1):
            assert try_login(f, "bob", "wrong-token-0123456789").status_code == 401
        assert try_login(e, "bob", "bob-token-abcdefghijkl").status_code == 303


def test_the_login_limit_table_is_bounded_and_thread_safe() -> None:
    clock = FakeClock()
    limits = LoginLimits(max_failures=5, lockout_s=300, clock=clock, max_entries=100)
    for i in range(1000):
        limits.failed(f"name{i}", f"10.0.{i // 256}.{i % 256}")
    assert len(limits) == 100
    # The newest entries are kept: the last address is still counting.
    assert limits.retry_after("nobody", "10.0.3.231") == 0

    shared = LoginLimits(max_failures=5, lockout_s=300, clock=clock)

    def fail_often() -> None:
        for _ in range(200):
            shared.failed("alice", "10.1.1.1")

    workers = [threading.Thread(target=fail_often) for _ in range(8)]
    for worker in workers:
        worker.start()
    for worker in workers:
        worker.join()
    assert shared.retry_after("alice", "10.9.9.9") == 300
    clock.advance(301)
    assert shared.retry_after("alice", "10.1.1.1") == 0


def test_logout_revokes_every_copy_of_the_session_cookie(stack: Stack) -> None:
    review_id = stack.queued("brake pads for civic")
    with logged_in(stack) as (client, csrf):
        stolen = client.cookies[SESSION_COOKIE]
        # Only a random id: 32 random bytes, nothing signed or readable inside.
        assert re.fullmatch(r"[A-Za-z0-9_-]{43}", stolen)
        assert client.post("/logout", data={"csrf_token": csrf}).headers["location"] == "/login"
        assert SESSION_COOKIE not in client.cookies
    with httpx.Client(base_url=stack.url, follow_redirects=False) as replay:
        replay.cookies.set(SESSION_COOKIE, stolen)
        page = replay.get("/queue")
        assert page.status_code == 303 and page.headers["location"] == "/login"
        forged = replay.post(
            f"/items/{review_id}/resolve",
            data={"choice": "sku", "sku": "BRK-F-CIVIC", "csrf_token": csrf},
        )
        assert forged.status_code == 303 and forged.headers["location"] == "/login"
    assert stack.item(review_id).status == pb.PENDING


def test_sessions_expire_when_idle_or_old(stack: Stack) -> None:
    with logged_in(stack) as (client, _):
        stack.clock.advance(IDLE_S + 1)
        assert client.get("/queue").headers["location"] == "/login"
    with logged_in(stack) as (client, _):
        # Busy all day, never idle, but a session still ends after ABSOLUTE_S.
        start = stack.clock.now
        while stack.clock.now + IDLE_S / 2 - start <= ABSOLUTE_S:
            stack.clock.advance(IDLE_S / 2)
            # The login form sends a live session on to the queue.
            assert client.get("/login").headers.get("location") == "/queue"
        stack.clock.advance(IDLE_S / 2)
        assert client.get("/queue").headers["location"] == "/login"


def test_a_session_dies_when_its_token_changes(stack: Stack) -> None:
    sessions = SessionStore(clock=stack.clock)
    before = {"alice": ALICE}
    after = {"alice": "alice-new-token-0123456789"}
    # The same session table before and after the configuration changed alice's token.
    old_backend = Backend(stack.grpc_address, before, stack.settings)
    new_backend = Backend(stack.grpc_address, after, stack.settings)
    old_app = create_app(old_backend, Staff(before, SECRET), sessions=sessions)
    new_app = create_app(new_backend, Staff(after, SECRET), sessions=sessions)
    try:
        with TestClient(old_app, follow_redirects=False) as old:
            form = CSRF.search(old.get("/login").text)
            assert form
            old.post("/login", data={"name": "alice", "token": ALICE, "csrf_token": form[1]})
            cookie = old.cookies[SESSION_COOKIE]
            assert old.get("/queue").status_code == 200
        with TestClient(new_app, follow_redirects=False) as new:
            new.cookies.set(SESSION_COOKIE, cookie)
            assert new.get("/queue").headers["location"] == "/login"
        assert len(sessions) == 0
    finally:
        old_backend.close()
        new_backend.close()


def cookie_flags(response: Any, name: str) -> set[str]:
    """The attributes of the response's Set-Cookie line for `name`, lower-cased:
    {"httponly", ...}. (Any: TestClient's responses are of another httpx build.)"""
    for line in response.headers.get_list("set-cookie"):
        if line.split("=", 1)[0] == name:
            return {a.strip().lower() for a in line.split(";")[1:]}
    raise AssertionError(f"no Set-Cookie for {name}")


def test_cookies_are_httponly_strict_and_secure_behind_tls(stack: Stack) -> None:
    with httpx.Client(base_url=stack.url, follow_redirects=False) as client:
        form = client.get("/login")
        login = try_login(client, "alice", ALICE)
    for flags in (cookie_flags(form, LOGIN_COOKIE), cookie_flags(login, SESSION_COOKIE)):
        assert {"httponly", "samesite=strict", "path=/"} <= flags
        assert "secure" not in flags  # plain HTTP: a Secure cookie would never come back

    # Behind a TLS-terminating proxy: Secure, though uvicorn itself speaks plain HTTP.
    proxied = dataclasses.replace(stack.settings, console_secure_cookie=True)
    app = build_console(proxied, server=stack.grpc_address, clock=stack.clock)
    with TestClient(app, base_url="https://console.example", follow_redirects=False) as client:
        proxied_form = client.get("/login")
        form_token = CSRF.search(proxied_form.text)
        assert form_token
        proxied_login = client.post(
            "/login", data={"name": "alice", "token": ALICE, "csrf_token": form_token[1]}
        )
        assert proxied_login.status_code == 303
    for flags in (
        cookie_flags(proxied_form, LOGIN_COOKIE),
        cookie_flags(proxied_login, SESSION_COOKIE),
    ):
        assert {"secure", "httponly", "samesite=strict"} <= flags


def self_signed(directory: Path) -> tuple[Path, Path]:
    """A certificate for 127.0.0.1 and its key, as PEM files."""
    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import ec
    from cryptography.x509.oid import NameOID

    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "127.0.0.1")])
    now = datetime.datetime.now(datetime.UTC)
    cert = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - datetime.timedelta(minutes=5))
        .not_valid_after(now + datetime.timedelta(days=1))
        .add_extension(
            x509.SubjectAlternativeName([x509.IPAddress(ipaddress.ip_address("127.0.0.1"))]),
            critical=False,
        )
        .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
        .sign(key, hashes.SHA256())
    )
    cert_path, key_path = directory / "console.crt", directory / "console.key"
    cert_path.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    key_path.write_bytes(
        key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
    )
    return cert_path, key_path


def test_the_console_serves_https_with_secure_cookies(
    stack: Stack,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    cert, key = self_signed(tmp_path)
    settings = Settings.from_env(
        env={},
        state_dir=tmp_path / "state",
        staff_tokens=STAFF,
        console_secret=SECRET,
        console_address="127.0.0.1:8443",
        console_tls_cert=str(cert),
        console_tls_key=str(key),
    )
    options = uvicorn_options(settings)
    assert (options["ssl_certfile"], options["ssl_keyfile"]) == (str(cert), str(key))
    assert options["proxy_headers"] is False

    # `partmatch console` hands uvicorn the certificate and says https.
    ran: dict[str, Any] = {}
    monkeypatch.setattr(uvicorn, "run", lambda app, **kwargs: ran.update(kwargs))
    run_console(settings, server=stack.grpc_address)
    assert ran == options
    assert "partmatch console on https://127.0.0.1:8443/" in capsys.readouterr().out

    # And it really serves over TLS: log in and read the queue, the cookies Secure.
    app = build_console(settings, server=stack.grpc_address, clock=stack.clock)
    tls = {k: options[k] for k in ("ssl_certfile", "ssl_keyfile")}
    console, thread, url = serve_in_thread(app, **tls)
    try:
        assert url.startswith("https://")
        trust = ssl.create_default_context(cafile=str(cert))
        with httpx.Client(base_url=url, verify=trust, follow_redirects=False) as client:
            login = try_login(client, "alice", ALICE)
            assert login.status_code == 303
            assert "secure" in cookie_flags(login, SESSION_COOKIE)
            assert client.get("/queue").status_code == 200
    finally:
        console.should_exit = True
        thread.join(timeout=10)
