"""Digital MRV at the gateway (docs/mrv.md, gateway section): monitoring reports, verification statements and
issuance requests relayed as message kinds, checked with what only the gateway knows, the registry's issuance
notice checked in its answer, evidence files uploaded and attested, and the chain behind an issued block
verifiable offline (``carbonlink mrv trail``).

Module map::

    _documents.py  reading MRV message bodies into the canonical model (standards.mrv), coded findings
    _planner.py    MrvPlanner: the role, chain, accreditation, independence and quantity checks; routing
    _relay.py      MrvTransferService: the planner, the period claim and the notice check on the transfer path
    _store.py      the MRV store: SQLite (embedded) or PostgreSQL (shared); messages, notices, attestations
    _blobs.py      the evidence files by SHA-256: a folder or an S3-compatible bucket
    _evidence.py   EvidenceService: uploads (bounded, digest-checked, attested) and downloads
    _records.py    the gateway's signed records (compact JWS)
    _trail.py      the trail of an issued block, every signature checked (JSON: Trail.as_dict)
    _trail_html.py the trail as one self-contained HTML page
    errors.py      the coded errors
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from gateway.mrv._blobs import BlobStore, open_blobs
from gateway.mrv._evidence import EvidenceService
from gateway.mrv._store import MrvStore, open_mrv_store
from gateway.mrv._trail import Trail, TrailLink, build_trail, render_html
from gateway.mrv.errors import MrvError

if TYPE_CHECKING:
    from gateway._settings_sections import MrvSettings
    from gateway.transfers import Router, TransferService
    from gateway.trust.keys import SigningKeyRing
    from gateway.trust.setup import Trust

__all__ = ["BlobStore", "EvidenceService", "MrvError", "MrvStore", "Trail", "TrailLink", "build_trail",
           "evidence_service", "mrv_service", "open_blobs", "open_mrv_store", "render_html"]


def mrv_service(trust: Trust, router: Router, **service_args: Any) -> TransferService:
    """The transfer service with the MRV kinds, its store opened as the gateway's settings say."""
    from gateway.mrv._planner import MrvPlanner
    from gateway.mrv._relay import MrvTransferService  # the MRV side builds on the transfer path, not the reverse

    settings = trust.settings
    store = open_mrv_store(settings.mrv.store_url(settings.transfers.data_dir))
    return MrvTransferService(**service_args).equip(MrvPlanner(router, store), trust.keyring)


def evidence_service(settings: MrvSettings, data_dir: Any, keyring: SigningKeyRing) -> EvidenceService:
    """The evidence uploads, on their own store connection (the routes' service)."""
    store = open_mrv_store(settings.store_url(data_dir))
    try:
        blobs = open_blobs(settings.evidence_url(data_dir))
    except BaseException:
        store.close()
        raise
    return EvidenceService(store, blobs, keyring, settings.mrv_evidence_max_bytes)
