"""Builds the trust layer from :class:`~gateway.settings.Settings`."""

from __future__ import annotations

import time
from dataclasses import dataclass
from typing import Any

from joserfc.jwk import Key

from gateway.settings import Settings
from gateway.trust import development
from gateway.trust.client_auth import ClientAuthenticator, ClientAuthPolicy
from gateway.trust.directory import DirectoryStore, check_anchor_environment, fetch_directory, sign_directory
from gateway.trust.dpop import DPoPVerifier
from gateway.trust.errors import ConfigurationError
from gateway.trust.keys import SigningKeyRing, public_key_set
from gateway.trust.nonces import DerivedNonces, secret_from_key
from gateway.trust.outbound import OutboundClient
from gateway.trust.replay import ReplayStore, make_store
from gateway.trust.tokens import TokenService
from standards.errors import InputError
from standards.safeio import load_json, read_bytes


@dataclass
class Trust:
    """Everything the HTTP layer needs to authenticate registries."""

    settings: Settings
    keyring: SigningKeyRing
    directory: DirectoryStore
    replay: ReplayStore
    tokens: TokenService
    dpop: DPoPVerifier
    clients: ClientAuthenticator
    outbound: OutboundClient


def _anchors(settings: Settings) -> dict[str, Key]:
    if settings.anchors is None:
        dev = development.anchor()
        return {str(dev.kid): dev}
    try:
        doc: Any = load_json(read_bytes(settings.anchors, limit=1024 * 1024), what=str(settings.anchors))
    except InputError as exc:
        raise ConfigurationError(f"cannot read the anchors: {exc.message}") from exc
    return public_key_set(doc, what=str(settings.anchors))


def _keyring(settings: Settings) -> SigningKeyRing:
    grace = settings.access_token_ttl + settings.clock_skew
    if settings.signing_keys is None:
        return SigningKeyRing.from_document(
            development.keyring_document(), grace_seconds=grace, what="development keyring"
        )
    try:
        return SigningKeyRing.from_file(settings.signing_keys, grace_seconds=grace)
    except InputError as exc:
        raise ConfigurationError(f"cannot read the signing keys: {exc.message}") from exc


def embedded_directory(valid_for: int = 86400) -> str:
    """The development directory, freshly signed by the development anchor."""
    content = development.participants()
    return sign_directory(
        {**content, "sequence": int(time.time())}, development.anchor(), valid_for=valid_for
    )


def build_trust(settings: Settings) -> Trust:
    """Load keys, anchors and directory; refuses development material outside development."""
    anchors = _anchors(settings)
    check_anchor_environment(anchors.values(), settings.environment, development.anchor_thumbprints())
    if settings.environment != "development" and settings.signing_keys is None:
        raise ConfigurationError(f"a {settings.environment} gateway needs its own signing keys")
    keyring = _keyring(settings)
    keyring.self_test()
    loader = (
        embedded_directory
        if settings.directory is None
        else (lambda source=settings.directory: fetch_directory(source))
    )
    directory = DirectoryStore(
        loader,
        anchors,
        environment=settings.environment,
        skew=settings.clock_skew,
        describe=settings.directory or "embedded development directory",
    )
    directory.refresh()
    replay = make_store(settings.replay_store)
    nonce_secret = (settings.dpop_nonce_secret.encode("utf-8") if settings.dpop_nonce_secret
                    else secret_from_key(keyring.current))
    tokens = TokenService(
        keyring,
        issuer=settings.issuer,
        audience=settings.resource_audience,
        ttl=settings.access_token_ttl,
        skew=settings.clock_skew,
    )
    dpop = DPoPVerifier(
        replay,
        iat_window=settings.dpop_iat_window,
        skew=min(settings.clock_skew, 10),
        require_nonce=settings.dpop_nonce_required,
        nonces=DerivedNonces(nonce_secret, ttl=settings.dpop_nonce_ttl),
    )
    clients = ClientAuthenticator(
        directory,
        replay,
        ClientAuthPolicy(
            issuer=settings.issuer, max_lifetime=settings.assertion_max_lifetime, skew=settings.clock_skew
        ),
    )
    outbound = OutboundClient(
        keyring, directory, client_id=settings.gateway_client_id, jwks_cache=clients.jwks_cache
    )
    return Trust(settings, keyring, directory, replay, tokens, dpop, clients, outbound)
