"""The trail of an issued block: notice -> request -> verification -> report -> evidence files, each link read from
the MRV store and checked offline - the gateway's signed record of every message (its JWKS), the receipt the
sender got, the registry's own signature over its answer carrying the notice (the registry's key as the gateway
recorded it from the directory), every digest one document cites of the one before, the uploads' attestations
and, when the evidence store is at hand, the files' bytes. Every problem is a coded finding (``MRV_TRAIL.*``).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import orjson
from joserfc.jwk import Key

from gateway.digests import sha256_b64, sha256_hex
from gateway.mrv._blobs import BlobStore
from gateway.mrv._documents import Document, digest_of, read_document, read_value
from gateway.mrv._records import EVIDENCE_TYP, MESSAGE_RECORD_TYP, NOTICE_RECORD_TYP, verify_record
from gateway.mrv._store import ACCEPTED, MrvStore, StoredMessage, StoredNotice
from gateway.protocol import MessageKind
from gateway.transfers._signer import RECEIPT_TYP
from gateway.trust import jose
from gateway.trust.keys import public_key_set
from gateway.trust.outbound import RESPONSE_TYP
from standards.errors import CarbonlinkError
from standards.findings import Finding, Layer, Location, RuleCatalogue, Severity
from standards.mrv import IssuanceNotice, IssuanceRequest, MonitoringReport, VerificationStatement

CATALOGUE = RuleCatalogue("mrv-trail")
_REF = "carbonlink MRV trail (docs/mrv.md, gateway section)"


def _rule(rule_id: str, title: str) -> Any:
    return CATALOGUE.add(rule_id, severity=Severity.ERROR, layer=Layer.CROSS_RECORD, title=title, reference=_REF)


NOT_FOUND = _rule("MRV_TRAIL.NOT_FOUND", "No issued block, or a link of its chain, is on record")
SIGNATURE = _rule("MRV_TRAIL.SIGNATURE", "A signature of the chain does not verify")
DIGEST = _rule("MRV_TRAIL.DIGEST", "A document does not hash to the digest on record")
LINK = _rule("MRV_TRAIL.LINK", "A document does not cite the one before it, or its record names another")
EVIDENCE = _rule("MRV_TRAIL.EVIDENCE", "An evidence file is not attested or its bytes do not match")
QUANTITY = _rule("MRV_TRAIL.QUANTITY", "The issued block is not the quantity requested, verified and reported")

KeyFor = Callable[[dict[str, Any]], Key]


@dataclass
class TrailLink:
    """One link of the chain: a document, its digest and the signatures checked on it."""

    kind: str
    id: str
    digest: str
    sender: str
    receiver: str
    message_id: str
    checks: list[dict[str, Any]] = field(default_factory=list)

    def as_dict(self) -> dict[str, Any]:
        return {"kind": self.kind, "id": self.id, "digest": self.digest, "sender": self.sender,
                "receiver": self.receiver, "message_id": self.message_id, "checks": self.checks}


@dataclass
class Trail:
    block: str
    links: list[TrailLink] = field(default_factory=list)
    evidence: list[dict[str, Any]] = field(default_factory=list)
    findings: list[Finding] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.findings

    def as_dict(self) -> dict[str, Any]:
        return {"block": self.block, "verified": self.ok, "links": [link.as_dict() for link in self.links],
                "evidence": self.evidence, "findings": [f.as_dict() for f in self.findings]}


class _Checker:
    def __init__(self, trail: Trail, gateway_keys: dict[str, Key]) -> None:
        self.trail = trail
        self.keys = gateway_keys

    def fail(self, rule: Any, where: str, message: str) -> None:
        self.trail.findings.append(rule.finding(message, Location(pointer=where)))

    def gateway_key(self, header: dict[str, Any]) -> Key:
        kid = header.get("kid")
        if not isinstance(kid, str) or kid not in self.keys:
            raise jose.JwsRejected("KID", f"kid {kid!r} is not a key of the gateway's JWKS")
        return self.keys[kid]

    def record(self, link: TrailLink, token: str | None, typ: str, where: str) -> dict[str, Any]:
        """The claims of a gateway record, its check noted on ``link``."""
        if not token:
            link.checks.append({"signature": "gateway record", "ok": False})
            self.fail(SIGNATURE, where, f"the {link.kind} {link.id!r} has no gateway record")
            return {}
        try:
            claims = verify_record(token, typ, self.gateway_key)
        except jose.JwsRejected as exc:
            link.checks.append({"signature": "gateway record", "ok": False, "reason": exc.message})
            self.fail(SIGNATURE, where, f"the gateway's record of the {link.kind} {link.id!r} does not verify: "
                                        f"{exc.message}")
            return {}
        link.checks.append({"signature": "gateway record", "ok": True, "kid": jose.peek_header(token).get("kid")})
        return claims

    def detached(self, link: TrailLink, what: str, signature: str | None, body: bytes, typ: str,
                 key_for: KeyFor, where: str) -> dict[str, Any] | None:
        try:
            if not signature:
                raise jose.JwsRejected("MALFORMED", "there is no signature")
            header = jose.verify(signature, typ=[typ], key_for=key_for, payload=body,
                                 registry=jose.make_registry(max_payload=max(len(body) * 2, 1024))).header
        except jose.JwsRejected as exc:
            link.checks.append({"signature": what, "ok": False, "reason": exc.message})
            self.fail(SIGNATURE, where, f"the {what} of the {link.kind} {link.id!r} does not verify: {exc.message}")
            return None
        link.checks.append({"signature": what, "ok": True, "signer": header.get("iss"), "kid": header.get("kid")})
        return header


def _message(checker: _Checker, store: MrvStore, kind: MessageKind, digest: str, where: str
             ) -> tuple[StoredMessage, Document] | None:
    """The accepted message of ``kind`` with ``digest``, its record, receipt and digest checked."""
    found = [m for m in store.by_digest(kind.value, digest) if m.status == ACCEPTED]
    if not found:
        checker.fail(NOT_FOUND, where, f"no relayed {kind.value} message with digest {digest} is on record")
        return None
    message = found[0]
    try:
        doc = read_document(kind, message.body)
    except CarbonlinkError as exc:
        checker.fail(DIGEST, where, f"the {kind.value} body on record is no longer a valid document: {exc.message}")
        return None
    link = TrailLink(kind.value, _doc_id(doc), message.digest, message.sender, message.receiver, message.message_id)
    checker.trail.links.append(link)
    body = message.body.encode("utf-8")
    actual = digest_of(doc)
    if actual != message.digest:
        checker.fail(DIGEST, where, f"the {kind.value} {link.id!r} hashes to {actual}, not {message.digest} on record")
    claims = checker.record(link, message.record, MESSAGE_RECORD_TYP, where)
    expected = {"kind": kind.value, "sender": message.sender, "message_id": message.message_id,
                "digest": digest, "body_sha256": sha256_hex(body), "outcome": ACCEPTED}
    wrong = sorted(k for k, v in expected.items() if claims and claims.get(k) != v)
    if wrong:
        checker.fail(LINK, where, f"the gateway's record of the {kind.value} {link.id!r} names another "
                                  f"{', '.join(wrong)} than the message on record")
    receipt = (message.receipt or "").encode("utf-8")
    if checker.detached(link, "receipt", message.receipt_signature, receipt, RECEIPT_TYP, checker.gateway_key, where):
        try:
            inbound = orjson.loads(receipt)["inbound"]["sha256"]
        except (orjson.JSONDecodeError, KeyError, TypeError):
            inbound = None
        if inbound != sha256_hex(body) or (claims and claims.get("receipt_sha256") != sha256_hex(receipt)):
            checker.fail(LINK, where, f"the receipt of the {kind.value} {link.id!r} is not the receipt of this body")
    return message, doc


def _doc_id(doc: Document) -> str:
    if isinstance(doc, MonitoringReport):
        return doc.report_id
    if isinstance(doc, VerificationStatement):
        return doc.statement_id
    if isinstance(doc, IssuanceRequest):
        return doc.request_id
    return doc.notice_id


def _notice(checker: _Checker, stored: StoredNotice) -> IssuanceNotice | None:
    where = "/notice"
    try:
        notice = read_value(IssuanceNotice, orjson.loads(stored.body))
        answer_doc = orjson.loads(stored.answer)
    except (CarbonlinkError, orjson.JSONDecodeError) as exc:
        checker.fail(DIGEST, where, f"the notice on record is not readable: {exc}")
        return None
    assert isinstance(notice, IssuanceNotice)
    link = TrailLink("issuance-notices", notice.notice_id, stored.digest, stored.registry, "", "")
    checker.trail.links.append(link)
    if digest_of(notice) != stored.digest:
        checker.fail(DIGEST, where, f"the notice hashes to {digest_of(notice)}, not {stored.digest} on record")
    claims = checker.record(link, stored.record, NOTICE_RECORD_TYP, where)
    answer = stored.answer.encode("utf-8")
    if claims and (claims.get("digest") != stored.digest or claims.get("request_digest") != stored.request_digest
                   or claims.get("answer_sha256") != sha256_hex(answer) or claims.get("block") != stored.block):
        checker.fail(LINK, where, "the gateway's record of the notice names another notice, request or answer")
    link.receiver, link.message_id = str(claims.get("request_sender", "")), str(claims.get("request_message_id", ""))
    try:
        registry_keys = public_key_set(claims.get("registry_jwks") or {"keys": []}, what="the registry's JWKS")
    except CarbonlinkError:
        registry_keys = {}

    def registry_key(header: dict[str, Any]) -> Key:
        kid = header.get("kid")
        if header.get("iss") != stored.registry or not isinstance(kid, str) or kid not in registry_keys:
            raise jose.JwsRejected("KID", f"not signed by a key of registry {stored.registry!r} on record")
        return registry_keys[kid]

    header = checker.detached(link, "registry answer", stored.answer_signature, answer, RESPONSE_TYP, registry_key,
                              where)
    checker.trail.links[-1].checks[-1]["req"] = (header or {}).get("req")
    if not isinstance(answer_doc, dict) or answer_doc.get("notice") != orjson.loads(stored.body):
        checker.fail(LINK, where, "the registry's signed answer does not carry this notice")
    return notice


def build_trail(store: MrvStore, block: str, gateway_jwks: dict[str, Any], *, blobs: BlobStore | None = None
                ) -> Trail:
    """The trail of ``block`` (the registry's serial text, or ``registry:first-last``), checked offline."""
    trail = Trail(block)
    checker = _Checker(trail, public_key_set(gateway_jwks, what="the gateway's JWKS"))
    stored = [n for n in store.notices() if block in (n.block, f"{n.registry}:{n.first}-{n.last}")]
    if not stored:
        checker.fail(NOT_FOUND, "", f"no issuance notice for block {block!r} is on record")
        return trail
    notice = _notice(checker, stored[0])
    if notice is None:
        return trail
    found = _message(checker, store, MessageKind.ISSUANCE_REQUESTS, stored[0].request_digest, "/request")
    if found is None:
        return trail
    request_message, request = found
    assert isinstance(request, IssuanceRequest)
    req = trail.links[0].checks[-1].get("req")
    if req is not None and req != sha256_b64(request_message.body.encode("utf-8")):
        checker.fail(LINK, "/notice", "the registry's answer was signed for another request body")
    found = _message(checker, store, MessageKind.VERIFICATIONS, request.verification_digest, "/verification")
    if found is None:
        return trail
    statement = found[1]
    assert isinstance(statement, VerificationStatement)
    found = _message(checker, store, MessageKind.MONITORING_REPORTS, statement.report_digest, "/report")
    if found is None:
        return trail
    report_message, report = found
    assert isinstance(report, MonitoringReport)
    _quantities(checker, notice, request, statement, report)
    for i, evidence in enumerate(report.evidence):
        trail.evidence.append(_evidence(checker, store, blobs, report_message.sender, evidence.sha256, evidence.size,
                                        evidence.name, f"/report/evidence/{i}"))
    return trail


def _quantities(checker: _Checker, notice: IssuanceNotice, request: IssuanceRequest, statement: VerificationStatement,
                report: MonitoringReport) -> None:
    if notice.block.size != request.quantity or notice.quantity != request.quantity:
        checker.fail(QUANTITY, "/notice/block", f"the block holds {notice.block.size} units; {request.quantity} "
                                                "were requested")
    if request.quantity > statement.verified_quantity - report.buffer:
        checker.fail(QUANTITY, "/request/quantity", f"{request.quantity} units requested, more than verified "
                                                    f"{statement.verified_quantity} minus buffer {report.buffer}")


def _evidence(checker: _Checker, store: MrvStore, blobs: BlobStore | None, uploader: str, sha256: str, size: int,
              name: str, where: str) -> dict[str, Any]:
    entry: dict[str, Any] = {"name": name, "sha256": sha256, "size": size, "attested_by": None, "bytes": "not checked"}
    attested = [e for e in store.evidence(sha256) if e.uploaded_by == uploader]
    if not attested:
        checker.fail(EVIDENCE, where, f"evidence file {name!r} ({sha256}) has no attestation of {uploader!r}")
        return entry
    try:
        claims = verify_record(attested[0].attestation, EVIDENCE_TYP, checker.gateway_key)
    except jose.JwsRejected as exc:
        checker.fail(SIGNATURE, where, f"the attestation of evidence file {name!r} does not verify: {exc.message}")
        return entry
    if claims.get("sha256") != sha256 or claims.get("size") != size or claims.get("uploaded_by") != uploader:
        checker.fail(EVIDENCE, where, f"the attestation of evidence file {name!r} names another file or uploader")
        return entry
    entry["attested_by"] = {"participant": uploader, "role": claims.get("role"), "at": claims.get("uploaded_at")}
    if blobs is not None:
        try:
            blobs.get(sha256)
            entry["bytes"] = "match"
        except CarbonlinkError as exc:
            entry["bytes"] = exc.code
            checker.fail(EVIDENCE, where, f"evidence file {name!r}: {exc.message}")
    return entry


def render_html(trail: Trail) -> str:
    """A small self-contained HTML page of the trail (no scripts, no external resources)."""
    from gateway.mrv._trail_html import page

    return page(trail.as_dict())
