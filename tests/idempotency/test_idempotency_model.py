"""A hypothesis state machine drives the SQLite store with random claims, completions and releases
and checks every answer against a plain-dict model of the documented semantics."""

from __future__ import annotations

import tempfile
from pathlib import Path
from typing import Any

import pytest
from hypothesis import settings
from hypothesis import strategies as st
from hypothesis.stateful import RuleBasedStateMachine, initialize, invariant, precondition, rule

from gateway.idempotency import Claim, ClaimState, LeaseLost
from gateway.idempotency.sqlite import SqliteIdempotencyStore

KEYS = st.sampled_from([("CHE", "m-1"), ("CHE", "m-2"), ("GHA", "m-1")])
DIGESTS = st.sampled_from(["a" * 64, "b" * 64])


class StoreMachine(RuleBasedStateMachine):
    def __init__(self) -> None:
        super().__init__()
        self.tmp = tempfile.TemporaryDirectory()
        self.store = SqliteIdempotencyStore(Path(self.tmp.name) / "idem.db")
        self.model: dict[tuple[str, str], dict[str, Any]] = {}
        self.issued: list[Claim] = []

    @initialize()
    def start(self) -> None:
        self.model.clear()

    @rule(key=KEYS, digest=DIGESTS)
    def claim(self, key: tuple[str, str], digest: str) -> None:
        got = self.store.claim(*key, digest)
        entry = self.model.get(key)
        if entry is None:
            assert got.state is ClaimState.NEW and got.token
            self.model[key] = {"state": "pending", "digest": digest, "token": got.token, "receipt": None}
            self.issued.append(got)
        elif entry["digest"] != digest:
            assert got.state is ClaimState.CONFLICT and got.body_sha256 == entry["digest"]
        elif entry["state"] == "done":
            assert got.state is ClaimState.DONE and got.receipt == entry["receipt"]
        else:
            assert got.state is ClaimState.IN_PROGRESS

    @precondition(lambda self: bool(self.issued))
    @rule(pick=st.integers(min_value=0), n=st.integers(0, 99))
    def complete(self, pick: int, n: int) -> None:
        claim = self.issued[pick % len(self.issued)]
        key = (claim.sender, claim.message_id)
        entry = self.model.get(key)
        receipt = {"n": n}
        if entry is not None and entry["token"] != claim.token:
            with pytest.raises(LeaseLost):
                self.store.complete(claim, receipt)
            return
        self.store.complete(claim, receipt)
        if entry is None or entry["state"] == "pending":
            self.model[key] = {"state": "done", "digest": claim.body_sha256, "token": claim.token,
                               "receipt": receipt}

    @precondition(lambda self: bool(self.issued))
    @rule(pick=st.integers(min_value=0))
    def release(self, pick: int) -> None:
        claim = self.issued[pick % len(self.issued)]
        key = (claim.sender, claim.message_id)
        entry = self.model.get(key)
        if entry is None:
            self.store.release(claim)
        elif entry["token"] != claim.token or entry["state"] == "done":
            with pytest.raises(LeaseLost):
                self.store.release(claim)
        else:
            self.store.release(claim)
            del self.model[key]

    @invariant()
    def done_entries_answer_their_receipt(self) -> None:
        for key, entry in self.model.items():
            if entry["state"] == "done":
                got = self.store.claim(*key, entry["digest"])
                assert got.state is ClaimState.DONE and got.receipt == entry["receipt"]

    def teardown(self) -> None:
        self.store.close()
        self.tmp.cleanup()


TestStoreMachine = StoreMachine.TestCase
TestStoreMachine.settings = settings(max_examples=40, stateful_step_count=25, deadline=None)
