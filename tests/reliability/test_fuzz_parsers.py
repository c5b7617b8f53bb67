"""Arbitrary vendor answers through every provider's full client path raise nothing but LinkmsgError.

Each provider's client is driven through ``httpx.MockTransport`` whose answer
hypothesis chooses: any status, any content type, and a body that is arbitrary
JSON, a documented answer (rendered by the provider's own emulator) with
fields deleted or replaced, cut short, or not JSON at all. Whatever comes back,
the operation returns normally or raises a :class:`LinkmsgError` whose text and
repr hold no secret. At least 2,000 examples per provider.
"""

from __future__ import annotations

import contextlib
import json
import os
from collections.abc import Callable
from typing import Any

import attrs
import httpx
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import linkmsg
from linkmsg.errors import LinkmsgError
from linkmsg.memory import demo_inbox
from linkmsg.model import Capability

from .vendors import FACTORIES, VendorProfile, traces

EXAMPLES = int(os.environ.get("LINKMSG_FUZZ_EXAMPLES", "2000"))
BASE_URL = "https://fuzz.invalid"
STATUSES = [200, 200, 200, 201, 204, 400, 401, 402, 403, 404, 408, 409, 422, 429, 500, 502, 503]
CONTENT_TYPES = ["application/json", "application/json; charset=utf-8", "text/html", "text/plain", None]

Op = Callable[[linkmsg.Client], object]


@attrs.define
class Target:
    """What the fuzzer needs of one provider: its client settings, operations, and documented answers."""

    ops: list[tuple[str, Op]]
    samples: list[Any]


def _leaf(secrets: tuple[str, ...]) -> st.SearchStrategy[Any]:
    return st.one_of(
        st.none(),
        st.booleans(),
        st.integers(min_value=-(2**70), max_value=2**70),
        st.floats(allow_nan=False, allow_infinity=False),
        st.text(max_size=30),
        st.sampled_from(
            [
                *secrets,
                "",
                "2026-11-01T12:00:00Z",
                "1793527200000",
                "urn:li:fsd_profile:ACoAAB1234",
                "urn:li:msg_conversation:(urn:li:fsd_profile:ACoAAB,2-abc)",
                "2-MTc5MzUyNzIwMDAwMGIwLTEwMA==",
                "null",
                "success",
                "error",
            ]
        ),
    )


def json_values(secrets: tuple[str, ...]) -> st.SearchStrategy[Any]:
    """Arbitrary JSON whose strings include the client's own credentials (a vendor echoing them)."""
    return st.recursive(
        _leaf(secrets),
        lambda children: st.one_of(
            st.lists(children, max_size=4),
            st.dictionaries(
                st.one_of(st.text(max_size=12), st.sampled_from(["data", "success", "error", "status", "items"])),
                children,
                max_size=5,
            ),
        ),
        max_leaves=15,
    )


@st.composite
def mutated(draw: st.DrawFn, value: Any, values: st.SearchStrategy[Any], depth: int = 0) -> Any:
    """A documented answer with fields deleted, replaced by arbitrary JSON, or nested parts mutated."""
    if depth > 6 or draw(st.integers(0, 15)) == 0:
        return draw(values) if draw(st.booleans()) else value
    if isinstance(value, dict):
        out = {}
        for key, item in value.items():
            roll = draw(st.integers(0, 12))
            if roll == 0:
                continue  # the field vanished
            out[key] = draw(mutated(item, values, depth + 1)) if roll <= 4 else item
        return out
    if isinstance(value, list) and value:
        keep = value[: draw(st.integers(0, len(value)))]
        return [draw(mutated(item, values, depth + 1)) for item in keep]
    return value


def answers(samples: list[Any], secrets: tuple[str, ...]) -> st.SearchStrategy[tuple[int, dict[str, str], bytes]]:
    documented = st.sampled_from(samples) if samples else st.just({})
    values = json_values(secrets)
    as_json = st.one_of(values, documented.flatmap(lambda v: mutated(v, values)), documented).map(
        lambda v: json.dumps(v).encode()
    )
    broken = documented.map(lambda v: json.dumps(v).encode()).flatmap(
        lambda raw: st.integers(0, max(0, len(raw) - 1)).map(lambda n: raw[:n])
    )
    body = st.one_of(
        as_json,
        as_json,
        as_json,
        broken,
        st.binary(max_size=64),
        st.just(b"<!DOCTYPE html><html><body>502 Bad Gateway</body></html>"),
    )
    headers = st.fixed_dictionaries(
        {},
        optional={
            "content-type": st.sampled_from([c for c in CONTENT_TYPES if c]),
            "retry-after": st.sampled_from(["0", "1", "bogus", "Wed, 21 Oct 2015 07:28:00 GMT", "99999"]),
            "x-ratelimit-reset": st.sampled_from(["0", "1893456000", "soon"]),
        },
    )
    return st.tuples(st.sampled_from(STATUSES), headers, body)


