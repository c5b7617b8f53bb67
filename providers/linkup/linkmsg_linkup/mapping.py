"""LinkupAPI v1 JSON to the linkmsg model.

Every function here takes a decoded response body and either returns model
values or raises :class:`~linkmsg.errors.ResponseShapeError` naming the bad
field. Nothing is invented: v1 gives a message sender as a display name plus
first/last name, with no URN, so those stay None.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import UTC, datetime, timedelta
from typing import Any, Final

import attrs

from linkmsg.errors import InvalidIdentifier, ResponseShapeError
from linkmsg.identity import ConversationRef, message_urn, parse_conversation_id
from linkmsg.model import Conversation, Message, MessageKind, Participant, SendResult
from linkmsg.payload import structure, structure_rows
from linkmsg.timestamps import parse_optional_timestamp, parse_timestamp, to_epoch_ms
from linkmsg_linkup.common import (
    LinkupConversation,
    LinkupPerson,
    message_kind,
    participant_from_person,
    profile_ids,
    send_credits,
)
from linkmsg_linkup.payloads import HistoryPagination, HistoryResponse, InboxResponse, SendResponse

__all__ = [
    "PROVIDER",
    "HistoryPage",
    "InboxPage",
    "SenderHints",
    "is_group",
    "read_history",
    "read_inbox",
    "read_send",
]

PROVIDER: Final = "linkup"
_MSG_URN: Final = "urn:li:msg_message:"
_MS_FLOOR: Final = 100_000_000_000  # ints at or above are epoch ms (see linkmsg.timestamps)
_MAX_MS: Final = 253_402_300_799_999  # 9999-12-31T23:59:59.999Z
_EPOCH: Final = datetime(1970, 1, 1, tzinfo=UTC)
#: Below this many epoch ms (2106), ``ms / 1000`` is within half a microsecond of the exact
#: time, so datetime.fromtimestamp() gives exactly ``_EPOCH + timedelta(milliseconds=ms)``
#: (a property test checks it), and a third cheaper.
_EXACT_FLOAT_MS: Final = 2**32 * 1000
_from_seconds = datetime.fromtimestamp
#: `type` values that say nothing about the category (``group`` is what the
#: emulator renders for group threads; the docs only show ``normal``).
_PLAIN_TYPES: Final = frozenset({"normal", "group"})
_NO_SENDER: Final = Participant()
#: The fields of a history message read per message, in this order (rows, see linkmsg.payload.structure_rows).
HISTORY_FIELDS: Final = ("timestamp", "entity_urn", "text", "sender", "sender_info", "message_type")


@attrs.frozen(slots=True)
class InboxPage:
    conversations: list[Conversation]
    next_cursor: str | None
    mailbox_urn: str | None


@attrs.frozen(slots=True)
class HistoryPage:
    """Messages newest first, each one's epoch ms (for paging) and the pagination block."""

    messages: list[Message]
    stamps: list[int]
    pagination: HistoryPagination | None
    mailbox_urn: str | None


@attrs.frozen(slots=True)
class SenderHints:
    """What a :class:`Conversation` the caller passed tells about who is who.

    v1 history names senders only by display name. When the caller hands over
    a Conversation, its participants' names (the other side) and the name of a
    latest-message sender known to be the owner let ``outgoing`` be derived;
    otherwise it stays None.
    """

    owner_name: str | None = None
    other_names: frozenset[str] = frozenset()

    @classmethod
    def of(cls, conversation: Conversation | None) -> SenderHints:
        if conversation is None:
            return cls()
        others = frozenset(p.name for p in conversation.participants if p.name and p.is_self is not True)
        latest = conversation.latest_message
        owner = latest.sender.name if latest is not None and latest.sender.is_self else None
        return cls(owner, others)

    def is_owner(self, name: str | None) -> bool | None:
        if name is None:
            return None
        if name == self.owner_name and name not in self.other_names:
            return True
        if name in self.other_names and name != self.owner_name:
            return False
        return None


# ---------------------------------------------------------------- helpers


def _shape_error(path: str, exc: ResponseShapeError) -> ResponseShapeError:
    return ResponseShapeError(
        f"{PROVIDER} returned an unexpected response shape at {path}: {exc}", path=path, provider=PROVIDER
    )


def _when(value: Any, where: str, index: int = 0) -> tuple[datetime, int]:
    """(aware UTC datetime, epoch ms) of a vendor time, parsed once.

    ``where`` is the field's path with ``{}`` for ``index``, formatted only on error.
    """
    if type(value) is int and _MS_FLOOR <= value <= _MAX_MS:  # the documented form: epoch ms
        return _EPOCH + timedelta(milliseconds=value), value
    try:
        sent_at = parse_timestamp(value)
    except ResponseShapeError as exc:
        raise _shape_error(where.format(index), exc) from None
    return sent_at, to_epoch_ms(sent_at)


