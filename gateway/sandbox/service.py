"""The sandbox registry without HTTP: configuration, start-up, and answering one request.

:class:`Sandbox` owns the adapter, the SQLite store, the signing key and the gateway verifier.
Each handler returns an :class:`Answer` (status, exact body bytes, headers including the
detached signature), which :mod:`gateway.sandbox.app` sends unchanged.
"""

from __future__ import annotations

import logging
import secrets
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import orjson
from joserfc.jwk import Key

from adapters import default_catalog
from adapters.protocol import RegistryAdapter
from gateway.digests import sha256_hex
from gateway.protocol import KIND_HEADER, MESSAGE_ID, MESSAGE_ID_HEADER, MESSAGE_ID_RULE, SENDER_HEADER
from gateway.sandbox import ledger
from gateway.sandbox.auth import DEVELOPMENT, TLS_CLIENT_X5T, GatewayVerifier, check_operator, key_source
from gateway.sandbox.errors import (
    BodyTooLarge,
    MessageIdMissing,
    MessageIdReused,
    SandboxConfigError,
    SandboxError,
    SeedError,
)
from gateway.sandbox.listing import FORMAT_HEADER, LISTING_FORMAT, NEXT_HEADER, Listing, parse_limit, seed_projects
from gateway.sandbox.mrv import MRV_KIND_NAMES, SandboxMrv
from gateway.sandbox.notices import NOTICE_KIND_NAMES, NoticeRecord, check_notice
from gateway.sandbox.store import OUTGOING, Decision, Loader, SandboxStore, now_iso
from gateway.sandbox.units import Block, Units, parse_hold_spec, seed_units
from gateway.trust.errors import ConfigurationError
from gateway.trust.keys import generate_key, import_jwk, public_jwk
from gateway.trust.outbound import SIGNATURE_HEADER, sign_response
from standards.codec import Medium, RecordKind
from standards.errors import CarbonlinkError, InputError
from standards.findings import Finding, Location
from standards.model import Action, UnitBlock
from standards.mrv import IssuanceNotice
from standards.parties import is_alpha3
from standards.safeio import load_json, read_bytes

__all__ = ["KIND_HEADER", "MESSAGE_ID_HEADER", "SENDER_HEADER", "Answer", "Sandbox", "SandboxConfig", "dumps_sorted"]

log = logging.getLogger("carbonlink.sandbox")

REPLAYED_HEADER = "Carbonlink-Replayed"
#: The record kinds a sandbox registry books: its format must read one of them.
_BOOKS = frozenset({RecordKind.TRANSFERS, RecordKind.ACTIONS, RecordKind.CANCELLATIONS, RecordKind.RETIREMENTS})


@dataclass(frozen=True)
class SandboxConfig:
    """Everything ``carbonlink sandbox`` can set (see docs/sandbox.md)."""

    format: str
    registry_id: str = "sandbox-registry"
    party: str | None = None
    db: Path = Path("sandbox.sqlite3")
    host: str = "127.0.0.1"
    port: int = 9101
    messages_path: str = "/messages"
    medium: str | None = None
    gateway_jwks: str = DEVELOPMENT
    gateway_issuer: str = "http://127.0.0.1:8080"
    audiences: tuple[str, ...] = ()
    #: Private JWK file signing answers, or ``development`` for the development registry key of
    #: ``registry_id`` (``gateway/devdata``); None: generated once and kept in the SQLite file.
    key: str | None = None
    key_alg: str = "ES256"
    operator_token: str | None = None
    default_account: str = "incoming"
    max_body_bytes: int = 1024 * 1024
    clock_skew: int = 30
    max_token_lifetime: int = 600
    #: Refuse actions whose stated quantity differs from their range (SANDBOX.QUANTITY_MISMATCH).
    quantity_check: bool = True
    seed: Path | None = None
    #: The cooperative approach of the ITMOs the sandbox issues on MRV issuance requests (when it has a Party).
    mrv_cooperative_approach: str = "CA0001"
    holds: tuple[str, ...] = field(default_factory=tuple)
    #: TLS: the server certificate and key (PEM); with ``tls_client_ca`` clients may present certificates
    #: (verified against it) that certificate-bound tokens are checked against (RFC 8705).
    tls_certfile: Path | None = None
    tls_keyfile: Path | None = None
    tls_client_ca: Path | None = None
    #: Refuse gateway tokens that are not bound to the connection's client certificate.
    require_binding: bool = False

    @property
    def base_url(self) -> str:
        return f"{'https' if self.tls_certfile else 'http'}://{self.host}:{self.port}"


