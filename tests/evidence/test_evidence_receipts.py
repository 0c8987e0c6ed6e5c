"""One receipt per message: ``append_receipt`` keeps the first receipted record of a ``(sender, message
id)`` and answers it to every later append, in the append's own transaction (threads and backends)."""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor

import pytest

from gateway.evidence import InvalidEntry, JwkSigner, KeySetVerifier
from tests.evidence.conftest import Backend, exchange


def test_a_second_receipt_for_a_message_gets_the_first(backend: Backend, signer: JwkSigner,
                                                       keys: KeySetVerifier) -> None:
    with backend.open(signer) as log:
        first = log.append_receipt(exchange(1, receipt={"receipt_id": "A"}))
        again = log.append_receipt(exchange(1, receipt={"receipt_id": "B"}))
        assert again == first and again.receipt == {"receipt_id": "A"}
        assert log.head()[0] == 1
        assert log.find_receipt("CHE-registry", "msg-1") == first
        assert log.find_receipt("CHE-registry", "msg-2") is None
        assert log.verify(keys).ok


def test_records_without_receipt_do_not_count_and_other_messages_are_appended(backend: Backend,
                                                                             signer: JwkSigner) -> None:
    with backend.open(signer) as log:
        log.append(exchange(1, receipt=None, verdicts={"outcome": "delivering"}))
        receipted = log.append_receipt(exchange(1, receipt={"receipt_id": "A"}))
        other = log.append_receipt(exchange(2, receipt={"receipt_id": "C"}))
        assert (receipted.seq, other.seq) == (2, 3)
        assert log.find_receipt("CHE-registry", "msg-1") == receipted
        with pytest.raises(InvalidEntry):
            log.append_receipt(exchange(3, receipt=None))


def test_racing_appends_of_one_message_record_one_receipt(backend: Backend, signer: JwkSigner,
                                                          keys: KeySetVerifier) -> None:
    with backend.open(signer) as log, backend.open(signer) as other:
        def append(i: int) -> str:
            target = log if i % 2 else other
            record = target.append_receipt(exchange(7, receipt={"receipt_id": f"R{i}"}))
            return str(record.receipt["receipt_id"]) if record.receipt else ""

        with ThreadPoolExecutor(8) as pool:
            answers = set(pool.map(append, range(32)))
        assert len(answers) == 1
        assert len([r for r in log.find("CHE-registry", "msg-7") if r.receipt is not None]) == 1
        assert log.verify(keys).ok
