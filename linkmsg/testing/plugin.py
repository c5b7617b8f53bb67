"""pytest plugin (entry point ``pytest11``): fixtures for testing code that uses linkmsg.

``linkmsg_inbox`` is a fresh deterministic demo inbox; ``linkmsg_client`` is a
:class:`linkmsg.Client` on the in-memory provider serving it, so a user's tests
exercise their real code with no vendor and no network.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import TYPE_CHECKING

import pytest

if TYPE_CHECKING:
    from linkmsg.client import Client
    from linkmsg.memory import Inbox


@pytest.fixture
def linkmsg_inbox() -> Inbox:
    from linkmsg.memory import demo_inbox

    return demo_inbox()


@pytest.fixture
def linkmsg_client(linkmsg_inbox: Inbox) -> Iterator[Client]:
    from linkmsg.client import Client

    with Client("memory", inbox=linkmsg_inbox) as client:
        yield client
