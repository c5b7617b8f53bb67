"""The fake vendor server itself: each fault does what it promises, and every wait is bounded."""

from __future__ import annotations

import contextlib
import json
import threading
import time
from collections.abc import Iterator
from typing import Any

import httpx
import pytest

from linkmsg.testing.server import MAX_DELAY, FakeVendorServer, Fault, find_items


class Echo:
    """A minimal emulator: pages of numbered items, ``?page=N``; POST bodies are kept."""

    def __init__(self) -> None:
        self.requests: list[httpx.Request] = []
        self.lock = threading.Lock()

    def __call__(self, request: httpx.Request) -> httpx.Response:
        with self.lock:
            self.requests.append(request)
        if request.url.path == "/boom":
            raise RuntimeError("emulator bug")
        page = int(request.url.params.get("page", "1"))
        items = [{"id": f"i{page}-{n}"} for n in range(3)]
        return httpx.Response(200, json={"data": {"items": items, "next": page + 1}, "echo": request.content.decode()})


@pytest.fixture
def echo() -> Echo:
    return Echo()


@pytest.fixture
def server(echo: Echo) -> Iterator[FakeVendorServer]:
    with FakeVendorServer(echo, socket_timeout=2.0) as srv:
        yield srv


@pytest.fixture
def http() -> Iterator[httpx.Client]:
    with httpx.Client(timeout=2.0) as client:
        yield client


def test_serves_the_emulator_on_an_os_assigned_local_port(server: FakeVendorServer, http: httpx.Client) -> None:
    assert server.url.startswith("http://127.0.0.1:") and server.port > 0
    response = http.post(server.url + "/x?page=2", json={"secret": 1}, headers={"authorization": "Bearer tok"})
    assert response.status_code == 200 and response.json()["data"]["next"] == 3
    (record,) = server.records()
    assert (record.method, record.path, record.query, record.json()) == ("POST", "/x", "page=2", {"secret": 1})
    assert record.status == 200 and record.processed and record.fault is None
    assert record.headers["authorization"] == "Bearer tok"
    assert "secret" not in repr(record) and "tok" not in repr(record)  # bodies and headers stay out of reprs


def test_faults_skip_then_apply_a_bounded_number_of_times(server: FakeVendorServer, http: httpx.Client) -> None:
    server.schedule(Fault(path="^/a$", after=1, times=2, status=503, json={"error": "down"}))
    codes = [http.get(server.url + "/a").status_code for _ in range(5)]
    assert codes == [200, 503, 503, 200, 200]
    assert http.get(server.url + "/b").status_code == 200
    assert not server.pending_faults


def test_a_replaced_answer_skips_the_emulator_unless_asked(
    server: FakeVendorServer, http: httpx.Client, echo: Echo
) -> None:
    server.schedule(
        Fault(status=500, body=b"<html>oops</html>", headers={"content-type": "text/html"}),
        Fault(status=502, json={"e": 1}, call_emulator=True),
    )
    first = http.post(server.url + "/send", content=b"one")
    second = http.post(server.url + "/send", content=b"two")
    assert (first.status_code, first.text, first.headers["content-type"]) == (500, "<html>oops</html>", "text/html")
    assert (second.status_code, second.json()) == (502, {"e": 1})
    assert [r.content for r in echo.requests] == [b"two"]


def test_when_matches_on_the_request_body(server: FakeVendorServer, http: httpx.Client) -> None:
    server.schedule(Fault(when=lambda r: json.loads(r.content).get("action") == "send", status=429))
    assert http.post(server.url + "/v2", json={"action": "list"}).status_code == 200
    assert http.post(server.url + "/v2", json={"action": "send"}).status_code == 429


@pytest.mark.parametrize(("mode", "processed"), [("before_body", False), ("after_body", True), (True, True)])
def test_a_dropped_connection_answers_nothing(
    server: FakeVendorServer, http: httpx.Client, echo: Echo, mode: Any, processed: bool
) -> None:
    server.schedule(Fault(drop=mode))
    with pytest.raises(httpx.TransportError):
        http.post(server.url + "/send", content=b"payload")
    (record,) = server.records()
    assert record.status is None and record.processed is processed and len(echo.requests) == int(processed)
    assert http.get(server.url + "/after").status_code == 200  # the server lives on


def test_truncate_sends_valid_http_with_a_broken_body(server: FakeVendorServer, http: httpx.Client) -> None:
    server.schedule(Fault(truncate=True), Fault(truncate=5))
    half = http.get(server.url + "/x")
    with pytest.raises(ValueError):
        half.json()
    assert len(http.get(server.url + "/x").content) == 5


