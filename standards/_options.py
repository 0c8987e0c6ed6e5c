"""The options of the standards layer, handed down by the edge (the CLI, the gateway app).

Nothing in :mod:`standards` reads the environment. The edge builds an :class:`Options` from its
settings tree (``gateway.settings``, which reads the ``CARBONLINK_*`` variables) and either passes
it where a function takes one, or puts it in force for a block of work with :func:`use_options`.
Code that needs an option and was given none asks :func:`current_options`: the options in force,
else the embedded defaults (:data:`DEFAULT_OPTIONS`). The value is a :class:`contextvars.ContextVar`,
so threads started with ``asyncio.to_thread`` or AnyIO inherit it and concurrent tasks never see
each other's options.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import AbstractContextManager, contextmanager
from contextvars import ContextVar
from pathlib import Path
from typing import Generic, Literal, TypeVar

from pydantic import BaseModel, ConfigDict, Field, SecretStr

OptionsT = TypeVar("OptionsT")

#: Default maximum input size in bytes (``CARBONLINK_MAX_INPUT_BYTES`` at the edge).
DEFAULT_MAX_INPUT_BYTES = 64 * 1024 * 1024


class Options(BaseModel):
    """What a deployment may change in the standards layer (all optional; the defaults are embedded).

    Each field is set at the edge from the variable named in its description.
    """

    model_config = ConfigDict(frozen=True, extra="forbid")

    max_input_bytes: int = Field(DEFAULT_MAX_INPUT_BYTES,
                                 description="largest input read whole (CARBONLINK_MAX_INPUT_BYTES)")
    serial_layouts: Path | None = Field(None, description="JSON file of extra serial layouts, added to the "
                                                          "built-in ones (CARBONLINK_SERIAL_LAYOUTS)")
    des_code_lists: Path | None = Field(None, description="DES code-list file replacing the packaged one "
                                                          "(CARBONLINK_DES_CODELISTS)")
    cadt_picklists: str | None = Field(None, description="CAD Trust picklists: a JSON file or a node's base "
                                                         "URL (CARBONLINK_CADT_PICKLISTS)")
    cadt_api_key: SecretStr | None = Field(None, description="x-api-key for that node (CARBONLINK_CADT_API_KEY)")
    cadt_profile: str | None = Field(None, description="CAD Trust output profile: a bundled name or a JSON "
                                                       "file (CARBONLINK_CADT_PROFILE)")
    apx_date_order: Literal["mdy", "dmy"] | None = Field(
        None, description="order of day and month in the slash dates of APX exports (ACR, CAR, ART TREES): "
                          "mdy or dmy; unset, the order the registry's vocabulary file states "
                          "(CARBONLINK_APX_DATE_ORDER)")


#: The embedded defaults: what a program that configured nothing gets.
DEFAULT_OPTIONS = Options()

class OptionsContext(Generic[OptionsT]):
    """One layer's options in force: a :class:`contextvars.ContextVar` with the layer's defaults.

    ``current()`` answers the options in force, else the defaults; ``use(options)`` puts options in
    force for a ``with`` block (this task or thread and what it starts). The standards and adapters
    layers each hold one.
    """

    def __init__(self, name: str, default: OptionsT) -> None:
        self._var: ContextVar[OptionsT] = ContextVar(name, default=default)

    def current(self) -> OptionsT:
        """The options in force, else the defaults."""
        return self._var.get()

    @contextmanager
    def use(self, options: OptionsT) -> Iterator[OptionsT]:
        """Put ``options`` in force for the ``with`` block."""
        token = self._var.set(options)
        try:
            yield options
        finally:
            self._var.reset(token)


_CONTEXT = OptionsContext("carbonlink_standards_options", DEFAULT_OPTIONS)


def current_options() -> Options:
    """The options in force (see :func:`use_options`), else :data:`DEFAULT_OPTIONS`."""
    return _CONTEXT.current()


def use_options(options: Options) -> AbstractContextManager[Options]:
    """Put ``options`` in force for the ``with`` block (this task or thread and what it starts)."""
    return _CONTEXT.use(options)
