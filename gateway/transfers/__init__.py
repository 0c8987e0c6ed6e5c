"""The transfer path: messages between registries, validated, translated, delivered, receipted."""

from __future__ import annotations

from gateway.transfers.service import TransferService
from gateway.transfers.settings import TransferSettings

__all__ = ["TransferService", "TransferSettings", "build_service"]


def build_service(trust: object, settings: TransferSettings | None = None) -> TransferService:
    """Wire the transfer path to a built trust layer (:class:`gateway.trust.setup.Trust`)."""
    from gateway.evidence.log import open_log
    from gateway.evidence.signing import JwkSigner
    from gateway.idempotency.store import open_store
    from gateway.transfers.settings import get_transfer_settings
    from gateway.trust.setup import Trust

    assert isinstance(trust, Trust)
    config = settings or get_transfer_settings()
    config.data_dir.mkdir(parents=True, exist_ok=True)
    lease = max(120.0, max(p.timeout for p in (config.delivery, *config.delivery_peers.values()))
                * (config.delivery.retries + 2))
    return TransferService(
        settings=config, directory=trust.directory, outbound=trust.outbound, keyring=trust.keyring,
        idempotency=open_store(config.idempotency_url(), lease_seconds=lease),
        evidence=open_log(config.evidence_url(), signer=JwkSigner(trust.keyring.current)),
        issuer=trust.settings.issuer,
    )
