"""The sender's side: a sandbox registry sending units out through the gateway.

:func:`send_with_pending_debit` is what the demo calls to make a sandbox the *sender*:

1. ``reserve``: the units leave the available holdings and become a *pending debit* under the
   message id (refused with a coded reason when they are not held);
2. ``deliver()``: the caller sends the message through the gateway and returns its receipt;
3. the receipt decides: the receiver accepted → ``confirm`` (the debit is final); the receiver
   rejected → ``release`` (the units are held again); no verdict, or ``deliver`` raised (gateway
   fault, 502/504) → the debit stays pending, to be settled once a retry gets a receipt.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any, Literal

import httpx
import orjson

from gateway.sandbox.errors import SandboxError
from gateway.sandbox.service import MESSAGE_ID_HEADER


class SandboxRefused(SandboxError):
    """The sandbox answered with a coded refusal; ``answer`` is its JSON body."""

    code = "SANDBOX.REFUSED"

    def __init__(self, message: str, *, code: str, status: int, answer: Mapping[str, Any]) -> None:
        super().__init__(message, code=code)
        self.status = status
        self.answer = dict(answer)


class SandboxClient:
    """The operator's HTTP client of one sandbox registry."""

    def __init__(self, base_url: str, operator_token: str, *, http: httpx.Client | None = None) -> None:
        self.base_url = base_url.rstrip("/")
        self.http = http or httpx.Client(timeout=30)
        self._auth = {"Authorization": f"Bearer {operator_token}"}

    def _call(self, method: str, path: str, *, content: bytes | None = None,
              headers: Mapping[str, str] | None = None) -> dict[str, Any]:
        resp = self.http.request(method, self.base_url + path, content=content,
                                 headers={**self._auth, **(headers or {})})
        try:
            answer = orjson.loads(resp.content)
        except orjson.JSONDecodeError as exc:
            raise SandboxRefused(f"the sandbox answered HTTP {resp.status_code} with a body that is not JSON",
                                 code="SANDBOX.ANSWER_MALFORMED", status=resp.status_code, answer={}) from exc
        if not isinstance(answer, dict):
            raise SandboxRefused("the sandbox answer is not a JSON object", code="SANDBOX.ANSWER_MALFORMED",
                                 status=resp.status_code, answer={})
        if resp.status_code >= 400:
            code = str(answer.get("code") or f"SANDBOX.HTTP_{resp.status_code}")
            detail = answer.get("detail") or "; ".join(str(r.get("message")) for r in answer.get("reasons", []))
            raise SandboxRefused(f"{code}: {detail}", code=code, status=resp.status_code, answer=answer)
        return answer

    def holdings(self) -> dict[str, Any]:
        return self._call("GET", "/holdings")

    def journal(self) -> list[dict[str, Any]]:
        journal = self._call("GET", "/journal").get("journal", [])
        return list(journal) if isinstance(journal, list) else []

    def notices(self) -> list[dict[str, Any]]:
        """Every notice the sandbox received (acceptances, rejections, completions, terminations)."""
        notices = self._call("GET", "/notices").get("notices", [])
        return list(notices) if isinstance(notices, list) else []

    def reserve(self, message_id: str, body: bytes, *, content_type: str = "application/octet-stream"
                ) -> dict[str, Any]:
        """Make the units of an outgoing message a pending debit (idempotent per message id)."""
        return self._call("POST", "/outgoing", content=body,
                          headers={MESSAGE_ID_HEADER: message_id, "Content-Type": content_type})

    def confirm(self, message_id: str, receipt: Mapping[str, Any] | None = None) -> dict[str, Any]:
        return self._call("POST", f"/outgoing/{message_id}/confirm", content=orjson.dumps(dict(receipt or {})),
                          headers={"Content-Type": "application/json"})

    def release(self, message_id: str, receipt: Mapping[str, Any] | None = None) -> dict[str, Any]:
        return self._call("POST", f"/outgoing/{message_id}/release", content=orjson.dumps(dict(receipt or {})),
                          headers={"Content-Type": "application/json"})


def receipt_verdict(receipt: Mapping[str, Any]) -> bool | None:
    """True when the receipt says the receiving registry accepted, False when it rejected, None when
    it does not say. Looks at ``verdict``, then ``answer.verdict`` / ``receiver.verdict``."""
    candidates: list[Any] = [receipt.get("verdict")]
    for key in ("answer", "receiver", "receiver_answer"):
        inner = receipt.get(key)
        if isinstance(inner, Mapping):
            candidates.append(inner.get("verdict"))
    for verdict in candidates:
        if verdict == "accepted":
            return True
        if verdict == "rejected":
            return False
    return None


@dataclass(frozen=True, slots=True)
class SendResult:
    outcome: Literal["debited", "released", "pending"]
    reservation: dict[str, Any]
    receipt: dict[str, Any] | None
    settlement: dict[str, Any] | None


def send_with_pending_debit(sandbox: SandboxClient, *, message_id: str, body: bytes,
                            deliver: Callable[[], Mapping[str, Any]],
                            verdict: Callable[[Mapping[str, Any]], bool | None] = receipt_verdict) -> SendResult:
    """Reserve, deliver, then debit or release by the receipt (see module docstring).

    Raises :class:`SandboxRefused` when the units cannot be reserved (nothing is sent then); an
    exception from ``deliver`` propagates and leaves the debit pending."""
    reservation = sandbox.reserve(message_id, body)
    receipt = dict(deliver())
    accepted = verdict(receipt)
    if accepted is None:
        return SendResult("pending", reservation, receipt, None)
    if accepted:
        return SendResult("debited", reservation, receipt, sandbox.confirm(message_id, receipt))
    return SendResult("released", reservation, receipt, sandbox.release(message_id, receipt))