def test_cut_kills_the_connection_mid_body(server: FakeVendorServer, http: httpx.Client) -> None:
    server.schedule(Fault(cut=True))
    with pytest.raises(httpx.RemoteProtocolError):
        http.get(server.url + "/x")


def test_delay_holds_the_answer_and_stop_cuts_it_short(echo: Echo) -> None:
    srv = FakeVendorServer(echo).start()
    srv.schedule(Fault(delay=0.3), Fault(delay=MAX_DELAY))
    with httpx.Client(timeout=5.0) as http:
        started = time.monotonic()
        http.get(srv.url + "/slow")
        assert time.monotonic() - started >= 0.3

        def late() -> None:
            with contextlib.suppress(httpx.HTTPError):
                http.get(srv.url + "/slower")

        thread = threading.Thread(target=late)
        thread.start()
        time.sleep(0.1)
        started = time.monotonic()
        srv.stop()
        thread.join(5)
    assert time.monotonic() - started < 2 and not thread.is_alive()


def test_repeat_cursor_serves_one_frozen_page(server: FakeVendorServer, http: httpx.Client) -> None:
    server.schedule(Fault(after=1, times=3, repeat_cursor=True))
    pages = [http.get(server.url + f"/list?page={n}").json()["data"]["next"] for n in (1, 2, 3, 4, 5)]
    assert pages == [2, 2, 2, 2, 6]


def test_repeat_items_puts_the_previous_pages_tail_first(server: FakeVendorServer, http: httpx.Client) -> None:
    server.schedule(Fault(after=1, repeat_items=2))
    http.get(server.url + "/list?page=1")
    ids = [i["id"] for i in http.get(server.url + "/list?page=2").json()["data"]["items"]]
    assert ids == ["i1-1", "i1-2", "i2-0", "i2-1", "i2-2"]


def test_drift_rewrites_the_json(server: FakeVendorServer, http: httpx.Client) -> None:
    server.schedule(Fault(drift=lambda d: {**d, "data": {"renamed": d["data"]["items"]}}, headers={"x-extra": "1"}))
    response = http.get(server.url + "/list")
    assert "items" not in response.json()["data"] and response.headers["x-extra"] == "1"


def test_an_emulator_exception_is_a_500_and_an_error_entry(server: FakeVendorServer, http: httpx.Client) -> None:
    assert http.get(server.url + "/boom").status_code == 500
    assert server.errors and "RuntimeError" in server.errors[0]


def test_in_flight_requests_are_counted(server: FakeVendorServer) -> None:
    server.schedule(Fault(delay=0.3, times=3))
    clients = [httpx.Client(timeout=3) for _ in range(3)]
    barrier = threading.Barrier(3, timeout=5)

    def hit(client: httpx.Client) -> None:
        barrier.wait()
        client.get(server.url + "/x")

    threads = [threading.Thread(target=hit, args=(c,)) for c in clients]
    for t in threads:
        t.start()
    for t in threads:
        t.join(5)
    for c in clients:
        c.close()
    assert server.max_in_flight == 3
    # The server thread counts a request done just after the client has its answer.
    deadline = time.monotonic() + 2
    while server.in_flight and time.monotonic() < deadline:
        time.sleep(0.01)
    assert server.in_flight == 0


def test_stop_is_quick_with_idle_keep_alive_connections(echo: Echo) -> None:
    srv = FakeVendorServer(echo, socket_timeout=30).start()
    with httpx.Client() as http:
        http.get(srv.url + "/x")  # leaves a keep-alive connection parked on the server
        started = time.monotonic()
        srv.stop()
        assert time.monotonic() - started < 1
        with pytest.raises(httpx.ConnectError):
            httpx.get(srv.url + "/x", timeout=1)


@pytest.mark.parametrize(
    "kwargs", [{"times": 0}, {"times": 10**6}, {"delay": -1}, {"delay": MAX_DELAY + 1}, {"after": -1}]
)
def test_faults_are_validated(kwargs: dict[str, Any]) -> None:
    with pytest.raises(ValueError):
        Fault(**kwargs)


def test_find_items_picks_the_longest_list_of_objects() -> None:
    doc = {"meta": [{"a": 1}], "data": {"messages": [{"id": 1}, {"id": 2}], "tags": ["x", "y", "z"]}}
    assert find_items(doc) == [{"id": 1}, {"id": 2}]
    assert find_items({"a": 1}) is None
