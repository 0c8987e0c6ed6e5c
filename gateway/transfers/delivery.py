"""Delivering a translated message to the receiving registry, and classifying what went wrong.

A delivery succeeds only when the registry answers with a body it signed (verified against the
keys the directory lists for it) that says ``accepted`` or ``rejected``. Anything else is an
:class:`~gateway.transfers.errors.UpstreamError`: the sender gets 502/504 with Retry-After and
never a receipt. Retries reuse the message id, so a registry that dedupes (as registries must)
applies the message once.
"""

from __future__ import annotations

import time
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import orjson

from gateway.protocol import KIND_HEADER, MESSAGE_ID_HEADER, SENDER_HEADER
from gateway.transfers._http import AnswerTooLarge, DeliveryHttp, HttpTimeout, HttpUnavailable
from gateway.transfers.errors import (
    ReceiverUnknown,
    RegistryAnswerInvalid,
    RegistryFailed,
    RegistryTimeout,
    RegistryUnavailable,
    UpstreamError,
)
from gateway.transfers.settings import DeliveryPolicy
from gateway.trust.directory import Participant
from gateway.trust.errors import PeerError, ResponseSignatureInvalid
from gateway.trust.outbound import SIGNATURE_HEADER, OutboundClient

MAX_ANSWER_BYTES = 1024 * 1024
VERDICTS = ("accepted", "rejected")


@dataclass(frozen=True, slots=True)
class Answer:
    """The receiving registry's signed answer."""

    status: int
    body: bytes
    document: dict[str, Any]
    signature: str
    attempts: int

    @property
    def verdict(self) -> str:
        return str(self.document["verdict"])


def _interpret(peer: Participant, status: int, body: bytes, headers: Mapping[str, str], request_body: bytes,
               outbound: OutboundClient, attempts: int) -> Answer:
    try:
        outbound.verify(peer.id, body, headers, request_body=request_body)
    except (ResponseSignatureInvalid, PeerError) as exc:
        raise RegistryAnswerInvalid(f"registry {peer.id!r} answered HTTP {status} without a valid signature "
                                    f"({exc.code}): the message is not acknowledged") from exc
    try:
        document = orjson.loads(body)
    except orjson.JSONDecodeError as exc:
        raise RegistryAnswerInvalid(f"registry {peer.id!r} answered with a body that is not JSON") from exc
    if not isinstance(document, dict) or document.get("verdict") not in VERDICTS:
        raise RegistryAnswerInvalid(f"registry {peer.id!r} answered without a verdict (accepted or rejected)")
    if (document["verdict"] == "accepted") != (200 <= status < 300):
        raise RegistryAnswerInvalid(f"registry {peer.id!r} answered HTTP {status} with verdict "
                                    f"{document['verdict']!r}: the two disagree")
    signature = next(v for k, v in headers.items() if k.lower() == SIGNATURE_HEADER.lower())
    return Answer(status, body, document, signature, attempts)


def deliver(http: DeliveryHttp, outbound: OutboundClient, peer: Participant, *, body: bytes, content_type: str,
            message_id: str, sender: str, kind: str, signature: str, policy: DeliveryPolicy) -> Answer:
    """POST ``body`` to the registry's messages endpoint; retry faults per ``policy``."""
    url = peer.endpoints.messages
    if url is None:
        raise ReceiverUnknown(f"the directory names no messages endpoint for {peer.id!r}")
    last: UpstreamError | None = None
    for attempt in range(1, policy.retries + 2):
        if attempt > 1:
            time.sleep(policy.backoff * 2 ** (attempt - 2))
        headers = {
            "Content-Type": content_type,
            "Authorization": f"Bearer {outbound.gateway_token(peer.id, scope='messages:deliver')}",
            MESSAGE_ID_HEADER: message_id,
            SENDER_HEADER: sender,
            KIND_HEADER: kind,
            SIGNATURE_HEADER: signature,
        }
        try:
            answer = http.post(url, body, headers, timeout=policy.timeout, connect_timeout=policy.connect_timeout,
                               max_bytes=MAX_ANSWER_BYTES)
        except HttpTimeout:
            last = RegistryTimeout(f"registry {peer.id!r} did not answer within {policy.timeout:g} s "
                                   f"(attempt {attempt})", retry_after=policy.retry_after)
            continue
        except HttpUnavailable as exc:
            last = RegistryUnavailable(f"registry {peer.id!r} could not be reached: {exc} "
                                       f"(attempt {attempt})", retry_after=policy.retry_after)
            continue
        except AnswerTooLarge as exc:
            raise RegistryAnswerInvalid(f"the registry's answer is larger than {MAX_ANSWER_BYTES} bytes",
                                        retry_after=policy.retry_after) from exc
        if answer.status >= 500:
            last = RegistryFailed(f"registry {peer.id!r} answered HTTP {answer.status} (attempt {attempt})",
                                  retry_after=policy.retry_after)
            continue
        try:
            return _interpret(peer, answer.status, answer.body, answer.headers, body, outbound, attempt)
        except RegistryAnswerInvalid as exc:
            exc.retry_after = policy.retry_after
            raise
    assert last is not None
    raise last