def _target(profile: VendorProfile) -> Target:
    """Run every operation once against the emulator: documented answers, a real cursor, real ids."""
    inbox = demo_inbox(seed=4, conversations=4, messages_per_conversation=6)
    emulator = profile.make_emulator(inbox)
    samples: list[Any] = []

    def recording(request: httpx.Request) -> httpx.Response:
        response = emulator(request)
        with contextlib.suppress(ValueError):
            samples.append(json.loads(response.read()))
        return response

    options = {**profile.settings, "base_url": BASE_URL, "max_retries": 0}
    conversation = next(c for c in inbox.sorted_conversations() if len(c.participants) == 1)
    urn = conversation.participants[0].urn
    with linkmsg.Client(profile.name, http_transport=httpx.MockTransport(recording), **options) as client:
        conversations = client.list_conversations(limit=2)
        history = client.list_messages(conversation.id, limit=2)
        capabilities = client.capabilities
        if Capability.SEND_TO_PROFILE in capabilities:
            client.send_message("hello", to=urn)
        if Capability.REPLY_IN_CONVERSATION in capabilities:
            client.send_message("hello", conversation=conversation.id)
    ops: list[tuple[str, Op]] = [
        ("list_conversations", lambda c: c.list_conversations(limit=3)),
        ("next_conversations", lambda c: c.list_conversations(limit=2, cursor=conversations.next_cursor)),
        ("list_messages", lambda c: c.list_messages(conversation.id, limit=3)),
        ("next_messages", lambda c: c.list_messages(conversation.id, limit=2, cursor=history.next_cursor)),
        ("iter_messages", lambda c: sum(1 for _ in c.iter_messages(conversation.id, page_size=3))),
    ]
    if Capability.SEND_TO_PROFILE in capabilities:
        ops.append(("send_to_profile", lambda c: c.send_message("hi", to=urn)))
    if Capability.REPLY_IN_CONVERSATION in capabilities:
        ops.append(("reply", lambda c: c.send_message("hi", conversation=conversation.id)))
    return Target(ops, samples)


def _params() -> list[Any]:
    return [pytest.param(name, id=name) for name in FACTORIES]


@pytest.mark.parametrize("name", _params())
def test_arbitrary_answers_raise_only_linkmsg_errors(name: str) -> None:
    module, factory = FACTORIES[name]
    if module is not None:
        pytest.importorskip(module, reason=f"{module} has not landed yet")
    profile = factory()
    target = _target(profile)
    assert target.samples, "the emulator rendered nothing to mutate"
    current: dict[str, tuple[int, dict[str, str], bytes]] = {}
    requests = [0]

    def answer(request: httpx.Request) -> httpx.Response:
        requests[0] += 1
        assert requests[0] < 10_000_000
        status, headers, body = current["answer"]
        return httpx.Response(status, headers=headers, content=body)

    options = {**profile.settings, "base_url": BASE_URL, "max_retries": 0, "backoff": 0.0}
    client = linkmsg.Client(profile.name, http_transport=httpx.MockTransport(answer), **options)
    outcomes: dict[str, int] = {}

    @settings(
        max_examples=EXAMPLES,
        deadline=None,
        database=None,
        suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large, HealthCheck.large_base_example],
    )
    @given(st.sampled_from(target.ops), answers(target.samples, profile.secrets))
    def check(op: tuple[str, Op], response: tuple[int, dict[str, str], bytes]) -> None:
        current["answer"] = response
        label, call = op
        try:
            call(client)
        except LinkmsgError as error:
            text = f"{error}\n{error!r}\n{vars(error)!r}"
            assert not any(s in text for s in traces(profile.secrets)), f"{label}: a secret leaked into {type(error)}"
            outcomes[type(error).__name__] = outcomes.get(type(error).__name__, 0) + 1
        else:
            outcomes["ok"] = outcomes.get("ok", 0) + 1

    try:
        check()
    finally:
        client.close()
    assert sum(outcomes.values()) >= EXAMPLES
    assert outcomes.get("ok", 0) > 0 and len(outcomes) >= 3, outcomes  # the fuzzer reached success and errors
