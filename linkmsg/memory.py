"""The built-in ``memory`` provider: an in-process inbox, no network.

With no configuration, linkmsg serves a seeded demo inbox from here. Tests
build their own :class:`Inbox` and pass it in, the way fsspec users test
against its memory filesystem::

    inbox = Inbox.build(owner=me, threads=[(alice, [("hi", sent_at, False)])])
    client = linkmsg.Client("memory", inbox=inbox)
"""

from __future__ import annotations

import base64
import random
import threading
from collections.abc import Iterable, Mapping, Sequence
from datetime import UTC, datetime, timedelta
from typing import Any, ClassVar

import attrs

from linkmsg.errors import InvalidCursor, NotFoundError
from linkmsg.hookspecs import hookimpl
from linkmsg.identity import ProfileRef, conversation_urn, message_urn, profile_urn
from linkmsg.model import (
    Attachment,
    Capability,
    Conversation,
    Message,
    MessageKind,
    Participant,
    Reaction,
    SendResult,
)
from linkmsg.provider import (
    ConversationTarget,
    Operation,
    Position,
    Provider,
    SendRequest,
    Settings,
    VendorPage,
)

__all__ = ["Inbox", "MemoryProvider", "MemorySettings", "demo_inbox"]


def _b64(text: str) -> str:
    return base64.b64encode(text.encode()).decode()


def thread_id_for(uuid: str) -> str:
    return "2-" + _b64(f"{uuid}_100")


def message_id_for(ms: int, n: int, uuid: str) -> str:
    return "2-" + _b64(f"{ms}b{n}-100&{uuid}_100")


def _thread_uuid(thread_id: str | None) -> str:
    """The uuid inside a ``2-…`` thread id (the inverse of :func:`thread_id_for`)."""
    try:
        return base64.b64decode((thread_id or "")[2:], validate=True).decode().removesuffix("_100")
    except (ValueError, UnicodeDecodeError):
        return thread_id or "x"


@attrs.define(slots=True)
class Inbox:
    """A mailbox: its owner, conversations, and each one's messages newest first."""

    owner: Participant
    conversations: list[Conversation] = attrs.field(factory=list)
    messages: dict[str, list[Message]] = attrs.field(factory=dict)
    lock: threading.Lock = attrs.field(factory=threading.Lock, eq=False, repr=False)

    @property
    def mailbox_urn(self) -> str:
        """The owner's profile URN; a placeholder one when the owner was given without a URN."""
        return self.owner.urn or _PLACEHOLDER_OWNER_URN

    def conversation(self, conversation_id: str) -> Conversation:
        for conv in self.conversations:
            if conv.id == conversation_id or conv.thread_id == conversation_id:
                return conv
        raise NotFoundError(f"no conversation {conversation_id!r} in this inbox", provider="memory", status=404)

    def sorted_conversations(self) -> list[Conversation]:
        return sorted(self.conversations, key=lambda c: (c.last_activity_at or _EPOCH, c.id), reverse=True)

    @classmethod
    def build(
        cls,
        owner: Participant,
        threads: Iterable[tuple[Participant | Sequence[Participant], Sequence[tuple[str, datetime, bool]]]],
    ) -> Inbox:
        """An inbox from plain data: each thread is (other participant(s), [(text, sent_at, outgoing)])."""
        inbox = cls(owner)
        for t, (others, messages) in enumerate(threads):
            people = (others,) if isinstance(others, Participant) else tuple(others)
            uuid = f"{t:08x}-0000-4000-8000-{t:012x}"
            thread = thread_id_for(uuid)
            conv_id = conversation_urn(inbox.mailbox_urn, thread)
            items = []
            for n, (text, sent_at, outgoing) in enumerate(messages):
                ms = int(sent_at.timestamp() * 1000)
                sender = owner if outgoing else people[n % len(people)]
                items.append(
                    Message(
                        id=message_urn(inbox.mailbox_urn, message_id_for(ms, n, uuid)),
                        conversation_id=conv_id,
                        text=text,
                        sent_at=sent_at.astimezone(UTC),
                        sender=sender,
                        outgoing=outgoing,
                    )
                )
            items.sort(key=lambda m: (m.sent_at, m.id), reverse=True)
            inbox.add(
                Conversation(
                    id=conv_id,
                    thread_id=thread,
                    participants=tuple(people),
                    unread_count=0,
                    last_activity_at=items[0].sent_at if items else None,
                    latest_message=items[0] if items else None,
                    category="inbox",
                ),
                items,
            )
        return inbox

    def add(self, conversation: Conversation, messages: Sequence[Message]) -> None:
        self.conversations.append(conversation)
        self.messages[conversation.id] = sorted(messages, key=lambda m: (m.sent_at, m.id), reverse=True)


