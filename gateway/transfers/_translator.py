"""Reading a message in the sender's format and writing it in the receiver's."""

from __future__ import annotations

from typing import Literal

from adapters import AdapterCatalog
from gateway.transfers._plan import SourceMessage
from gateway.transfers.errors import OutputInvalid
from gateway.trust.directory import Participant
from standards.codec import Loss, Medium
from standards.errors import ValidationFailed
from standards.model import CanonicalDocument

#: Content type of a message in the canonical data model (JSON), whatever the sender's format.
CANONICAL_CONTENT_TYPE = "application/vnd.carbonlink.canonical+json"
MEDIA_TYPES = {Medium.JSON: "application/json", Medium.CSV: "text/csv", Medium.XML: "application/xml",
               Medium.XLSX: "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"}
_FROM_CONTENT_TYPE = {v: k for k, v in MEDIA_TYPES.items()}


class Translator:
    """Reads with the sender's adapter, writes (and re-reads, to validate) with the receiver's."""

    def __init__(self, adapters: AdapterCatalog, *, refuse_lossy: bool = False) -> None:
        self.adapters = adapters
        self.refuse_lossy = refuse_lossy

    def read(self, sender: Participant, body: bytes, content_type: str | None) -> SourceMessage:
        """The message in the canonical data model; ValidationFailed (422) unless it is valid and carries
        actions or unit blocks."""
        media_type = (content_type or "").split(";")[0].strip().lower()
        if media_type == CANONICAL_CONTENT_TYPE:
            source_format, medium = "canonical", Medium.JSON
        else:
            adapter = self.adapters.get(sender.format)
            source_format = sender.format
            medium = _FROM_CONTENT_TYPE.get(media_type, adapter.media[0] if adapter.media else Medium.JSON)
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