def _ref(conversation_id: str) -> ConversationRef | None:
    try:
        return parse_conversation_id(conversation_id)
    except InvalidIdentifier:
        return None


def _conversation_key(conversation_id: str) -> tuple[str, str | None, str | None]:
    """(Conversation.id, thread id, mailbox URN) for a vendor ``conversation_id``.

    The id is the msg_conversation URN; the early ``urn:li:conversation:<n>``
    form names no mailbox, so it is kept as the vendor wrote it.
    """
    ref = _ref(conversation_id)
    if ref is None:
        return conversation_id, None, None
    return ref.urn or conversation_id, ref.thread_id, ref.mailbox_urn


def _raw_items(data: Any, key: str) -> Sequence[Any]:
    """The vendor's own list under ``data.<key>``, kept as each item's ``raw``."""
    inner = data.get("data") if isinstance(data, Mapping) else None
    items = inner.get(key) if isinstance(inner, Mapping) else None
    return items if isinstance(items, list) else ()


def is_group(conversation: Conversation) -> bool:
    """True when a conversation is known to have more than one other member."""
    if sum(1 for person in conversation.participants if person.is_self is not True) > 1:
        return True
    raw = conversation.raw
    kind = raw.get("type") if isinstance(raw, Mapping) else None
    return isinstance(kind, str) and kind.lower() == "group"


# ---------------------------------------------------------------- inbox


def _same_person(person: LinkupPerson, urn: str | None, public_id: str | None, other: Participant) -> bool:
    if person.profile_url is not None and person.profile_url == other.profile_url:
        return True
    return (urn is not None and urn == other.urn) or (public_id is not None and public_id == other.public_id)


def _conversation(entry: LinkupConversation, raw: Any, index: int, category: str | None) -> Conversation:
    conv_id, thread_id, mailbox = _conversation_key(entry.conversation_id)
    participants: tuple[Participant, ...] = ()
    other = None
    if entry.participant is not None:
        # The docs: `participant` is the other side; only the owner's own id can say otherwise.
        other_urn = profile_ids(entry.participant.profile_url)[0]
        other = participant_from_person(entry.participant, is_self=mailbox is not None and other_urn == mailbox)
        participants = (other,)
    latest = None
    last = entry.last_message
    if last is not None and last.time is not None:
        sent_at = _when(last.time, "data.conversations[{}].last_message.time", index)[0]
        sender = _NO_SENDER
        if last.sender is not None:
            urn, public_id = profile_ids(last.sender.profile_url)
            # The owner appears with its id-based URL (= the mailbox); the other side as `participant`.
            mine: bool | None = None
            if mailbox is not None and urn == mailbox:
                mine = True
            elif other is not None and _same_person(last.sender, urn, public_id, other):
                mine = False
            sender = participant_from_person(last.sender, is_self=mine)
        latest = Message(
            id=None,  # v1 does not identify the latest message
            conversation_id=conv_id,
            text=last.text or "",
            sent_at=sent_at,
            sender=sender,
            outgoing=sender.is_self,
            subject=last.subject,
            raw=raw.get("last_message") if isinstance(raw, Mapping) else None,
        )
    kind = entry.type.lower() if entry.type else None
    return Conversation(
        id=conv_id,
        thread_id=thread_id,
        participants=participants,
        unread_count=entry.unread,
        last_activity_at=latest.sent_at if latest is not None else None,
        latest_message=latest,
        category=kind if kind and kind not in _PLAIN_TYPES else category,
        raw=raw,
    )


def read_inbox(data: Any, *, category: str | None) -> InboxPage:
    """A ``/v1/messages/inbox`` answer. ``category`` is the lower-cased category asked
    for (None for UNREAD, which is a filter, not a category)."""
    payload = structure(data, InboxResponse, provider=PROVIDER)
    raws = _raw_items(data, "conversations")
    conversations = []
    mailbox = None
    for index, entry in enumerate(payload.data.conversations):
        raw = raws[index] if index < len(raws) else None
        conversation = _conversation(entry, raw, index, category)
        conversations.append(conversation)
        if mailbox is None and conversation.id.startswith("urn:li:msg_conversation:"):
            mailbox = _conversation_key(entry.conversation_id)[2]
    return InboxPage(conversations, payload.data.next_cursor or None, mailbox)