_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
_PLACEHOLDER_OWNER_URN = "urn:li:fsd_profile:ACoAAOwnerWithoutAnUrnGivenToInboxBuild0"

_FIRST = [
    "Aïcha",
    "Bjørn",
    "Chloé",
    "Dmitri",
    "Eun-ji",
    "Farouk",
    "Grace",
    "Hiroshi",
    "Inès",
    "João",
    "Kwame",
    "Léa",
    "Mateo",
    "Nadia",
    "Oğuz",
    "Priya",
    "Quentin",
    "Rosa",
    "Sven",
    "Thảo",
    "Uma",
    "Viktor",
    "Wen",
    "Ximena",
    "Yusuf",
    "Zoë",
]
_LAST = [
    "Okafor",
    "Lindqvist",
    "Dubois",
    "Petrov",
    "Kim",
    "Haddad",
    "Hopper",
    "Tanaka",
    "Moreau",
    "Silva",
    "Mensah",
    "Martin",
    "García",
    "Rahman",
    "Yılmaz",
    "Sharma",
    "Lefèvre",
    "Díaz",
]
_LINES = [
    "Thanks for connecting! 🙌",
    "Are you free for a quick call next week?",
    "Here is the deck we discussed.",
    "Congrats on the new role 🎉",
    "Could you share the pricing sheet?",
    "Sounds good — talk soon.",
    "I'll loop in my colleague.",
    "Let me check with the team and get back to you.",
    "Great meeting you at the conference!",
    "Would Tuesday 10:00 CET work?",
    "👍",
    "Merci beaucoup !",
    "Following up on my last message.",
    "Here's the link to the recording.",
    "Happy to help 😊",
]


def _person(rng: random.Random, n: int) -> Participant:
    first, last = _FIRST[n % len(_FIRST)], _LAST[(n * 7) % len(_LAST)]
    member = "ACoAA" + "".join(
        rng.choice("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_") for _ in range(34)
    )
    slug = f"{first}-{last}-{n:04d}".lower()
    urn = profile_urn(member)
    return Participant(
        id=urn,
        urn=urn,
        public_id=slug,
        name=f"{first} {last}",
        first_name=first,
        last_name=last,
        headline=rng.choice(["Head of Sales", "CTO", "Recruiter", "Founder", "Engineering Manager", "VP Marketing"]),
        profile_url=f"https://www.linkedin.com/in/{member}",
        picture_url=None,
        is_self=False,
    )


