"""LinkupAPI v2 payload classes -> :mod:`linkmsg.model`.

Straight-line and cheap: this runs once per message of a 100k-message sync.
Each URN and timestamp is parsed once per value (identity parsers are cached,
senders are built once per distinct sender).
"""

from __future__ import annotations

import functools
from collections.abc import Sequence
from datetime import UTC, datetime
from typing import Any, Final

import attrs
from linkmsg_linkup.common import message_kind, participant_from_person, profile_ids

from linkmsg.errors import InvalidIdentifier, ResponseShapeError
from linkmsg.identity import parse_conversation_id, parse_message_id
from linkmsg.model import Attachment, Conversation, Message, MessageKind, Participant, SendResult
from linkmsg.payload import as_row, structure
from linkmsg.timestamps import parse_optional_timestamp, parse_timestamp, to_epoch_ms
from linkmsg_linkup_v2.payloads import SendData, V2Conversation, V2Message, V2Person

__all__ = [
    "HISTORY_FIELDS",
    "PROVIDER",
    "SALES_NAV_THREAD",
    "TimedMessage",
    "canonical_conversation_id",
    "conversation_from_inbox",
    "messages_from_history",
    "messages_from_rows",
    "participant_from_v2_person",
    "send_result",
]

PROVIDER: Final = "linkup-v2"
#: LinkedIn's Sales Navigator thread URN (vendors.md §1). Sales Navigator
#: thread ids are not msg_conversation keys, so they get their own id form.
SALES_NAV_THREAD: Final = "urn:li:salesNav_thread:"

#: A message with its send time in epoch ms (what the timestamp cursor pages by).
TimedMessage = tuple[int, Message]


def _shape_error(path: str, exc: ResponseShapeError) -> ResponseShapeError:
    what = str(exc).partition(": ")[2] or str(exc)
    return ResponseShapeError(
        f"{PROVIDER} returned an unexpected response shape at {path}: {what}", path=path, provider=PROVIDER
    )


def _time(value: Any, path: str) -> datetime:
    try:
        return parse_timestamp(value)
    except ResponseShapeError as exc:
        raise _shape_error(path, exc) from None


def _category(vendor_type: str | None) -> str | None:
    if vendor_type is None:
        return None
    lowered = vendor_type.lower()
    return "inbox" if lowered == "normal" else lowered


def participant_from_v2_person(person: V2Person) -> Participant:
    """A participant; a Sales Navigator lead (no fsd_profile URN) is keyed by its lead URN."""
    participant = participant_from_person(person)
    if participant.id is None and person.recipient_urn:
        participant = attrs.evolve(participant, id=person.recipient_urn)
    return participant


@functools.lru_cache(maxsize=4096)
def canonical_conversation_id(vendor_id: str, mailbox_urn: str | None) -> tuple[str, str | None]:
    """(Conversation.id, thread_id) for a classic ``conversation_id``.

    An id linkmsg cannot read (an email thread, an elided docs example) is
    kept as given, with no thread id: one odd entry must not fail a page.
    """
    try:
        ref = parse_conversation_id(vendor_id, mailbox_urn=mailbox_urn)
    except InvalidIdentifier:
        return vendor_id, None
    return ref.urn or vendor_id, ref.thread_id


def conversation_from_inbox(
    item: V2Conversation, raw: Any, *, sales_nav: bool, mailbox_urn: str | None, index: int
) -> Conversation:
    thread_id: str | None
    if sales_nav:
        conversation_id, thread_id = SALES_NAV_THREAD + item.conversation_id, item.conversation_id
    else:
        conversation_id, thread_id = canonical_conversation_id(item.conversation_id, mailbox_urn)
    latest = None
    last_at = None
    last = item.last_message
    if last is not None and last.time is not None:
        last_at = _time(last.time, f"data.conversations[{index}].last_message.time")
        sender = participant_from_v2_person(last.sender) if last.sender is not None else Participant()
        # The preview carries no message id: "" says so (linkmsg never invents one).
        latest = Message(
            id=None,  # the inbox preview carries no message id
            conversation_id=conversation_id,
            text=last.text or "",
            sent_at=last_at,
            sender=sender,
            outgoing=sender.is_self,
            subject=last.subject,
        )
    return Conversation(
        id=conversation_id,
        thread_id=thread_id,
        participants=(participant_from_v2_person(item.participant),) if item.participant is not None else (),
        unread_count=item.unread,
        last_activity_at=last_at,
        latest_message=latest,
        category=_category(item.type),
        raw=raw,
    )


@functools.lru_cache(maxsize=1024)
def _sender(
    name: str | None,
    first_name: str | None,
    last_name: str | None,
    profile_url: str | None,
    is_me: bool | None,
    recipient_urn: str | None,
    mailbox_urn: str | None,
) -> Participant:
    urn, public_id = profile_ids(profile_url)
    if is_me is None and urn is not None and mailbox_urn is not None:
        # Classic messages carry no is_me; an id-based profile URL names the member exactly.
        is_me = urn == mailbox_urn
    return Participant(
        id=urn or public_id or recipient_urn,
        urn=urn,
        public_id=public_id,
        name=name,
        first_name=first_name,
        last_name=last_name,
        profile_url=profile_url,
        is_self=is_me,
    )


def _message_sender(sender: Any, info: tuple[Any, ...] | None, mailbox_urn: str | None, index: int) -> Participant:
    """The sender of a message; ``info`` is the row of its ``sender_info`` (see HISTORY_FIELDS)."""
    if sender is None or isinstance(sender, str):
        if info is None:
            return _sender(sender, None, None, None, None, None, mailbox_urn)
        first_name, last_name, profile_url, is_me, recipient_urn, name = info
        return _sender(sender or name, first_name, last_name, profile_url, is_me, recipient_urn, mailbox_urn)
    # Recruiter mode: the sender is a person object.
    person = structure(sender, V2Person, provider=PROVIDER, path=f"data.messages[{index}].sender")
    return participant_from_v2_person(person)


