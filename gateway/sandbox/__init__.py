"""A sandbox registry: a small real registry peer for the demo, the tests and the conformance suite.

It holds units in SQLite, speaks one adapter's format, accepts only the gateway's tokens,
accepts or rejects messages with coded reasons, answers each message id once, and signs every
answer. Start one with ``carbonlink sandbox --format ADAPTER``; see docs/sandbox.md.
"""

from gateway.sandbox.app import create_app, serve
from gateway.sandbox.client import SandboxClient, SandboxRefused, receipt_verdict, send_with_pending_debit
from gateway.sandbox.service import Sandbox, SandboxConfig

__all__ = ["Sandbox", "SandboxClient", "SandboxConfig", "SandboxRefused", "create_app", "receipt_verdict",
           "send_with_pending_debit", "serve"]