def demo_inbox(
    seed: int = 7, conversations: int = 30, messages_per_conversation: int = 20, start: datetime | None = None
) -> Inbox:
    """A deterministic inbox in LinkedIn's real id formats.

    With the defaults: 30 conversations (3 of them groups), 600 messages,
    unicode names and emoji, attachments, reactions, InMail, unread threads,
    and a pair of messages that share one millisecond (the classic paging trap).
    """
    rng = random.Random(seed)
    owner_member = "ACoAAOwnEr" + "".join(rng.choice("ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789") for _ in range(29))
    owner_urn = profile_urn(owner_member)
    owner = Participant(
        id=owner_urn,
        urn=owner_urn,
        public_id="demo-owner",
        name="Demo Owner",
        first_name="Demo",
        last_name="Owner",
        headline="linkmsg demo mailbox",
        profile_url=f"https://www.linkedin.com/in/{owner_member}",
        is_self=True,
    )
    now = start or datetime(2026, 11, 1, 12, 0, tzinfo=UTC)
    inbox = Inbox(owner)
    person = 0
    for c in range(conversations):
        uuid = "-".join(
            (
                f"{rng.getrandbits(32):08x}",
                f"{rng.getrandbits(16):04x}",
                f"4{rng.getrandbits(12):03x}",
                f"8{rng.getrandbits(12):03x}",
                f"{rng.getrandbits(48):012x}",
            )
        )
        thread = thread_id_for(uuid)
        conv_id = conversation_urn(owner_urn, thread)
        size = 3 if c % 10 == 4 else 1
        people = []
        for _ in range(size):
            people.append(_person(rng, person))
            person += 1
        latest_ms = int((now - timedelta(hours=c * 5 + rng.randint(0, 4))).timestamp() * 1000)
        items: list[Message] = []
        ms = latest_ms
        for n in range(messages_per_conversation):
            outgoing = rng.random() < 0.4
            sender = owner if outgoing else people[rng.randrange(size)]
            kind = MessageKind.TEXT
            subject = None
            attachments: tuple[Attachment, ...] = ()
            reactions: tuple[Reaction, ...] = ()
            text = rng.choice(_LINES)
            if c == 2 and n == messages_per_conversation - 1:
                kind, subject = MessageKind.INMAIL, "Opportunity at Acme"
            if rng.random() < 0.08:
                attachments = (Attachment("file", f"https://media.example.invalid/{c}/{n}.pdf", f"doc-{c}-{n}.pdf"),)
            if rng.random() < 0.1:
                reactions = (Reaction("👍", rng.randint(1, 3), rng.random() < 0.5),)
            items.append(
                Message(
                    id=message_urn(owner_urn, message_id_for(ms, n, uuid)),
                    conversation_id=conv_id,
                    text=text,
                    sent_at=_EPOCH + timedelta(milliseconds=ms),
                    sender=sender,
                    outgoing=outgoing,
                    kind=kind,
                    subject=subject,
                    attachments=attachments,
                    reactions=reactions,
                )
            )
            # Two messages in one millisecond at a likely page boundary.
            ms -= 0 if n == 9 else rng.randint(60_000, 36 * 3_600_000)
        unread = 0 if c % 4 else rng.randint(1, 3)
        inbox.add(
            Conversation(
                id=conv_id,
                thread_id=thread,
                participants=tuple(people),
                unread_count=unread,
                last_activity_at=items[0].sent_at,
                latest_message=items[0],
                category="inmail" if c == 2 else "inbox",
            ),
            items,
        )
    return inbox


@attrs.frozen(kw_only=True, slots=True)
class MemorySettings(Settings):
    inbox: Inbox | None = attrs.field(default=None, repr=False)
    seed: int = 7


def _same_person(participant: Participant, key: ProfileRef) -> bool:
    if key.urn and participant.urn == key.urn:
        return True
    if key.public_id and participant.public_id == key.public_id:
        return True
    url = (participant.profile_url or "").rstrip("/")
    return bool(key.profile_id) and url.endswith(f"/{key.profile_id}")


def _offset(position: Position | None) -> int:
    if position is None:
        return 0
    if isinstance(position, int) and not isinstance(position, bool) and position >= 0:
        return position
    raise InvalidCursor("cursor does not hold a memory inbox offset")


