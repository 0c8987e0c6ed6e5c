"""Officers' keys: which keys may sign a participant's four-eyes approvals (docs/governance.md, "Four eyes").

The policy names the officers (``officers`` of the participant's controls). An officer listed with ``keys`` signs
with those (policies that embed keys); an officer listed by ``id`` alone signs with the keys the participant's
entry in the directory in force lists for that officer (``officers`` of the entry, signed by the directory
anchor): a key removed from the directory stops being valid with the directory that removes it. An officer the
directory lists but the policy does not name approves nothing.
"""

from __future__ import annotations

from joserfc.jwk import Key

from gateway.governance._policy import Controls
from gateway.trust.directory import Participant
from gateway.trust.keys import public_key_set

_KEYS: dict[tuple[int, int], tuple[Controls, Participant | None, dict[str, tuple[str, Key]]]] = {}


def officer_keys(controls: Controls, entry: Participant | None = None) -> dict[str, tuple[str, Key]]:
    """kid -> (officer id, public key) of the officers ``controls`` name: their own keys, else those of
    ``entry`` (the participant's directory entry in force). A kid listed by both sources keeps the policy's."""
    cache_key = (id(controls), id(entry))
    cached = _KEYS.get(cache_key)
    if cached is not None and cached[0] is controls and cached[1] is entry:
        return cached[2]
    listed = {officer.id: officer for officer in (entry.officers if entry is not None else ())}
    keys: dict[str, tuple[str, Key]] = {}
    for officer in controls.officers:
        if officer.keys:
            jwks, what = officer.keys, f"officer {officer.id}"
        elif officer.id in listed:
            jwks, what = listed[officer.id].keys, f"officer {officer.id} of the directory"
        else:
            continue
        for kid, key in public_key_set({"keys": jwks}, what=what).items():
            keys.setdefault(kid, (officer.id, key))
    if len(_KEYS) > 256:
        _KEYS.clear()
    _KEYS[cache_key] = (controls, entry, keys)
    return keys
