"""``bench_relay_cpu.py --steps``: the steps' methods are timed while the block runs and restored after it."""

from __future__ import annotations

from bench.relay_steps import STEPS, per_message, steps_timed
from gateway.evidence.signing import JwkSigner

EVIDENCE_SIGNATURES = "  evidence signatures"


def test_steps_are_timed_inside_the_block_and_restored_after() -> None:
    original = JwkSigner.__dict__["sign"]
    signer = JwkSigner.generate("ES256")
    with steps_timed() as spent:
        assert JwkSigner.__dict__["sign"] is not original
        for _ in range(50):
            token = signer.sign(b"a" * 64)
    assert JwkSigner.__dict__["sign"] is original
    assert token.count(".") == 2  # the wrapped method still answers as the method does
    assert spent[EVIDENCE_SIGNATURES] > 0
    signer.sign(b"a" * 64)  # after the block: not counted
    report = per_message(spent, 50)
    assert list(report) == [step for _, _, step in STEPS]
    assert report[EVIDENCE_SIGNATURES] == round(spent[EVIDENCE_SIGNATURES] / 50 * 1e3, 3)
    assert report["TransferService.submit, whole"] == 0.0
