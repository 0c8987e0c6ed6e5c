"""The committed OpenAPI document (``openapi/openapi.json``).

Regenerate after changing the HTTP API::

    python -m gateway.openapi > openapi/openapi.json

``tests/api/test_openapi_drift.py`` fails while the committed document and the app differ.
"""

from __future__ import annotations

import json
import sys
from typing import Any

from gateway.main import create_app
from gateway.settings import Settings


def document() -> dict[str, Any]:
    """The OpenAPI document of the gateway on the embedded development settings."""
    spec = create_app(Settings(environment="development")).openapi()
    return dict(spec)


def render() -> str:
    return json.dumps(document(), indent=2, sort_keys=True, ensure_ascii=False) + "\n"


if __name__ == "__main__":
    sys.stdout.write(render())
