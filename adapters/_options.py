"""The options of the adapters layer, handed down by the edge (the CLI, the gateway app).

Nothing in :mod:`adapters` reads the environment. The edge builds an :class:`Options` from its
settings tree (``gateway.settings``, which reads the ``CARBONLINK_*`` variables) and passes it to
:func:`~adapters.default_catalog`, or puts it in force for a block of work with :func:`use_options`
(alongside :func:`standards.use_options`). An adapter that needs an option asks
:func:`current_options`: the options in force, else the embedded defaults (:data:`DEFAULT_OPTIONS`).
"""

from __future__ import annotations

from contextlib import AbstractContextManager

from pydantic import BaseModel, ConfigDict, Field

from standards import OptionsContext

#: Default cap on a streamed registry export in bytes (``CARBONLINK_MAX_STREAM_BYTES`` at the edge).
DEFAULT_MAX_STREAM_BYTES = 8 * 1024**3


class Options(BaseModel):
    """What a deployment may change in the adapters layer (all optional; the defaults are embedded).

    Each field is set at the edge from the variable named in its description.
    """

    model_config = ConfigDict(frozen=True, extra="forbid")

    names: frozenset[str] | None = Field(None, description="load only these adapters, by entry name "
                                                           "(CARBONLINK_ADAPTERS, comma-separated)")
    max_stream_bytes: int = Field(DEFAULT_MAX_STREAM_BYTES, description="cap on a streamed registry export "
                                                                        "(CARBONLINK_MAX_STREAM_BYTES)")
    undp_registry_suffix: str | None = Field(None, description="two digits of the Party ITMO registry ID "
                                                               "(CARBONLINK_UNDP_REGISTRY_SUFFIX)")
    undp_mitigation_type: str | None = Field(None, description="CN mitigation type of every UNDP action "
                                                               "(CARBONLINK_UNDP_MITIGATION_TYPE)")
    undp_authorization_version: int | None = Field(None, description="version of authorizations read from "
                                                                     "a UNDP AEF export "
                                                                     "(CARBONLINK_UNDP_AUTHORIZATION_VERSION)")
    cadt_version: str = Field("v2", description="CAD Trust version the cadt adapter writes, v1 or v2 "
                                                "(CARBONLINK_CADT_VERSION)")
    spreadsheet_mapping: str | None = Field(None, description="the spreadsheet adapter's mapping: a built-in "
                                                              "name or a file (CARBONLINK_SPREADSHEET_MAPPING)")


#: The embedded defaults: what a program that configured nothing gets.
DEFAULT_OPTIONS = Options()

_CONTEXT = OptionsContext("carbonlink_adapter_options", DEFAULT_OPTIONS)


def current_options() -> Options:
    """The options in force (see :func:`use_options`), else :data:`DEFAULT_OPTIONS`."""
    return _CONTEXT.current()


def use_options(options: Options) -> AbstractContextManager[Options]:
    """Put ``options`` in force for the ``with`` block (this task or thread and what it starts)."""
    return _CONTEXT.use(options)
