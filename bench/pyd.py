"""The baseline of benchmark 2: each vendor's history page mapped with pydantic v2, as a user might.

For every vendor: pydantic models shaped like the vendor's JSON, validated
straight from the bytes (``model_validate_json``, pydantic's fastest path,
with ``datetime`` fields parsing epoch milliseconds in Rust), then mapped into
pydantic output models with the same fields as :class:`linkmsg.model.Message`
and :class:`~linkmsg.model.Participant`. Identifier handling uses the same
:mod:`linkmsg.identity` helpers the providers use, so both sides compute the
same values (checked by ``bench.normalize`` on every run); what differs is the
model layer: attrs + cattrs versus pydantic.
"""

from __future__ import annotations

import contextlib
from collections.abc import Callable
from datetime import datetime
from typing import Any

from pydantic import BaseModel

from linkmsg.errors import InvalidIdentifier
from linkmsg.identity import parse_message_id, parse_profile


class PParticipant(BaseModel):
    id: str | None = None
    urn: str | None = None
    public_id: str | None = None
    name: str | None = None
    first_name: str | None = None
    last_name: str | None = None
    headline: str | None = None
    profile_url: str | None = None
    picture_url: str | None = None
    is_self: bool | None = None


class PAttachment(BaseModel):
    kind: str
    url: str | None = None
    name: str | None = None


class PReaction(BaseModel):
    emoji: str
    count: int = 1
    viewer_reacted: bool | None = None


class PMessage(BaseModel):
    id: str
    conversation_id: str | None
    text: str
    sent_at: datetime
    sender: PParticipant
    outgoing: bool | None = None
    kind: str = "text"
    subject: str | None = None
    attachments: list[PAttachment] = []
    reactions: list[PReaction] = []


def _profile(value: str | None) -> tuple[str | None, str | None]:
    if not value or value.isdigit():
        return None, None
    try:
        ref = parse_profile(value)
    except InvalidIdentifier:
        return None, None
    return ref.urn, ref.public_id


_KINDS = {
    "TEXT": "text",
    "MESSAGE": "text",
    "SYSTEM": "system",
    "INVITATION": "invitation",
    "SHARED_POST": "shared_post",
    "MEDIA": "media",
    "INMAIL": "inmail",
    "INMAIL_ACCEPT": "inmail",
    "INMAIL_REPLY": "inmail",
}


def _kind(message_type: str | None) -> str:
    return "text" if message_type is None else _KINDS.get(message_type.upper(), "other")


# ---------------------------------------------------------------- ConnectSafely


class CSSender(BaseModel):
    profileId: str | None = None
    name: str | None = None
    headline: str | None = None
    profileUrl: str | None = None
    profilePicture: str | None = None
    participantUrn: str | None = None


class CSAttachment(BaseModel):
    type: str | None = None
    url: str | None = None
    name: str | None = None


class CSReaction(BaseModel):
    emoji: str | None = None
    count: int | None = None
    viewerReacted: bool | None = None


class CSMessage(BaseModel):
    messageId: str | None = None
    messageUrn: str | None = None
    backendMessageUrn: str | None = None
    text: str | None = None
    subject: str | None = None
    sentAt: datetime
    sender: CSSender | None = None
    senderProfileId: str | None = None
    senderName: str | None = None
    senderPhoto: str | None = None
    isSentByOwner: bool | None = None
    attachments: list[CSAttachment] | None = None
    reactions: list[CSReaction] | None = None


class CSPage(BaseModel):
    profileUrn: str | None = None
    conversationUrn: str | None = None
    total: int | None = None
    messages: list[CSMessage] = []


_PARTICIPANT = "urn:li:msg_messagingParticipant:"