@dataclass(frozen=True, slots=True)
class Answer:
    status: int
    body: bytes
    headers: dict[str, str]
    media_type: str = "application/json"


def dumps_sorted(doc: Any) -> bytes:
    """JSON with sorted keys and no whitespace: the bytes every sandbox answer is signed over."""
    return orjson.dumps(doc, option=orjson.OPT_SORT_KEYS)


class Sandbox:
    """A running sandbox registry (see module docstring)."""

    def __init__(self, config: SandboxConfig) -> None:
        self.config = config
        try:
            self.adapter: RegistryAdapter = default_catalog().get(config.format)
        except CarbonlinkError as exc:
            raise SandboxConfigError(exc.message) from exc
        if not _BOOKS & self.adapter.reads:
            raise SandboxConfigError(f"format {config.format!r} reads no transfers, actions, cancellations or "
                                     "retirements; a sandbox registry cannot speak it")
        self.medium = self._medium()
        if config.party is not None and not is_alpha3(config.party):
            raise SandboxConfigError(f"--party {config.party!r} is not an ISO 3166-1 alpha-3 code")
        if not config.messages_path.startswith("/") or config.messages_path.startswith(("/outgoing", "/holdings")):
            raise SandboxConfigError(f"--messages-path {config.messages_path!r} must start with / and not clash "
                                     "with the operator routes")
        self.store = SandboxStore(config.db)
        try:
            self.key = self._signing_key()
            self.operator_token = config.operator_token or self.store.meta_default(
                "operator_token", lambda: secrets.token_urlsafe(24))
            audiences = config.audiences or (config.registry_id, config.base_url)
            self.verifier = GatewayVerifier(key_source(config.gateway_jwks), issuer=config.gateway_issuer,
                                            audiences=tuple(audiences), store=self.store, skew=config.clock_skew,
                                            max_lifetime=config.max_token_lifetime,
                                            require_binding=config.require_binding)
            self.seeded = self._seed()
            self.listing = Listing(self.store, registry_id=config.registry_id, party=config.party)
            self.mrv = SandboxMrv(config.registry_id, config.party, config.default_account,
                                  config.mrv_cooperative_approach)
        except BaseException:
            self.store.close()
            raise

    # -- start-up -----------------------------------------------------------------------------

    def _medium(self) -> Medium:
        if self.config.medium is None:
            return self.adapter.media[0]
        try:
            medium = Medium(self.config.medium.lower())
        except ValueError as exc:
            raise SandboxConfigError(f"unknown medium {self.config.medium!r} (json, csv, xlsx, xml)") from exc
        if medium not in self.adapter.media:
            raise SandboxConfigError(f"{self.config.format} does not read {medium.value}")
        return medium

    def _signing_key(self) -> Key:
        try:
            if self.config.key == DEVELOPMENT:
                from gateway.trust import development

                keys = development.client_keys()
                if self.config.registry_id not in keys:
                    raise SandboxConfigError(f"--key development: there is no development key for "
                                             f"{self.config.registry_id!r} (known: {', '.join(sorted(keys))})")
                return keys[self.config.registry_id]
            if self.config.key is not None:
                raw = load_json(read_bytes(Path(self.config.key), limit=64 * 1024), what=self.config.key)
                return import_jwk(raw, private=True, what=self.config.key)
            stored = self.store.meta_default("signing_key", lambda: orjson.dumps(dict(generate_key(
                self.config.key_alg, f"{self.config.registry_id}-1").as_dict(private=True))).decode())
            return import_jwk(orjson.loads(stored), private=True, what="sandbox signing key")
        except (ConfigurationError, InputError) as exc:
            raise SandboxConfigError(f"the sandbox signing key is unusable: {exc.message}") from exc

    def _seed(self) -> int:
        entries: list[tuple[Units, str | None]] = []
        sources: list[bytes] = []
        if self.config.seed is not None:
            try:
                doc = load_json(read_bytes(self.config.seed, limit=16 * 1024 * 1024), what=str(self.config.seed))
            except InputError as exc:
                raise SeedError(f"--seed {self.config.seed}: {exc.message}") from exc
            blocks = doc.get("blocks") if isinstance(doc, dict) else None
            if not isinstance(blocks, list):
                raise SeedError(f"--seed {self.config.seed}: a seed file is an object with a 'blocks' list")
            entries += [seed_units(b, f"{self.config.seed} /blocks/{i}") for i, b in enumerate(blocks)]
            self.store.put_projects(seed_projects(doc.get("projects", []), str(self.config.seed)))
            sources.append(read_bytes(self.config.seed, limit=16 * 1024 * 1024))
        entries += [parse_hold_spec(spec) for spec in self.config.holds]
        sources += [spec.encode() for spec in self.config.holds]
        if not entries:
            return 0
        return self.store.seed(entries, default_account=self.config.default_account,
                               source=sha256_hex(b"\0".join(sources)))

    # -- signing ------------------------------------------------------------------------------

    def jwks(self) -> dict[str, Any]:
        return {"keys": [public_jwk(self.key)]}

    def signed(self, status: int, body: bytes, request_body: bytes | None, *,
               media_type: str = "application/json", extra: dict[str, str] | None = None) -> Answer:
        headers = {SIGNATURE_HEADER: sign_response(self.key, signer=self.config.registry_id, body=body,
                                                   request_body=request_body)}
        headers.update(extra or {})
        return Answer(status, body, headers, media_type)

    # -- messages -----------------------------------------------------------------------------

    def receive(self, body: bytes, headers: dict[str, str]) -> Answer:
        """``POST <messages path>``: a message from the gateway, its body signed by the gateway (checked before
        anything is recorded)."""
        self.verifier.verify(headers.get("authorization"), body=body, signature=headers.get(SIGNATURE_HEADER.lower()),
                             client_x5t=headers.get(TLS_CLIENT_X5T))
        sender = headers.get(SENDER_HEADER.lower(), "")
        if sender and not MESSAGE_ID.match(sender):
            raise SandboxError(f"{SENDER_HEADER} is not a participant id", code="SANDBOX.SENDER_INVALID")
        message_id = self._message_id(headers)
        kind = headers.get(KIND_HEADER.lower(), "")
        if kind in NOTICE_KIND_NAMES:
            return self._notice(sender, message_id, kind, body)
        if kind in MRV_KIND_NAMES:
            return self._mrv_message(sender, message_id, kind, body)
        return self._answer(sender, message_id, body, mode="inbound")

    def reserve(self, body: bytes, headers: dict[str, str]) -> Answer:
        """``POST /outgoing``: the operator sends units out; they are pending until settled."""
        check_operator(headers.get("authorization"), self.operator_token)
        return self._answer(OUTGOING, self._message_id(headers), body, mode="outgoing")

    def settle(self, message_id: str, body: bytes, headers: dict[str, str], *, confirm: bool) -> Answer:
        """``POST /outgoing/{id}/confirm|release``: the receiver accepted (debit) or refused (release)."""
        check_operator(headers.get("authorization"), self.operator_token)
        receipt = body.decode("utf-8", "replace") if body else ""

        def answer(blocks: list[Block]) -> bytes:
            return dumps_sorted({"registry": self.config.registry_id, "message_id": message_id,
                           "settled": "debited" if confirm else "released",
                           "blocks": [b.as_dict() for b in blocks], "answered_at": now_iso()})

        stored = self.store.settle(message_id, confirm=confirm, receipt=receipt, answer=answer)
        return self.signed(stored.status, stored.body, body,
                           extra={REPLAYED_HEADER: "true"} if stored.replayed else None)

    def holdings(self, headers: dict[str, str]) -> Answer:
        """``GET /holdings``: for the operator token or a gateway token."""
        try:
            check_operator(headers.get("authorization"), self.operator_token)
        except SandboxError:
            self.verifier.verify(headers.get("authorization"), client_x5t=headers.get(TLS_CLIENT_X5T))
        blocks = self.store.holdings()
        doc = {"registry": self.config.registry_id, "party": self.config.party, "as_of": now_iso(),
               "holdings": [b.as_dict() for b in blocks],
               "total": {"held": sum(b.quantity for b in blocks if b.status == "held"),
                         "pending": sum(b.quantity for b in blocks if b.status == "pending")}}
        return self.signed(200, dumps_sorted(doc), None)

    def read(self, kind: str, query: dict[str, str], headers: dict[str, str]) -> Answer:
        """``GET /read/{kind}``: one page of the read side (:mod:`gateway.sandbox.listing`), for the operator
        token or a gateway token."""
        try:
            check_operator(headers.get("authorization"), self.operator_token)
        except SandboxError:
            self.verifier.verify(headers.get("authorization"), client_x5t=headers.get(TLS_CLIENT_X5T))
        document, following = self.listing.page(kind, query.get("after"), parse_limit(query.get("limit"), 1000))
        extra = {FORMAT_HEADER: LISTING_FORMAT, **({NEXT_HEADER: following} if following else {})}
        return self.signed(200, orjson.dumps(document), None, extra=extra)

    def journal(self, headers: dict[str, str]) -> Answer:
        check_operator(headers.get("authorization"), self.operator_token)
        return self.signed(200, dumps_sorted({"registry": self.config.registry_id, "journal": self.store.journal()}),
                           None)

    @staticmethod
    def _message_id(headers: dict[str, str]) -> str:
        value = headers.get(MESSAGE_ID_HEADER.lower())
        if not value:
            raise MessageIdMissing(f"the message has no {MESSAGE_ID_HEADER} header")
        if not MESSAGE_ID.match(value):
            raise MessageIdMissing(f"{MESSAGE_ID_HEADER} must be {MESSAGE_ID_RULE}",
                                   code="SANDBOX.MESSAGE_ID_INVALID")
        return value

    def _answer(self, sender: str, message_id: str, body: bytes, *, mode: ledger.Mode) -> Answer:
        body_digest = sha256_hex(body)
        known = self.store.answered(sender, message_id)
        if known is not None:
            if known[0] != body_digest:
                raise MessageIdReused(f"message id {message_id!r} was already used with a different body")
            return self.signed(known[1], known[2], body, extra={REPLAYED_HEADER: "true"})
        findings, actions, blocks = self._parse(body)

        def decide(load: Loader) -> Decision:
            if findings:
                return Decision(422, self._verdict(sender, message_id, body_digest, findings, []))
            if blocks:
                result = ledger.plan_blocks(blocks, default_account=self.config.default_account, mode=mode,
                                            ref=message_id, load=load, quantity_check=self.config.quantity_check)
            else:
                result = ledger.plan(actions, party=self.config.party, default_account=self.config.default_account,
                                     mode=mode, ref=message_id, load=load,
                                     quantity_check=self.config.quantity_check)
            status = 200 if result.accepted else 422
            return Decision(status, self._verdict(sender, message_id, body_digest, result.findings,
                                                  [s.as_dict() for s in result.steps] if result.accepted else [],
                                                  reserved=mode == "outgoing"), result)

        stored = self.store.apply_message(sender, message_id, body_digest, decide)
        log.info("sandbox %s answered %s message %r from %r: HTTP %s%s", self.config.registry_id, mode, message_id,
                 sender, stored.status, " (replayed)" if stored.replayed else "")
        extra = {REPLAYED_HEADER: "true"} if stored.replayed else None
        return self.signed(stored.status, stored.body, body, extra=extra)

    def _notice(self, sender: str, message_id: str, kind: str, body: bytes) -> Answer:
        """A notice about a message this registry sent or received: recorded, holdings untouched."""
        body_digest = sha256_hex(body)
        findings, record = check_notice(kind, body, sender=sender, registry_id=self.config.registry_id,
                                        outgoing=OUTGOING, answered=self.store.answered)
        accepted = None if findings else record

        def decide(load: Loader) -> Decision:
            return Decision(422 if findings else 200,
                            self._verdict(sender, message_id, body_digest, findings, [], notice=accepted),
                            notice=accepted, notice_body=body)

        stored = self.store.apply_message(sender, message_id, body_digest, decide)
        log.info("sandbox %s answered %s notice %r from %r: HTTP %s%s", self.config.registry_id, kind, message_id,
                 sender, stored.status, " (replayed)" if stored.replayed else "")
        return self.signed(stored.status, stored.body, body,
                           extra={REPLAYED_HEADER: "true"} if stored.replayed else None)

    def _mrv_message(self, sender: str, message_id: str, kind: str, body: bytes) -> Answer:
        """An MRV document (gateway/sandbox/mrv.py): kept, and an issuance request issues."""
        body_digest = sha256_hex(body)
        if len(body) > self.config.max_body_bytes:
            raise BodyTooLarge(f"the message is larger than {self.config.max_body_bytes} bytes")

        def verdict(findings: list[Finding], applied: list[dict[str, Any]], notice: IssuanceNotice | None) -> bytes:
            doc = orjson.loads(self._verdict(sender, message_id, body_digest, findings, applied))
            if notice is not None:
                doc["notice"] = notice.model_dump(mode="json")
            return dumps_sorted(doc)

        stored = self.store.apply_with_connection(sender, message_id, body_digest, lambda db: self.mrv.decide(
            db, self.store.loader(db), kind, sender, message_id, body, verdict))
        log.info("sandbox %s answered %s %r from %r: HTTP %s%s", self.config.registry_id, kind, message_id, sender,
                 stored.status, " (replayed)" if stored.replayed else "")
        return self.signed(stored.status, stored.body, body,
                           extra={REPLAYED_HEADER: "true"} if stored.replayed else None)

    def notices(self, headers: dict[str, str]) -> Answer:
        """``GET /notices``: every notice received (operator)."""
        check_operator(headers.get("authorization"), self.operator_token)
        return self.signed(200, dumps_sorted({"registry": self.config.registry_id, "notices": self.store.notices()}),
                           None)

    def _parse(self, body: bytes) -> tuple[list[Finding], list[Action], list[UnitBlock]]:
        """Findings refusing the message, or its actions, or (a crediting-programme transfer: unit
        blocks and no actions) its unit blocks."""
        where = Location(pointer="")
        if len(body) > self.config.max_body_bytes:
            return [ledger.MALFORMED.finding(f"the message is larger than {self.config.max_body_bytes} bytes",
                                             where)], [], []
        try:
            result = self.adapter.parse(body, medium=self.medium)
        except CarbonlinkError as exc:
            return [ledger.MALFORMED.finding(f"the message is not readable {self.config.format} "
                                             f"{self.medium.value}: {exc.code}: {exc.message}", where)], [], []
        except Exception as exc:  # an adapter bug must still give the sender a coded answer
            log.exception("adapter %s failed on a message", self.config.format)
            return [ledger.MALFORMED.finding(f"the {self.config.format} adapter could not read the message "
                                             f"({type(exc).__name__})", where)], [], []
        errors = [f for f in result.findings if f.is_error]
        if errors:
            return [ledger.MALFORMED.finding(f"the message has {len(errors)} error(s) in {self.config.format}: "
                                             f"{errors[0].rule} at {errors[0].location.render()}: {errors[0].message}",
                                             errors[0].location), *errors], [], []
        document = result.document
        if not document.actions and document.units:
            return [], [], list(document.units)
        if not document.actions:
            what = "nothing" if document.is_empty() else f"{document.record_count()} record(s) but no actions"
            rule = ledger.MALFORMED if document.is_empty() else ledger.UNSUPPORTED_KIND
            return [rule.finding(f"the message carries {what}; this registry takes transfers, acquisitions, "
                                 "uses, cancellations, retirements and unit blocks", where)], [], []
        return [], list(document.actions), []

    def _verdict(self, sender: str, message_id: str, body_digest: str, findings: list[Finding],
                 applied: list[dict[str, Any]], *, reserved: bool = False,
                 notice: NoticeRecord | None = None) -> bytes:
        accepted = not findings
        doc: dict[str, Any] = {
            "registry": self.config.registry_id, "message_id": message_id, "sender": sender or None,
            "verdict": ("reserved" if reserved else "accepted") if accepted else "rejected",
            "code": None if accepted else findings[0].rule,
            "reasons": [f.as_dict() for f in findings], "applied": applied,
            "request_sha256": body_digest, "answered_at": now_iso()}
        if notice is not None:
            doc["notice"] = notice.as_dict()
        return dumps_sorted(doc)
