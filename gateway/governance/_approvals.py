"""Four-eyes approvals: compact JWS signed by officers of the sending registry, carried with the message in
``Carbonlink-Approval`` headers (docs/governance.md).

Header ``{"typ": "carbonlink-approval+jwt", "alg": ..., "kid": <the officer's key>}``; payload::

    {"iss": "alice", "sub": "che-registry", "kind": "transfers", "message_id": "m-42",
     "sha256": "<hex SHA-256 of the message body>", "iat": 1764000000, "exp": 1764003600}

An approval is bound to one message of one sender: its id and the digest of its body. It is refused when its
key is no officer key of the sender in the policy in force, when ``iss`` is not the officer that key belongs
to, when it is expired or lives longer than a day, and when it names another sender, kind, message or body.
Two approvals by one officer count once: a message above the threshold needs ``approvals`` distinct officers.
"""

from __future__ import annotations

import time
from collections.abc import Sequence
from typing import Any

from joserfc.jwk import Key

from gateway.governance._officers import officer_keys as officer_keys_in_force
from gateway.governance._policy import Controls
from gateway.trust import jose
from gateway.trust.directory import Participant
from gateway.trust.keys import public_key_set

APPROVAL_TYP = "carbonlink-approval+jwt"
APPROVAL_HEADER = "Carbonlink-Approval"
#: The longest an approval may live (``exp - iat``).
MAX_APPROVAL_SECONDS = 86400
#: At most this many approvals are read from one message.
MAX_APPROVALS = 4


class ApprovalProblem(Exception):
    """Why the approvals do not do (``what``: REQUIRED, INVALID, MISMATCH or SAME_OFFICER)."""

    def __init__(self, what: str, message: str) -> None:
        super().__init__(message)
        self.what, self.message = what, message


def sign_approval(key: Key, *, officer: str, sender: str, kind: str, message_id: str, body_sha256: str,
                  now: int | None = None, valid_for: int = 3600) -> str:
    """An officer's approval of one message (``body_sha256``: hex SHA-256 of the exact body sent)."""
    issued = int(time.time()) if now is None else now
    claims = {"iss": officer, "sub": sender, "kind": kind, "message_id": message_id, "sha256": body_sha256,
              "iat": issued, "exp": issued + valid_for}
    return jose.sign({"typ": APPROVAL_TYP}, claims, key)


def split_approvals(values: Sequence[str]) -> list[str]:
    """The approvals of ``Carbonlink-Approval`` header values (repeated, or comma-separated)."""
    return [part.strip() for value in values for part in value.split(",") if part.strip()]


_KEYS: dict[int, tuple[Controls, dict[str, tuple[str, Key]]]] = {}


def officer_keys(controls: Controls) -> dict[str, tuple[str, Key]]:
    """kid -> (officer id, public key) of the participant's officers."""
    cached = _KEYS.get(id(controls))
    if cached is not None and cached[0] is controls:
        return cached[1]
    keys = {kid: (officer.id, key) for officer in controls.officers
            for kid, key in public_key_set({"keys": officer.keys}, what=f"officer {officer.id}").items()}
    if len(_KEYS) > 256:
        _KEYS.clear()
    _KEYS[id(controls)] = (controls, keys)
    return keys


def check_approvals(tokens: Sequence[str], controls: Controls, *, sender: str, kind: str, message_id: str,
                    body_sha256: str, now: float, skew: int = 30, entry: Participant | None = None
                    ) -> tuple[str, ...]:
    """The distinct officers who approved this message; :class:`ApprovalProblem` unless they are enough.
    ``entry``: the sender's directory entry in force, whose officers' keys the policy may refer to by id."""
    needed = controls.approvals
    if len(tokens) > MAX_APPROVALS:
        raise ApprovalProblem("INVALID", f"at most {MAX_APPROVALS} approvals are read from a message")
    keys = officer_keys(controls) if entry is None else officer_keys_in_force(controls, entry)
    officers: list[str] = []
    for index, token in enumerate(tokens):
        officer = _check_one(index, token, keys, sender=sender, kind=kind, message_id=message_id,
                             body_sha256=body_sha256, now=now, skew=skew)
        if officer in officers:
            raise ApprovalProblem("SAME_OFFICER", f"approval {index + 1} is by officer {officer!r} again; four eyes "
                                                  "need different officers")
        officers.append(officer)
    if len(officers) < needed:
        raise ApprovalProblem("REQUIRED", f"the message needs approvals by {needed} different officers of {sender} "
                                          f"({APPROVAL_HEADER} headers); it carries {len(officers)}")
    return tuple(officers)


def _check_one(index: int, token: str, keys: dict[str, tuple[str, Key]], *, sender: str, kind: str,
               message_id: str, body_sha256: str, now: float, skew: int) -> str:
    where = f"approval {index + 1}"
    owner: list[str] = []

    def key_for(header: dict[str, Any]) -> Key:
        kid = header.get("kid")
        if not isinstance(kid, str) or kid not in keys:
            raise jose.JwsRejected("KID", f"key {kid!r} is no officer key of {sender} in the policy and directory "
                                          "in force")
        owner.append(keys[kid][0])
        return keys[kid][1]

    try:
        claims = jose.verify(token, typ=[APPROVAL_TYP], key_for=key_for).claims
    except jose.JwsRejected as exc:
        raise ApprovalProblem("INVALID", f"{where}: {exc.message}") from exc
    officer = owner[0]
    if claims.get("iss") != officer:
        raise ApprovalProblem("INVALID", f"{where} says it is by {claims.get('iss')!r} but is signed with a key of "
                                         f"officer {officer!r}")
    iat, exp = claims.get("iat"), claims.get("exp")
    if not isinstance(iat, int) or not isinstance(exp, int) or exp - iat > MAX_APPROVAL_SECONDS or iat > now + skew:
        raise ApprovalProblem("INVALID", f"{where} needs iat and exp, at most {MAX_APPROVAL_SECONDS} s apart, "
                                         "and no iat in the future")
    if exp <= now:
        raise ApprovalProblem("INVALID", f"{where} (by {officer!r}) expired at {exp}")
    for name, want in (("sub", sender), ("kind", kind), ("message_id", message_id), ("sha256", body_sha256)):
        if claims.get(name) != want:
            raise ApprovalProblem("MISMATCH", f"{where} (by {officer!r}) approves another message: its {name} is "
                                              f"{claims.get(name)!r}, this message's is {want!r}")
    return officer


#: One approval checked on its own (a separate approval message, ``_holds``): the officer who signed it.
check_one = _check_one
