"""bench/profile_inbound.py: py-spy raw stacks sorted into the steps of the inbound path."""

from __future__ import annotations

from pathlib import Path

from bench import profile_inbound as pi

LOOP = "thread (1): MainThread;Runner.run (asyncio/runners.py:118)"
STACKS = [
    f"{LOOP};RelayEndpoint.__call__ (gateway/api/relay.py:62);relay_context (gateway/api/routes/transfers.py:90);"
    "DPoPVerifier.verify (gateway/trust/dpop.py:104);verify (gateway/trust/jose.py:160);"
    "deserialize_compact (joserfc/jws.py:186) 7",
    f"{LOOP};RelayEndpoint.__call__ (gateway/api/relay.py:62);relay_context (gateway/api/routes/transfers.py:90);"
    "DPoPVerifier.verify (gateway/trust/dpop.py:114);MemoryReplayStore.first_use (gateway/trust/replay.py:54) 3",
    "thread (2): carbonlink-relay_0;Thread.run (threading.py:982);WorkerPool._work (gateway/api/blocking.py:64);"
    "MrvTransferService.submit (gateway/mrv/_relay.py:100);TransferService.submit (gateway/transfers/service.py:108);"
    "Recorder.record (gateway/transfers/_recorder.py:84) 20",
    "thread (2): carbonlink-relay_0;Thread.run (threading.py:982);WorkerPool._work (gateway/api/blocking.py:73) 5",
    "thread (3): uvloop_1;_worker (concurrent/futures/thread.py:83);"
    "DirectoryStore.refresh (gateway/trust/directory.py:328);Participant._scopes (gateway/trust/directory.py:100) 2",
    f"{LOOP};HttpToolsProtocol.data_received (uvicorn/protocols/http/httptools_impl.py:173) 2",
    "not a sample line",
    f"{LOOP};something_else (elsewhere.py:1) 1",
]


def test_samples_go_to_the_innermost_step_and_submit_is_counted_apart(tmp_path: Path) -> None:
    path = tmp_path / "gateway.txt"
    path.write_text("\n".join(STACKS) + "\n")
    total, in_submit, steps, other = pi.breakdown(path)
    assert (total, in_submit) == (40, 20)
    assert steps == {"JWS verification (joserfc, jose.py)": 7, "DPoP proof (dpop, nonces, replay)": 3,
                     "thread hand-over (run_blocking, executor)": 5, "directory refresh (background)": 2,
                     "HTTP server (uvicorn, httptools)": 2, "event loop (asyncio)": 1}
    assert not other  # the last sample's innermost named step is the event loop under it


def test_the_command_prints_shares_of_all_samples(tmp_path: Path, capsys: object) -> None:
    path = tmp_path / "gateway.txt"
    path.write_text("\n".join(STACKS) + "\n")
    assert pi.main([str(path)]) == 0
    out = capsys.readouterr().out  # type: ignore[attr-defined]
    assert "40 samples; inside submit 50.0%, outside 50.0%" in out
    assert " 17.5%  JWS verification (joserfc, jose.py)" in out
