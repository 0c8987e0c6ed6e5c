"""A cell listing several values (Verra writes ``AMS-III.D.; AMS-III.F.`` and ``Livestock, ...; Waste handling and
disposal``) maps through a vocabulary when every part maps to the same value (v1's single-valued fields), or, for
v2's list fields, to the parts' values; one unmapped part leaves the whole unmapped (a coded finding)."""

from __future__ import annotations

from standards.cadt._values import agreed, parts_of
from standards.cadt._values import listed_values as _listed_values
from standards.cadt.linking_v2 import _v2
from standards.cadt.vocab import registry_vocabulary


def test_parts_that_agree_give_the_unit_type() -> None:
    verra = registry_vocabulary("verra")
    assert verra is not None
    assert parts_of("VM0007") == [] and parts_of("AR-AM0005; AR-ACM0003") == ["AR-AM0005", "AR-ACM0003"]
    assert agreed(verra, "unitTypeByMethodology", "AR-AM0005; AR-ACM0003", methodology=True) == "Removal - nature"
    assert agreed(verra, "unitTypeByMethodology", "VCS - VM0015; VM0007", methodology=True) == "Reduction - nature"
    pair = "Energy demand; Waste handling and disposal"
    assert agreed(verra, "unitTypeByProjectType", pair) == "Reduction - technical"


def test_parts_that_disagree_or_are_unknown_give_nothing() -> None:
    verra = registry_vocabulary("verra")
    assert verra is not None
    assert agreed(verra, "unitTypeByMethodology", "VM0047; VM0007", methodology=True) is None  # removal vs reduction
    assert agreed(verra, "unitTypeByMethodology", "VM0007; VM9999", methodology=True) is None  # one part unknown
    assert agreed(verra, "sector", "Energy demand; Waste handling and disposal") is None  # two v1 sectors


def test_v2_list_fields_take_every_part() -> None:
    verra = registry_vocabulary("verra")
    assert verra is not None
    v2 = _v2(verra)
    assert _listed_values(v2, "sectorByProjectType", "Energy demand; Waste handling and disposal") == [
        "Energy demand", "Waste handling and disposal"]
    assert _listed_values(v2, "sectorByProjectType", "Energy demand; Not a scope") == []
    assert _listed_values(v2, "sectorByProjectType", "Transport") == ["Transport"]