# ---------------------------------------------------------------- history


def _sender(name: str | None, info: tuple[Any, ...] | None, hints: SenderHints) -> Participant:
    """The sender of a message: ``info`` is the row of its ``sender_info`` (see HISTORY_FIELDS)."""
    if info is None:
        return Participant(name=name, is_self=hints.is_owner(name))
    first_name, last_name, profile_url, is_me = info[:4]
    urn, public_id = profile_ids(profile_url)
    return Participant(
        id=urn or public_id,
        urn=urn,
        public_id=public_id,
        name=name,
        first_name=first_name,
        last_name=last_name,
        profile_url=profile_url,
        is_self=is_me if is_me is not None else hints.is_owner(name),
    )


def _message_id(entity_urn: str, mailbox: str | None) -> str:
    if entity_urn.startswith(_MSG_URN) or mailbox is None:
        return entity_urn
    try:  # a bare "2-…" key: the per-mailbox URN is built from documented parts
        return message_urn(mailbox, entity_urn)
    except InvalidIdentifier:
        return entity_urn


def read_history(data: Any, *, conversation_id: str | None, hints: SenderHints) -> HistoryPage:
    """A ``/v1/messages/conversation`` answer (either pagination scheme).

    ``conversation_id`` is the Conversation.id asked for, used when the answer
    does not repeat it.
    """
    payload, rows = structure_rows(data, HistoryResponse, ("data", "messages"), HISTORY_FIELDS, provider=PROVIDER)
    history = payload.data
    mailbox = None
    if history.conversation_id:
        conversation_id, _, mailbox = _conversation_key(history.conversation_id)
    raws = _raw_items(data, "messages")
    if len(raws) != len(rows):  # structure_rows() read the rows from this very list
        raws = [*raws[: len(rows)], *[None] * (len(rows) - len(raws))]
    # One Participant per distinct sender and one kind per message_type on the page.
    senders: dict[tuple[str | None, tuple[Any, ...] | None], Participant] = {}
    kinds: dict[str | None, MessageKind] = {}
    messages: list[Message] = []
    stamps: list[int] = []
    add_message = messages.append
    add_stamp = stamps.append
    needs_urn = mailbox is not None
    for (timestamp, entity_urn, text, name, info, message_type), raw in zip(rows, raws, strict=True):
        if timestamp.__class__ is int and _MS_FLOOR <= timestamp < _EXACT_FLOAT_MS:  # the documented form: epoch ms
            sent_at = _from_seconds(timestamp / 1000, UTC)  # exact in this range (see _EXACT_FLOAT_MS)
            add_stamp(timestamp)
        else:
            sent_at, ms = _when(timestamp, "data.messages[{}].timestamp", len(messages))
            add_stamp(ms)
        sender = senders.get((name, info))
        if sender is None:
            sender = senders[name, info] = _sender(name, info, hints)
        kind = kinds.get(message_type)
        if kind is None:
            kind = kinds[message_type] = message_kind(message_type)
        if needs_urn and not entity_urn.startswith(_MSG_URN):
            entity_urn = _message_id(entity_urn, mailbox)
        # Message's fields in order: id, conversation_id, text, sent_at, sender, outgoing,
        # kind, subject, attachments, reactions, raw (positional: this runs per message).
        add_message(
            Message(entity_urn, conversation_id, text or "", sent_at, sender, sender.is_self, kind, None, (), (), raw)
        )
    return HistoryPage(messages, stamps, history.pagination, mailbox)


# ---------------------------------------------------------------- send


def read_send(data: Any, *, with_media: bool) -> SendResult:
    """A ``/v1/messages/send-message`` answer, with or without its ``data`` block."""
    payload = structure(data, SendResponse, provider=PROVIDER)
    credits = send_credits(with_media)
    raw = data if isinstance(data, Mapping) else None
    sent = payload.data
    if sent is None:  # answers before 2025-07-28: "Message sent successfully", nothing else
        return SendResult(None, None, None, None, credits, raw=raw)
    try:
        delivered_at = parse_optional_timestamp(sent.delivered_at)
    except ResponseShapeError as exc:
        raise _shape_error("data.deliveredAt", exc) from None
    conversation_id = mailbox = None
    if sent.conversation_id:
        conversation_id, _, mailbox = _conversation_key(sent.conversation_id)
    return SendResult(
        conversation_id=conversation_id,
        message_id=_message_id(sent.entity_urn, mailbox) if sent.entity_urn else None,
        sent_at=delivered_at,
        delivered=True if delivered_at is not None else None,
        credits_used=credits,
        raw=raw,
    )
