"""The verified-token memory of :class:`TokenService`: a token seen before skips only the signature
check; every claim check, the key's liveness and the refusals stay exactly as on the first call."""

from __future__ import annotations

import time

import pytest

from gateway.trust import tokens
from gateway.trust.directory import Participant
from gateway.trust.errors import InvalidToken
from gateway.trust.keys import SigningKeyRing, generate_key
from gateway.trust.tokens import TokenService

ISSUER, AUDIENCE = "https://gw.example", "https://gw.example/v1"


def _participant() -> Participant:
    return Participant.model_validate(
        {"id": "gha-registry", "party": "GHA", "party_registry_id": "GHA01", "status": "active",
         "format": "canonical", "jwks_uri": "https://gha.example/jwks"}
    )


@pytest.fixture
def service() -> TokenService:
    return TokenService(SigningKeyRing.generate(), issuer=ISSUER, audience=AUDIENCE, ttl=60)


def test_a_token_verifies_the_same_twice(service: TokenService) -> None:
    token = service.issue(_participant(), ["messages:send"], jkt="thumb")
    first, second = service.verify(token), service.verify(token)
    assert first == second
    assert first.scopes == ("messages:send",) and first.jkt == "thumb"


def test_an_expired_token_is_refused_although_it_verified_before(service: TokenService) -> None:
    issued = time.time()
    token = service.issue(_participant(), ["messages:send"], jkt="thumb", now=issued)
    service.verify(token, now=issued + 1)
    assert token in service._verified
    with pytest.raises(InvalidToken) as caught:
        service.verify(token, now=issued + 61)
    assert caught.value.code == "TOKEN.EXPIRED"
    assert token not in service._verified  # remembered only while it is valid
    with pytest.raises(InvalidToken) as again:
        service.verify(token, now=issued + 62)
    assert again.value.code == "TOKEN.EXPIRED" and token not in service._verified


def test_a_key_dropped_from_the_ring_stops_a_remembered_token(service: TokenService) -> None:
    token = service.issue(_participant(), ["messages:send"], jkt="thumb")
    service.verify(token)
    old = service.keyring.current
    service.keyring.current = generate_key("ES256", "gateway-dev-2")  # the old key is gone entirely
    with pytest.raises(InvalidToken) as caught:
        service.verify(token)
    assert caught.value.code == "TOKEN.KID"
    service.keyring.others[str(old.kid)] = old  # published again: accepted again
    assert service.verify(token).client_id == "gha-registry"


def test_a_different_key_under_the_same_kid_is_checked_again(service: TokenService) -> None:
    token = service.issue(_participant(), ["messages:send"], jkt="thumb")
    service.verify(token)
    service.keyring.current = generate_key("ES256", str(service.keyring.current.kid))
    with pytest.raises(InvalidToken) as caught:
        service.verify(token)
    assert caught.value.code.startswith("TOKEN.")


def test_a_tampered_token_is_never_taken_for_a_remembered_one(service: TokenService) -> None:
    token = service.issue(_participant(), ["messages:send"], jkt="thumb")
    service.verify(token)
    head, payload, signature = token.split(".")
    forged = f"{head}.{payload}.{signature[:-2]}{'AA' if signature[-2:] != 'AA' else 'BB'}"
    with pytest.raises(InvalidToken):
        service.verify(forged)


def test_refused_tokens_are_not_remembered_and_the_memory_is_bounded(
    service: TokenService, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(tokens, "VERIFIED_CACHE_SIZE", 3)
    with pytest.raises(InvalidToken):
        service.verify("e30.e30.AAAA")
    assert service._verified == {}
    issued = [service.issue(_participant(), ["s"], jkt=f"k{i}") for i in range(5)]
    for token in issued:
        service.verify(token)
    assert list(service._verified) == issued[-3:]