def connectsafely(raw: bytes, conversation_id: str) -> list[PMessage]:
    page = CSPage.model_validate_json(raw)
    mailbox = page.profileUrn
    out = []
    for m in page.messages:
        ident = m.messageId or m.messageUrn or m.backendMessageUrn or ""
        with contextlib.suppress(InvalidIdentifier):
            ident = parse_message_id(ident, mailbox_urn=mailbox).urn or ident
        s = m.sender
        if s is not None:
            profile_id, name, headline, url, picture = s.profileId, s.name, s.headline, s.profileUrl, s.profilePicture
            if not profile_id and s.participantUrn and s.participantUrn.startswith(_PARTICIPANT):
                profile_id = s.participantUrn[len(_PARTICIPANT) :]
        else:
            profile_id, name, headline, url, picture = m.senderProfileId, m.senderName, None, None, m.senderPhoto
        urn, public_id = _profile(profile_id)
        is_self = m.isSentByOwner
        if is_self is None and urn is not None and mailbox is not None:
            is_self = urn == mailbox
        sender = PParticipant(
            id=urn or public_id or profile_id or None,
            urn=urn,
            public_id=public_id,
            name=name,
            headline=headline,
            profile_url=url,
            picture_url=picture,
            is_self=is_self,
        )
        out.append(
            PMessage(
                id=ident,
                conversation_id=conversation_id,
                text=m.text or "",
                sent_at=m.sentAt,
                sender=sender,
                outgoing=is_self,
                subject=m.subject,
                attachments=[PAttachment(kind=a.type or "file", url=a.url, name=a.name) for a in m.attachments or ()],
                reactions=[
                    PReaction(emoji=r.emoji, count=1 if r.count is None else r.count, viewer_reacted=r.viewerReacted)
                    for r in m.reactions or ()
                    if r.emoji
                ],
            )
        )
    out.sort(key=lambda m: (m.sent_at, m.id), reverse=True)  # the vendor sends oldest first
    return out


# ---------------------------------------------------------------- LinkupAPI v1 and v2


class LSenderInfo(BaseModel):
    first_name: str | None = None
    last_name: str | None = None
    profile_url: str | None = None
    is_me: bool | None = None


class LAttachment(BaseModel):
    type: str | None = None
    url: str | None = None
    name: str | None = None
    download_url: str | None = None


class LMessage(BaseModel):
    timestamp: datetime
    entity_urn: str
    text: str | None = None
    sender: str | None = None
    sender_info: LSenderInfo | None = None
    message_type: str | None = None
    subject: str | None = None
    attachments: list[LAttachment] | None = None


class LPagination(BaseModel):
    count: int | None = None
    has_next_page: bool | None = None
    next_cursor: str | None = None


class LData(BaseModel):
    conversation_id: str | None = None
    messages: list[LMessage] = []
    pagination: LPagination | None = None
    next_cursor: str | None = None


class LPage(BaseModel):
    status: str | None = None
    success: bool | None = None
    data: LData


def _linkup(raw: bytes, conversation_id: str, mailbox: str | None) -> list[PMessage]:
    page = LPage.model_validate_json(raw)
    out = []
    for m in page.data.messages:
        info = m.sender_info or LSenderInfo()
        urn, public_id = _profile(info.profile_url)
        is_self = info.is_me
        if is_self is None and urn is not None and mailbox is not None:
            is_self = urn == mailbox
        sender = PParticipant(
            id=urn or public_id,
            urn=urn,
            public_id=public_id,
            name=m.sender,
            first_name=info.first_name,
            last_name=info.last_name,
            profile_url=info.profile_url,
            is_self=is_self,
        )
        out.append(
            PMessage(
                id=m.entity_urn,
                conversation_id=conversation_id,
                text=m.text or "",
                sent_at=m.timestamp,
                sender=sender,
                outgoing=is_self,
                kind=_kind(m.message_type),
                subject=m.subject,
                attachments=[
                    PAttachment(kind=a.type or "other", url=a.url or a.download_url, name=a.name)
                    for a in m.attachments or ()
                ],
            )
        )
    return out


def linkup(raw: bytes, conversation_id: str) -> list[PMessage]:
    return _linkup(raw, conversation_id, None)  # v1 gives no profile URL, so no is-me either


def linkup_v2(raw: bytes, conversation_id: str) -> list[PMessage]:
    mailbox = conversation_id.split("(", 1)[1].split(",", 1)[0] if "(" in conversation_id else None
    return _linkup(raw, conversation_id, mailbox)


MAPPERS: dict[str, Callable[[bytes, str], list[PMessage]]] = {
    "connectsafely": connectsafely,
    "linkup": linkup,
    "linkup-v2": linkup_v2,
}


def comparable(message: Any) -> tuple[Any, ...]:
    """The fields both mappings must agree on."""
    s = message.sender
    return (
        message.id,
        message.conversation_id,
        message.text,
        message.sent_at,
        s.id,
        s.urn,
        s.name,
        s.is_self,
        message.outgoing,
        str(message.kind),
        len(message.attachments),
    )
