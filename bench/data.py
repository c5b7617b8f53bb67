"""Deterministic benchmark inboxes in LinkedIn's real id formats.

:func:`linkmsg.memory.demo_inbox` spaces messages up to 36 hours apart, which
for 100,000 messages reaches back before 1970; these inboxes space them 30 s to
2 h apart and otherwise look the same (unicode names and text, groups,
attachments, reactions, outgoing and incoming).
"""

from __future__ import annotations

import random
from datetime import UTC, datetime, timedelta

from linkmsg.identity import conversation_urn, message_urn
from linkmsg.memory import Inbox, _person, demo_inbox, message_id_for, thread_id_for
from linkmsg.model import Attachment, Conversation, Message, MessageKind, Participant, Reaction

_LINES = [
    "Thanks for connecting! 🙌",
    "Are you free for a quick call next week?",
    "Here is the deck we discussed — let me know what you think about slides 4 to 9.",
    "Congrats on the new role 🎉",
    "Could you share the pricing sheet?",
    "Sounds good — talk soon.",
    "Merci beaucoup ! On se parle jeudi.",
    "Would Tuesday 10:00 CET work? Otherwise Wednesday afternoon is free on my side.",
    "👍",
    "Following up on my last message.",
]
_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
_NOW = datetime(2026, 11, 1, 12, 0, tzinfo=UTC)


def make_inbox(conversations: int, messages: int, seed: int = 3) -> Inbox:
    """``conversations`` threads of ``messages`` messages each, newest first."""
    owner = demo_inbox(seed=seed, conversations=0).owner
    owner_urn = owner.urn or ""
    rng = random.Random(seed)
    inbox = Inbox(owner)
    person = 0
    for c in range(conversations):
        bits = (rng.getrandbits(32), rng.getrandbits(16), rng.getrandbits(12), rng.getrandbits(12), rng.getrandbits(48))
        uuid = "{:08x}-{:04x}-4{:03x}-8{:03x}-{:012x}".format(*bits)
        thread = thread_id_for(uuid)
        conv_id = conversation_urn(owner_urn, thread)
        people: list[Participant] = []
        for _ in range(3 if c % 10 == 4 else 1):
            people.append(_person(rng, person))
            person += 1
        ms = int((_NOW - timedelta(minutes=c * 7)).timestamp() * 1000)
        items: list[Message] = []
        for n in range(messages):
            outgoing = rng.random() < 0.4
            attachments: tuple[Attachment, ...] = ()
            reactions: tuple[Reaction, ...] = ()
            if rng.random() < 0.05:
                attachments = (Attachment("file", f"https://media.example.invalid/{c}/{n}.pdf", f"doc-{n}.pdf"),)
            if rng.random() < 0.05:
                reactions = (Reaction("👍", rng.randint(1, 3), rng.random() < 0.5),)
            items.append(
                Message(
                    id=message_urn(owner_urn, message_id_for(ms, n, uuid)),
                    conversation_id=conv_id,
                    text=rng.choice(_LINES),
                    sent_at=_EPOCH + timedelta(milliseconds=ms),
                    sender=owner if outgoing else people[rng.randrange(len(people))],
                    outgoing=outgoing,
                    kind=MessageKind.TEXT,
                    attachments=attachments,
                    reactions=reactions,
                )
            )
            ms -= rng.randint(30_000, 7_200_000)
        inbox.add(
            Conversation(
                id=conv_id,
                thread_id=thread,
                participants=tuple(people),
                unread_count=c % 3,
                last_activity_at=items[0].sent_at if items else None,
                latest_message=items[0] if items else None,
                category="inbox",
            ),
            items,
        )
    return inbox
