"""Run as a separate process: wait for the start signal, then append N records to a log.

    python -m tests.evidence.append_worker URL PRIVATE_JWK_FILE TAG COUNT START_FILE
"""

from __future__ import annotations

import json
import sys
import time
from pathlib import Path

from gateway.evidence import Exchange, JwkSigner, open_log
from tests.support.racing import await_start


def main() -> int:
    url, jwk_file, tag, count, start = sys.argv[1:6]
    signer = JwkSigner.from_jwk(json.loads(Path(jwk_file).read_text()))
    log = open_log(url, signer=signer)
    if not await_start(Path(start), tag):
        return 3
    for i in range(int(count)):
        log.append(Exchange(kind="transfer", sender=tag, receiver="GHA", message_id=f"{tag}-{i}",
                            inbound_sha256="ab" * 32, outbound_sha256=None, receipt=None,
                            verdicts={"worker": tag, "i": i}))
        # requests arrive spaced out; a tight loop would let SQLite's busy backoff (sleeps of up to
        # 100 ms) starve the peer, and the test would prove nothing about interleaving
        time.sleep(0.01 + 0.01 * (i % 3))
    log.close()
    print("done", flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
