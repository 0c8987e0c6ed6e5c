"""``gateway-peer 2026.1``: the suite plays a registry against a gateway.

Ordered gates: discovery (JWKS, RFC 8414 metadata), OAuth and token binding (a valid
``private_key_jwt`` + DPoP token; forged, mis-addressed, expired and replayed assertions; an unbound
token; a DPoP proof for another URL; hostile header values), certificate-bound tokens (RFC 8705:
``tls_client_auth``, the token bound to the registry's certificate, refused with another certificate or
none; no token without a binding), messages and receipts (a valid transfer
receipted, the receipt verifying against the gateway's published keys, an invalid one refused with a
code, a repeated message id answered with the first receipt, a garbled body refused and not
recorded) and timing. Options: :mod:`conformance.kits.gateway_peer._peer`.
"""

from __future__ import annotations

from conformance._model import Clause
from conformance.gates import GatedKit
from conformance.kits.gateway_peer._checks import gates
from conformance.kits.gateway_peer._peer import PeerProbe

NAME = "gateway-peer"
VERSION = "2026.1"
#: Aimed at, not tested yet (the traceability report lists them as not covered).
NOT_YET = (Clause("RFC 9449 section 8 (DPoP nonces supplied by the server)", NAME),)


def _template() -> PeerProbe:
    from gateway.trust.keys import generate_key

    return PeerProbe(base_url="http://127.0.0.1:1", issuer="http://127.0.0.1:1", client_id="template",
                     key=generate_key("ES256", "template"), sender_party="GHA", receiver_party="CHE",
                     max_answer_seconds=5.0)


#: The kit's type (kept as a name: the entry point's ``kit()`` returns one).
GatewayPeerKit = GatedKit[PeerProbe]


def kit() -> GatewayPeerKit:
    return GatedKit(NAME, VERSION, "A gateway, the suite playing a registry: OAuth private_key_jwt, DPoP and "
                    "mTLS binding, transfers, signed receipts, idempotency, timing (ordered gates)", "Gateway peer",
                    "gateway", probe=PeerProbe.for_target, template=_template, gates=gates, not_yet=NOT_YET)
