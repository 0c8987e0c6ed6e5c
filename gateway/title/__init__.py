"""The legal-title trail of a unit block or ITMO range: the chain of signed receipts that moved it through
the gateway, across registries, read from the evidence log and verifiable offline (docs/governance.md).

Module map::

    _trail.py   blocks, hops and parts: which relayed messages moved which part of a range, in order
    _index.py   the title index: which records moved which ranges, caught up with the log before each lookup
    _keeper.py  a thread of the gateway that keeps the index up to date with the log
    _lookup.py  a lookup through the index, each record it names checked in the log
    _verify.py  the trail from an evidence export or log, with every hash-chain link and signature checked
"""

from __future__ import annotations

from gateway.title._index import TitleIndex, TitleIndexUnavailable, open_title_index
from gateway.title._keeper import IndexKeeper
from gateway.title._trail import Block, TitleError, parse_block, trail
from gateway.title._verify import title_from_export, title_from_log

__all__ = ["Block", "IndexKeeper", "TitleError", "TitleIndex", "TitleIndexUnavailable", "open_title_index",
           "parse_block", "title_from_export", "title_from_log", "trail"]
