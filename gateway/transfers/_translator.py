"""Reading a message in the sender's format and writing it in the receiver's, and the one content-type
policy of the relay: which media types each message kind takes (:func:`accepted_media_types`)."""

from __future__ import annotations

from collections.abc import Collection, Iterable
from typing import Literal

from adapters import AdapterCatalog
from gateway.transfers._plan import SourceMessage
from gateway.transfers.errors import ContentTypeRefused, OutputInvalid
from gateway.trust.directory import Participant
from standards.codec import Loss, Medium
from standards.errors import ValidationFailed
from standards.model import CanonicalDocument

#: Content type of a message in the canonical data model (JSON), whatever the sender's format.
CANONICAL_CONTENT_TYPE = "application/vnd.carbonlink.canonical+json"
#: Content type of a notice (acceptances, completions); ``application/json`` is taken too.
NOTICE_CONTENT_TYPE = "application/vnd.carbonlink.notice+json"
#: The media type the gateway sends each medium with.
MEDIA_TYPES = {Medium.JSON: "application/json", Medium.CSV: "text/csv", Medium.XML: "application/xml",
               Medium.XLSX: "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"}
#: The media types a body of each medium may arrive with (the first is the one sent).
INBOUND_MEDIA_TYPES: dict[Medium, tuple[str, ...]] = {
    Medium.JSON: ("application/json",), Medium.CSV: ("text/csv",), Medium.XML: ("application/xml", "text/xml"),
    Medium.XLSX: (MEDIA_TYPES[Medium.XLSX],)}
#: The media types a notice may arrive with.
NOTICE_MEDIA_TYPES = frozenset({NOTICE_CONTENT_TYPE, "application/json"})
_FROM_CONTENT_TYPE = {media_type: medium for medium, types in INBOUND_MEDIA_TYPES.items() for media_type in types}


def media_type_of(content_type: str | None) -> str:
    """The media type of a Content-Type header value (parameters dropped, lower case); "" when absent."""
    return (content_type or "").split(";")[0].strip().lower()


def accepted_media_types(media: Iterable[Medium], *, notice: bool = False) -> frozenset[str]:
    """The one content-type policy: a notice is notice JSON; any other message is canonical JSON or one of the
    media the sender's format is read from (``media``: its adapter's). A missing Content-Type is never taken."""
    if notice:
        return NOTICE_MEDIA_TYPES
    return frozenset({CANONICAL_CONTENT_TYPE, *(t for m in media for t in INBOUND_MEDIA_TYPES.get(m, ()))})


def require_media_type(content_type: str | None, accepted: Collection[str], *, what: str) -> str:
    """The body's media type when ``accepted`` lists it; else :class:`ContentTypeRefused` (415), and the body is
    not read. The refusal names the accepted types only (never the header's text)."""
    media_type = media_type_of(content_type)
    if media_type not in accepted:
        raise ContentTypeRefused(f"{what} needs a Content-Type of {' or '.join(sorted(accepted))}"
                                 + ("" if media_type else " (none was given)"))
    return media_type


class Translator:
    """Reads with the sender's adapter, writes (and re-reads, to validate) with the receiver's."""

    def __init__(self, adapters: AdapterCatalog, *, refuse_lossy: bool = False) -> None:
        self.adapters = adapters
        self.refuse_lossy = refuse_lossy

    def read(self, sender: Participant, body: bytes, content_type: str | None) -> SourceMessage:
        """The message in the canonical data model; ValidationFailed (422) unless it is valid and carries
        actions or unit blocks."""
        adapter = self.adapters.get(sender.format)
        media_type = require_media_type(content_type, accepted_media_types(adapter.media),
                                        what=f"a message from a {sender.format} registry")
        if media_type == CANONICAL_CONTENT_TYPE:
            source_format, medium = "canonical", Medium.JSON
        else:
            source_format, medium = sender.format, _FROM_CONTENT_TYPE[media_type]
        result = self.adapters.get(source_format).parse(body, medium=medium)
        if not result.valid:
            raise ValidationFailed(f"the message is not valid {source_format} ({medium.value})",
                                   findings=result.findings)
        if not result.document.actions and not result.document.units:
            raise ValidationFailed("the message carries no actions or unit blocks to relay", findings=result.findings)
        return SourceMessage(source_format, medium, result.document, list(result.findings))

    def write(self, document: CanonicalDocument, receiver: Participant, *,
              records: Literal["actions", "units"] = "actions") -> tuple[bytes, Medium, list[Loss]]:
        """The message in the receiver's format, validated by that format; refused unless it carries every
        one of the message's ``records`` (Article 6 actions, or a crediting programme's unit blocks)."""
        adapter = self.adapters.get(receiver.format)
        medium = adapter.media[0]
        out = adapter.serialize(document, medium=medium)
        if out.files:
            raise OutputInvalid(f"{receiver.format} writes this message as several files; the gateway relays one "
                                "body", findings=[])
        check = adapter.parse(out.data, medium=medium)
        errors = [f for f in [*out.findings, *check.findings] if f.is_error]
        if errors:
            raise OutputInvalid(f"the message translated to {receiver.format} fails that format's validation",
                                findings=errors)
        carried = len(check.document.actions if records == "actions" else check.document.units)
        sent = len(document.actions if records == "actions" else document.units)
        if carried != sent:
            noun = "action(s)" if records == "actions" else "unit block(s)"
            raise OutputInvalid(f"{receiver.format} carries {carried} of the message's {sent} {noun}; the gateway "
                                "does not relay a partial message", findings=[])
        if out.losses and self.refuse_lossy:
            raise OutputInvalid(f"{receiver.format} cannot hold {len(out.losses)} field(s) of this message "
                                f"({', '.join(loss.field for loss in out.losses[:5])}); lossy relays are refused",
                                findings=[])
        return out.data, medium, list(out.losses)
