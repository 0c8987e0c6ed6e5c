"""Evidence packages of digital MRV (docs/mrv.md, gateway section): ``PUT /v1/mrv/evidence/{sha256}`` uploads one
evidence file by content (bounded, digest-checked, attested by the gateway), ``GET /v1/mrv/evidence/{sha256}``
reads it back with its attestations. The MRV documents themselves travel as message kinds
(``POST /v1/messages/monitoring-reports``, ``verifications``, ``issuance-requests``)."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Path, Request
from fastapi.responses import JSONResponse, Response
from starlette.concurrency import run_in_threadpool

from gateway.api.deps import CurrentCaller, require_scope
from gateway.api.services import ServiceSlot
from gateway.mrv import EvidenceService
from gateway.trust.roles import MRV_EVIDENCE

router = APIRouter(prefix="/v1/mrv", tags=["mrv"])

Sha256 = Annotated[str, Path(description="lowercase hexadecimal SHA-256 of the file's bytes", max_length=64)]
RESPONSES: dict[int | str, dict[str, Any]] = {
    401: {"description": "Token or its DPoP/mTLS binding refused"},
    403: {"description": "No mrv:evidence scope, or no role whose files the gateway attests (MRV_GATEWAY.ROLE)"},
    404: {"description": "No evidence file with that digest (MRV_GATEWAY.EVIDENCE_NOT_FOUND)"},
    413: {"description": "Over the evidence size bound (MRV_GATEWAY.EVIDENCE_TOO_LARGE, HTTP.BODY_TOO_LARGE)"},
    422: {"description": "The bytes do not hash to the digest in the path (MRV_GATEWAY.EVIDENCE_DIGEST)"},
}


async def _service(request: Request) -> EvidenceService:
    slot: ServiceSlot[EvidenceService] = request.app.state.mrv_evidence
    service = slot.ready
    if service is None:
        service = await run_in_threadpool(slot.get)
    return service


@router.put("/evidence/{sha256}", status_code=201, responses={
    201: {"description": "Stored (or stored before): the gateway's attestation of the upload"}, **RESPONSES})
async def upload_evidence(sha256: Sha256, request: Request, caller: CurrentCaller) -> JSONResponse:
    """Upload one evidence file (any media type) under the SHA-256 of its bytes."""
    require_scope(caller, MRV_EVIDENCE)
    service = await _service(request)
    body = await request.body()
    stored = await run_in_threadpool(service.upload, caller.participant, sha256, body,
                                     request.headers.get("content-type"))
    return JSONResponse({"sha256": stored.sha256, "size": stored.size, "media_type": stored.media_type,
                         "uploaded_by": stored.uploaded_by, "role": stored.role, "attestation": stored.attestation},
                        status_code=201, headers={"Cache-Control": "no-store"})


@router.get("/evidence/{sha256}", responses={
    200: {"description": "The file's bytes (Carbonlink-Evidence-Attestations: the attestations, comma-separated)",
          "content": {"application/octet-stream": {}}}, **RESPONSES})
async def read_evidence(sha256: Sha256, request: Request, caller: CurrentCaller) -> Response:
    """Read an evidence file back; its bytes are checked against the digest before they are sent."""
    require_scope(caller, MRV_EVIDENCE)
    service = await _service(request)
    data, media_type = await run_in_threadpool(service.download, sha256)
    attestations = await run_in_threadpool(service.attestations, sha256)
    return Response(data, media_type=media_type, headers={
        "Carbonlink-Evidence-Attestations": ",".join(a.attestation for a in attestations),
        "Cache-Control": "no-store", "X-Content-Type-Options": "nosniff",
        "Content-Disposition": "attachment"})