class MemoryProvider(Provider):
    """Every capability, against an in-process :class:`Inbox`. Sends append to it."""

    name: ClassVar[str] = "memory"
    capabilities: ClassVar[frozenset[Capability]] = frozenset(Capability) - {
        Capability.CREDITS,
        Capability.GROUP_SEND,
        Capability.DELIVERY_ACK,
    }
    settings_class: ClassVar[type[Settings]] = MemorySettings
    default_page_size: ClassVar[int] = 20
    max_page_size: ClassVar[int] = 100

    def __init__(self, settings: Settings) -> None:
        super().__init__(settings)
        assert isinstance(settings, MemorySettings)
        self.inbox = settings.inbox if settings.inbox is not None else demo_inbox(settings.seed)

    @property
    def mailbox_urn(self) -> str | None:
        return self.inbox.mailbox_urn

    def list_conversations(
        self,
        *,
        limit: int,
        unread: bool | None,
        keywords: str | None,
        position: Position | None,
        options: Mapping[str, Any],
    ) -> Operation[VendorPage[Conversation]]:
        start = _offset(position)
        with self.inbox.lock:
            items = self.inbox.sorted_conversations()
        if unread:
            items = [c for c in items if c.unread_count]
        if keywords:
            from linkmsg.client import _matches_keywords

            items = [c for c in items if _matches_keywords(c, keywords)]
        page = items[start : start + limit]
        nxt = start + limit if start + limit < len(items) else None
        return VendorPage(page, nxt, total=len(items))
        yield  # a generator that never needs the network

    def list_messages(
        self, target: ConversationTarget, *, limit: int, position: Position | None
    ) -> Operation[VendorPage[Message]]:
        start = _offset(position)
        with self.inbox.lock:
            conv = self.inbox.conversation(target.ref.urn or target.ref.thread_id)
            items = list(self.inbox.messages.get(conv.id, ()))
        nxt = start + limit if start + limit < len(items) else None
        return VendorPage(items[start : start + limit], nxt, total=len(items))
        yield

    def _thread_for(self, request: SendRequest) -> Conversation:
        """The conversation a send goes to; a one-to-one thread is opened if needed."""
        inbox = self.inbox
        if request.conversation is not None:
            return inbox.conversation(request.conversation.ref.urn or request.conversation.ref.thread_id)
        assert request.to is not None  # the client guarantees one of the two
        key = request.to
        for conv in inbox.conversations:
            if len(conv.participants) == 1 and _same_person(conv.participants[0], key):
                return conv
        n = len(inbox.conversations)
        thread = thread_id_for(f"{n:08x}-0000-4000-8000-{n:012x}")
        other = Participant(id=key.key, urn=key.urn, public_id=key.public_id, profile_url=key.url)
        conv = Conversation(
            id=conversation_urn(inbox.mailbox_urn, thread),
            thread_id=thread,
            participants=(other,),
            unread_count=0,
            category="inbox",
        )
        inbox.add(conv, [])
        return conv

    def send_message(self, request: SendRequest) -> Operation[SendResult]:
        now = datetime.now(UTC)
        now = now.replace(microsecond=now.microsecond // 1000 * 1000)  # vendors keep milliseconds
        inbox = self.inbox
        with inbox.lock:
            conv = self._thread_for(request)
            ms = int(now.timestamp() * 1000)
            history = inbox.messages[conv.id]
            msg = Message(
                id=message_urn(inbox.mailbox_urn, message_id_for(ms, len(history), _thread_uuid(conv.thread_id))),
                conversation_id=conv.id,
                text=request.text,
                sent_at=now,
                sender=inbox.owner,
                outgoing=True,
                kind=MessageKind.INMAIL if request.inmail else MessageKind.TEXT,
                subject=request.subject,
                attachments=(Attachment("media", request.media_url),) if request.media_url else (),
            )
            history.insert(0, msg)
            updated = attrs.evolve(conv, latest_message=msg, last_activity_at=now)
            inbox.conversations[inbox.conversations.index(conv)] = updated
        return SendResult(conversation_id=conv.id, message_id=msg.id, sent_at=now, delivered=True)
        yield

    def send_typing(self, target: ConversationTarget) -> Operation[None]:
        self.inbox.conversation(target.ref.urn or target.ref.thread_id)
        return None
        yield

    def mark_read(self, target: ConversationTarget) -> Operation[None]:
        with self.inbox.lock:
            conv = self.inbox.conversation(target.ref.urn or target.ref.thread_id)
            self.inbox.conversations[self.inbox.conversations.index(conv)] = attrs.evolve(conv, unread_count=0)
        return None
        yield


@hookimpl
def register_providers(register: Any) -> None:
    register(MemoryProvider)