def _attachments(rows: Sequence[tuple[Any, ...]]) -> tuple[Attachment, ...]:
    # V2Attachment rows: type, url, name, mime_type, byte_size, asset_urn, download_url
    return tuple(Attachment(a[0] or "other", a[1] or a[6], a[2]) for a in rows)


#: The fields of a history message read per message, in this order (rows, see linkmsg.payload.structure_rows).
HISTORY_FIELDS: Final = (
    "timestamp",
    "time",
    "entity_urn",
    "text",
    "sender",
    "sender_info",
    "message_type",
    "subject",
    "attachments",
)
_MS_FLOOR: Final = 100_000_000_000  # ints at or above are epoch ms (see linkmsg.timestamps)
#: Below this many epoch ms (2106), ``ms / 1000`` is within half a microsecond of the exact
#: time, so datetime.fromtimestamp() gives exactly the time parse_timestamp() gives
#: (a property test checks it), and a third cheaper.
_EXACT_FLOAT_MS: Final = 2**32 * 1000
_from_seconds = datetime.fromtimestamp


def messages_from_history(
    messages: Sequence[V2Message], raws: Sequence[Any], *, conversation_id: str, mailbox_urn: str | None
) -> list[TimedMessage]:
    """``data.messages`` as (epoch ms, Message) pairs, in the vendor's (newest first) order."""
    rows = [as_row(message, HISTORY_FIELDS) for message in messages]
    return messages_from_rows(rows, raws, conversation_id=conversation_id, mailbox_urn=mailbox_urn)


def messages_from_rows(
    rows: Sequence[tuple[Any, ...]], raws: Sequence[Any], *, conversation_id: str, mailbox_urn: str | None
) -> list[TimedMessage]:
    """:func:`messages_from_history` for message rows (:data:`HISTORY_FIELDS`), as
    :func:`linkmsg.payload.structure_rows` reads them: no payload objects in between."""
    if len(rows) != len(raws):
        raise ValueError(f"{len(rows)} messages but {len(raws)} raw items")
    out: list[TimedMessage] = []
    append = out.append
    # One Participant per distinct sender and one kind per message_type on the page.
    senders: dict[tuple[Any, tuple[Any, ...] | None], Participant] = {}
    kinds: dict[str | None, MessageKind] = {}
    for (timestamp, time, entity_urn, text, sender, info, message_type, subject, attachments), raw in zip(
        rows, raws, strict=True
    ):
        value = timestamp if timestamp is not None else time
        if value.__class__ is int and _MS_FLOOR <= value < _EXACT_FLOAT_MS:  # the documented form: epoch ms
            sent_at = _from_seconds(value / 1000, UTC)  # exact in this range (see _EXACT_FLOAT_MS)
            ms = value
        else:
            sent_at = _time(value, f"data.messages[{len(out)}].timestamp")
            ms = value if type(value) is int else to_epoch_ms(sent_at)
        if sender is None or sender.__class__ is str:
            person = senders.get((sender, info))
            if person is None:
                person = senders[sender, info] = _message_sender(sender, info, mailbox_urn, len(out))
        else:
            person = _message_sender(sender, info, mailbox_urn, len(out))
        kind = kinds.get(message_type)
        if kind is None:
            kind = kinds[message_type] = message_kind(message_type)
        # Message's fields in order: id, conversation_id, text, sent_at, sender, outgoing,
        # kind, subject, attachments, reactions, raw (positional: this runs per message).
        append(
            (
                ms,
                Message(
                    entity_urn,
                    conversation_id,
                    text or "",
                    sent_at,
                    person,
                    person.is_self,
                    kind,
                    subject,
                    _attachments(attachments) if attachments else (),
                    (),
                    raw,
                ),
            )
        )
    return out


def _canonical_message_id(vendor_id: str | None, mailbox_urn: str | None) -> str | None:
    if vendor_id is None:
        return None
    try:
        ref = parse_message_id(vendor_id, mailbox_urn=mailbox_urn)
    except InvalidIdentifier:
        return vendor_id
    return ref.urn or vendor_id


def send_result(data: SendData, raw: Any, *, mailbox_urn: str | None, credits_used: float | None) -> SendResult:
    """Every documented send answer: nested ``data.data``, flat ``data``, or InMail ``data.data.value``."""
    inner = data.data
    if inner is not None and inner.value is not None:
        ids = inner.value
        return SendResult(
            conversation_id=SALES_NAV_THREAD + ids.thread_id if ids.thread_id else None,
            message_id=ids.message_id,
            sent_at=None,
            credits_used=credits_used,
            raw=raw,
        )
    nested = inner is not None and (inner.entity_urn is not None or inner.conversation_id is not None)
    sent = inner if nested and inner is not None else data
    try:
        sent_at = parse_optional_timestamp(sent.delivered_at)
    except ResponseShapeError as exc:
        raise _shape_error("data.data.deliveredAt" if nested else "data.deliveredAt", exc) from None
    conversation_id = None
    if sent.conversation_id is not None:
        conversation_id = canonical_conversation_id(sent.conversation_id, mailbox_urn)[0]
    return SendResult(
        conversation_id=conversation_id,
        message_id=_canonical_message_id(sent.entity_urn, mailbox_urn),
        sent_at=sent_at,
        delivered=True if sent_at is not None else None,
        credits_used=credits_used,
        raw=raw,
    )
