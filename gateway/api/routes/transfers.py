"""Messages between registries: ``POST /v1/transfers`` and ``POST /v1/messages/{kind}``."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Header, Request
from fastapi.responses import Response
from starlette.concurrency import run_in_threadpool

from gateway.api.blocking import run_blocking
from gateway.api.deps import Caller, authenticate, require_scope
from gateway.api.services import ServiceSlot
from gateway.conformance_gate import CertificateGate
from gateway.governance import APPROVAL_HEADER, split_approvals
from gateway.protocol import MessageKind
from gateway.transfers.errors import ContentTypeRefused
from gateway.transfers.ratelimit import Limiter
from gateway.transfers.service import TransferService

router = APIRouter(prefix="/v1", tags=["transfers"])

SEND_SCOPE = "messages:send"
RECEIPT_RESPONSES: dict[int | str, dict[str, Any]] = {
    200: {"description": "Signed receipt (detached JWS over the body in Carbonlink-Signature). `outcome` says "
                         "whether the receiving registry accepted or rejected the message.",
          "content": {"application/json": {}}},
    202: {"description": "Held for approval messages (GOVERNANCE.TRANSFER_HELD): above the sender's four-eyes "
                         "threshold with too few approvals, under a policy that holds rather than refuses; "
                         "`POST /v1/transfers/{message_id}/approvals` releases it (docs/governance.md)"},
    401: {"description": "Token or its DPoP/mTLS binding refused"},
    403: {"description": "Kind not allowed for the sender, sender is not the transferring registry (or, for a "
                         "notice, not the right party of the exchange), scope, a conformance certificate the "
                         "kind needs is missing (CONFORMANCE.CERTIFICATE_REQUIRED), an Article 6 authorization does "
                         "not cover it (GOVERNANCE.AUTHORIZATION_*) or a clause of the transaction-controls policy "
                         "refuses it (GOVERNANCE.POLICY_*: kill switch, business hours, holding period, four-eyes "
                         "approvals in Carbonlink-Approval headers, daily limits)"},
    409: {"description": "Message id reused with another body (a held one: GOVERNANCE.HOLD_CONFLICT), or the same "
                         "message is being delivered"},
    410: {"description": "The message was held and its hold ended (GOVERNANCE.HOLD_EXPIRED, "
                         "GOVERNANCE.HOLD_POLICY_CHANGED): it was not relayed; send it under a new message id"},
    413: {"description": "Body too large"},
    415: {"description": "A Content-Type the message kind does not take (HTTP.CONTENT_TYPE; a notice that is not "
                         "notice JSON: NOTICE.CONTENT_TYPE); the body is not read"},
    422: {"description": "Validation findings (problem+json with errors[]), no receiving registry, the "
                         "translation fails the receiver's format, or a notice about an unknown message or one "
                         "whose relayed outcome rules it out"},
    429: {"description": "Rate limit (Retry-After)"},
    503: {"description": "No valid transaction-controls policy in force (GOVERNANCE.POLICY_UNAVAILABLE), or a "
                         "store is down (Retry-After)"},
    502: {"description": "The receiving registry is down, failed, or answered without a valid signature "
                         "(Retry-After); nothing was acknowledged"},
    504: {"description": "The receiving registry did not answer in time (Retry-After)"},
}


async def get_transfer_service(request: Request) -> TransferService:
    """The app's transfer service (built in the app's lifespan, :func:`gateway.main.create_app`)."""
    slot: ServiceSlot[TransferService] = request.app.state.transfers
    service = slot.ready
    if service is None:
        service = await run_in_threadpool(slot.get)
    return service


def certificate_gate(request: Request) -> CertificateGate:
    """The app's certificate gate (built from the settings on first use)."""
    gate = getattr(request.app.state, "certificate_gate", None)
    if gate is None:
        gate = request.app.state.certificate_gate = CertificateGate.from_settings(
            request.app.state.trust.settings.conformance)
    assert isinstance(gate, CertificateGate)
    return gate


async def get_rate_limiter(request: Request) -> Limiter:
    limiter: Limiter = request.app.state.rate_limiter
    return limiter


@dataclass(frozen=True, slots=True)
class Relay:
    """What a relay request needs before its body is read: the authenticated caller, the service, the
    rate limiter."""

    caller: Caller
    service: TransferService
    limiter: Limiter


async def relay_context(request: Request) -> Relay:
    """One dependency for the relay routes (the caller, then the service, then the limiter: the order
    the separate dependencies ran in), so FastAPI solves no dependency tree per message."""
    caller = await authenticate(request)
    return Relay(caller, await get_transfer_service(request), await get_rate_limiter(request))


RelayDep = Annotated[Relay, Depends(relay_context)]
MessageIdHeader = Annotated[str, Header(alias="Carbonlink-Message-Id", description="sender-assigned message id")]
ReceiverHeader = Annotated[str | None, Header(alias="Carbonlink-Receiver",
                                               description="receiving registry id, when the message does not "
                                                           "name a single acquiring Party")]


def admit(kind: MessageKind, request: Request, caller: Caller) -> None:
    """The checks after the caller's and before the rate limit: the token's scope, then the certificate gate."""
    require_scope(caller, SEND_SCOPE)
    certificate_gate(request).check(caller.participant, kind.value)


def content_type_of(request: Request) -> str | None:
    """The message's one Content-Type header (None when it has none); two are refused."""
    content_types = request.headers.getlist("content-type")
    if len(content_types) > 1:
        raise ContentTypeRefused("a message has one Content-Type header")
    return content_types[0] if content_types else None


async def relay_answer(kind: MessageKind, request: Request, relay: Relay, message_id: str, receiver: str | None
                       ) -> Response:
    """The relay after the caller is authenticated: scope, certificate gate, rate limit, Content-Type, body, submit,
    receipt. Both the FastAPI routes below and the lean ASGI endpoint (:mod:`gateway.api.relay`) answer with it."""
    caller, service, limiter = relay.caller, relay.service, relay.limiter
    admit(kind, request, caller)
    if limiter.shared:  # a Redis round trip: not on the event loop
        await run_blocking(limiter.take, caller.participant.id)
    else:
        limiter.take(caller.participant.id)
    content_type = content_type_of(request)
    body = await request.body()
    approvals = split_approvals(request.headers.getlist(APPROVAL_HEADER))
    from gateway.api.routes.holds import answer, holds_for  # four eyes by approval messages (docs/governance.md)

    holds = None if service.controls is None else await holds_for(request, service)
    outcome = await run_blocking(service.submit if holds is None else holds.submit, caller.participant, kind,
                                 message_id, body, content_type, receiver, approvals)
    return answer(outcome)


@router.post("/transfers", responses=RECEIPT_RESPONSES)
async def submit_transfer(request: Request, relay: RelayDep, message_id: MessageIdHeader,
                          receiver: ReceiverHeader = None) -> Response:
    """Send a transfer to another registry; the body is in the sender's format or canonical JSON. A transfer
    above the sender's four-eyes threshold carries officers' approvals in `Carbonlink-Approval` headers
    (docs/governance.md)."""
    return await relay_answer(MessageKind.TRANSFERS, request, relay, message_id, receiver)


@router.post("/messages/{kind}", responses=RECEIPT_RESPONSES)
async def submit_message(kind: MessageKind, request: Request, relay: RelayDep, message_id: MessageIdHeader,
                         receiver: ReceiverHeader = None) -> Response:
    """Send a message of another kind (cancellations, retirements, authorizations, ...) to a registry, or a
    notice (acceptances, completions) about a message relayed earlier."""
    return await relay_answer(kind, request, relay, message_id, receiver)
