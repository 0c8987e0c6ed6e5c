"""Run as a separate process: wait for the start signal, claim every key, deliver the ones won.

    python -m tests.idempotency.claim_worker URL TAG KEYS START_FILE

Prints one JSON object: {"won": [...], "states": {state: count}}.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

from gateway.idempotency import ClaimState, open_store
from tests.support.racing import await_start


def main() -> int:
    url, tag, keys, start = sys.argv[1:5]
    store = open_store(url)
    store.ping()
    if not await_start(Path(start), tag):
        return 3
    won: list[str] = []
    states: dict[str, int] = {}
    for i in range(int(keys)):
        message_id = f"race-{i}"
        claim = store.claim("CHE-registry", message_id, "c" * 64)
        states[claim.state.value] = states.get(claim.state.value, 0) + 1
        if claim.state is ClaimState.NEW:
            won.append(message_id)
            store.complete(claim, {"delivered_by": tag, "message_id": message_id})
    store.close()
    print(json.dumps({"won": won, "states": states}), flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
