"""Where the gateway's CPU goes outside ``TransferService.submit``: the inbound side of a relayed transfer.

    .venv/bin/python bench/bench_transfers.py --profile DIR --profile-cpu
    .venv/bin/python bench/profile_inbound.py DIR/gateway.txt

Reads the py-spy raw stacks ``bench_transfers.py --profile`` writes (with ``--profile-cpu``: samples of the
thread holding the GIL, i.e. the Python CPU time) and sorts every sample that is not inside
``TransferService.submit`` into one step of the inbound path: the HTTP server and its parser, the event
loop, the middleware, routing and dependency solving, the caller's authentication (access token, DPoP
proof), the hand-over to the worker thread, the response, logging. A sample goes to the step of the
innermost frame that names one (so the DPoP check inside the dependency solving counts as DPoP).
Shares are of all the gateway's samples, so the submit share and these add up to 100%.
"""

from __future__ import annotations

import argparse
import sys
from collections import Counter
from pathlib import Path

SUBMIT = "TransferService.submit (gateway/transfers/service.py"

#: (step, markers): a frame containing a marker belongs to the step; checked innermost frame first.
STEPS: tuple[tuple[str, tuple[str, ...]], ...] = (
    ("logging", ("logging/__init__.py", "uvicorn/logging.py", "gateway/logs.py")),
    ("metrics", ("prometheus_client/",)),
    ("DPoP proof (dpop, nonces, replay)", ("gateway/trust/dpop.py", "gateway/trust/nonces.py",
                                           "gateway/trust/replay.py")),
    ("access token", ("gateway/trust/tokens.py",)),
    ("JWS verification (joserfc, jose.py)", ("joserfc/", "gateway/trust/jose.py")),
    ("caller authentication (other)", ("gateway/api/deps.py", "gateway/trust/")),
    ("problem+json / errors", ("gateway/errors.py",)),
    ("relay route (own code)", ("gateway/api/routes/transfers.py", "gateway/api/relay.py")),
    ("thread hand-over (run_blocking, executor)", ("gateway/api/blocking.py", "concurrent/futures/",
                                                  "threading.py", "contextvars")),
    ("response (starlette responses)", ("starlette/responses.py",)),
    ("request object, headers, body", ("starlette/requests.py", "starlette/datastructures.py")),
    ("FastAPI dependency solving, params", ("fastapi/dependencies/", "fastapi/_compat", "pydantic")),
    ("FastAPI/Starlette routing, handlers", ("fastapi/routing.py", "starlette/routing.py",
                                             "starlette/_exception_handler.py", "fastapi/applications.py",
                                             "starlette/applications.py", "starlette/concurrency.py",
                                             "anyio/", "contextlib.py")),
    ("middleware (guard, translation, starlette's)", ("gateway/api/middleware.py", "gateway/main.py",
                                                      "starlette/middleware/", "gateway/settings.py")),
    ("HTTP server (uvicorn, httptools)", ("uvicorn/", "httptools", "gateway/server.py")),
    ("event loop (asyncio)", ("asyncio/", "selectors.py", "uvloop")),
)


#: (step, marker): a sample with the marker anywhere on its stack is background work of the process, not of a
#: request (the directory refresh loop runs in a thread of its own every few seconds).
BACKGROUND: tuple[tuple[str, str], ...] = (("directory refresh (background)", "DirectoryStore.refresh"),)


def classify(frames: list[str]) -> str:
    for step, marker in BACKGROUND:
        if any(marker in frame for frame in frames):
            return step
    for frame in reversed(frames):
        for step, markers in STEPS:
            if any(marker in frame for marker in markers):
                return step
    return "other"


def breakdown(path: Path) -> tuple[int, int, Counter[str], Counter[str]]:
    """(all samples, samples inside submit, samples per inbound step, leaves of the 'other' step)."""
    total = in_submit = 0
    steps: Counter[str] = Counter()
    other: Counter[str] = Counter()
    for line in path.read_text().splitlines():
        stack, _, count_text = line.rpartition(" ")
        if not count_text.isdigit():
            continue
        count = int(count_text)
        frames = stack.split(";")[1:]
        total += count
        if any(SUBMIT in f for f in frames):
            in_submit += count
            continue
        step = classify(frames)
        steps[step] += count
        if step == "other":
            other[frames[-1] if frames else "(no frame)"] += count
    return total, in_submit, steps, other


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("stacks", type=Path, nargs="+", help="py-spy raw stacks (gateway.txt of --profile DIR)")
    args = parser.parse_args(argv)
    for path in args.stacks:
        total, in_submit, steps, other = breakdown(path)
        if not total:
            print(f"{path}: no samples", file=sys.stderr)
            continue
        outside = total - in_submit
        print(f"{path}: {total} samples; inside submit {100 * in_submit / total:.1f}%, "
              f"outside {100 * outside / total:.1f}%")
        for step, n in steps.most_common():
            print(f"  {100 * n / total:5.1f}%  {step}")
        for leaf, n in other.most_common(5):
            print(f"          other: {100 * n / total:4.1f}%  {leaf}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
