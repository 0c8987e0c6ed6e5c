"""The transfer path: messages between registries, validated, translated, delivered, receipted.

Module map::

    service.py       TransferService.submit: the pipeline, run by the collaborators below
    _plan.py         Plan, SourceMessage and the planner protocols (DocumentPlanner, NoticePlanner)
    _article6.py     Article6Planner: kind and sender checks of Article 6 actions
    crediting.py     CreditingPlanner: crediting-programme unit blocks (serials, holder)
    notices.py       EvidenceNoticePlanner: acceptances and completions, checked against the evidence log
    _router.py       Router: the receiving registry, and the checks every receiver passes
    _translator.py   Translator: read in the sender's format, write (and validate) in the receiver's
    _signer.py       DetachedSigner: the gateway's signature over relayed messages and receipts
    delivery.py      deliver(): POST to the receiver, retries, the receiver's signed answer
    _recorder.py     Recorder: receipts, the evidence log (intent, one receipt per message) and the
                     idempotency record
    _health.py       StoreHealth: which store is failing, logged once per transition (/healthz)
    ratelimit.py     per-sender rate limits (memory or Redis)
    errors.py        the transfer path's errors; metrics.py  Prometheus metrics
"""

from __future__ import annotations

from adapters import AdapterCatalog, default_catalog
from gateway.evidence import JwkSigner, open_log
from gateway.idempotency import open_store
from gateway.transfers._article6 import Article6Planner
from gateway.transfers._http import HttpxHttp, PooledHttp
from gateway.transfers._plan import DocumentPlanner, NoticePlanner, Plan, SourceMessage
from gateway.transfers._recorder import Recorder
from gateway.transfers._router import Router
from gateway.transfers._signer import DetachedSigner
from gateway.transfers._translator import Translator
from gateway.transfers.crediting import CreditingPlanner
from gateway.transfers.notices import EvidenceNoticePlanner
from gateway.transfers.service import TransferService
from gateway.transfers.settings import TransferSettings
from gateway.trust.setup import Trust

__all__ = ["Article6Planner", "CreditingPlanner", "DetachedSigner", "DocumentPlanner", "EvidenceNoticePlanner",
           "NoticePlanner", "Plan", "Recorder", "Router", "SourceMessage", "TransferService", "TransferSettings",
           "Translator", "build_service"]


def build_service(trust: Trust, settings: TransferSettings, *, adapters: AdapterCatalog | None = None
                  ) -> TransferService:
    """Wire the transfer path to a built trust layer: open its stores, make its collaborators."""
    settings.data_dir.mkdir(parents=True, exist_ok=True)
    idempotency = open_store(settings.idempotency_url(), lease_seconds=settings.delivery_lease_seconds)
    evidence = open_log(settings.evidence_url(), signer=JwkSigner(trust.keyring.current))
    router = Router(trust.directory)
    translator = Translator(adapters or default_catalog(), refuse_lossy=settings.refuse_lossy)
    signer = DetachedSigner(trust.keyring, trust.settings.issuer)
    from gateway.governance import controls_for, govern  # governance (docs/governance.md) builds on this package

    article6, recorder = govern(trust, Article6Planner(router, translator),
                                {"evidence": evidence, "idempotency": idempotency, "signer": signer})
    from gateway.mrv import mrv_service  # the MRV message kinds (docs/mrv.md) build on this package

    return mrv_service(
        trust, router,
        settings=settings, translator=translator,
        planners=(CreditingPlanner(router, translator), article6),
        notices=EvidenceNoticePlanner(router, evidence), signer=signer,
        recorder=recorder,
        idempotency=idempotency, outbound=trust.outbound,
        http=HttpxHttp() if settings.delivery_client == "httpx" else PooledHttp(),
        controls=controls_for(trust, evidence))
