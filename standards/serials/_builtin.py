"""The built-in layouts: Verra, Gold Standard, Kyoto/CDM, ACR, CAR, ART and the UNDP registries."""

from __future__ import annotations

from collections.abc import Mapping

from standards.serials._layout import PLACEHOLDER, SerialLayout


def _layout(scheme: str, variant: str, template: str, fields: Mapping[str, str], example: str,
            description: str, reference: str, *, quantity_checked: bool = True) -> SerialLayout:
    return SerialLayout(scheme, variant, template, dict(fields), example, description, reference,
                        quantity_checked)


_NUM = r"\d+"
_CC2 = r"[A-Z]{2}"
_VERRA_FIELDS = {
    "batch": _NUM, "first": _NUM, "last": _NUM, "program": r"[A-Z]{2,5}", "unit_type": r"[A-Z]{3,4}",
    "code": _NUM, "system": r"[A-Z]{3}", "country": _CC2, "scope": r"\d{1,2}", "project": _NUM,
    "vintage_start": r"\d{8}", "vintage_end": r"\d{8}", "certified": r"[01]",
}
_APX_RANGE = {"to": " to ", "dash": "-"}
_KYOTO_FIELDS = {"country": _CC2, "unit_type": r"\d", "first": _NUM, "last": _NUM,
                 "original_cp": r"\d", "applicable_cp": r"\d", "lulucf": _NUM, "project": _NUM}
_KYOTO_ID = "{country}-{unit_type}-%s-{original_cp}-{applicable_cp}-{lulucf}-{project}"


#: Public sources the built-in layouts cite.
_OFFSETS_DB = "CarbonPlan OffsetsDB, github.com/carbonplan/offsets-db-data"
_KYOTO_DES = ("Kyoto unit identifier elements: UNFCCC Data Exchange Standards for registry systems under the "
              "Kyoto Protocol")


def builtin_layouts() -> list[SerialLayout]:
    ref_v = (f"{_OFFSETS_DB} (Verra VCU serials); variants as parsed by github.com/stellarcarbon/sc-audit "
             "(VcsSerialNumber)")
    out = [
        _layout("verra", "verra-13",
                "{batch}-{first}-{last}-{program}-{unit_type}-{code}-{system}-{country}-{scope}-{project}"
                "-{vintage_start}-{vintage_end}-{certified}", _VERRA_FIELDS,
                "19385-941467007-941467431-VCS-VCU-1507-VER-ET-14-1340-01012020-31122020-1",
                "Verra VCU block, 13 tokens", ref_v),
        _layout("verra", "verra-12-no-program",
                "{batch}-{first}-{last}-{unit_type}-{code}-{system}-{country}-{scope}-{project}"
                "-{vintage_start}-{vintage_end}-{certified}", _VERRA_FIELDS,
                "8040-449402275-449402275-VCU-042-MER-PE-14-1360-01072013-30062014-1",
                "legacy Verra VCU block without the programme code", ref_v),
        _layout("verra", "verra-12-no-scope",
                "{batch}-{first}-{last}-{program}-{unit_type}-{code}-{system}-{country}-{project}"
                "-{vintage_start}-{vintage_end}-{certified}", _VERRA_FIELDS,
                "19902-1139690318-1139925921-VCS-VCU-500-VER-US-3352-01012024-31122024-0",
                "Verra VCU block from the S&P-hosted registry, without the sectoral scope", ref_v),
        _layout("gold-standard", "gold-standard-9",
                "{registry_code}-{unit_code}-{country}-GS{project}-{type_code}-{vintage}-{batch}-{first}-{last}",
                {"registry_code": r"GS\d+", "unit_code": _NUM, "country": _CC2, "project": _NUM,
                 "type_code": _NUM, "vintage": r"\d{4}", "batch": _NUM, "first": _NUM, "last": _NUM},
                "GS1-1-UG-GS11236-16-2024-30307-1-19149", "Gold Standard VER block, 9 tokens",
                f"{_OFFSETS_DB} (Gold Standard serials)"),
        _layout("kyoto", "kyoto-range", (_KYOTO_ID % "{first}") + " - " + (_KYOTO_ID % "{last}"),
                _KYOTO_FIELDS, "RW-5-1463953-2-2-0-7014 - RW-5-1467609-2-2-0-7014",
                "Kyoto/CDM unit identifiers as a range (CERs held in Gold Standard)",
                f"{_OFFSETS_DB} (Gold Standard CERs); {_KYOTO_DES}"),
        _layout("kyoto", "kyoto-unit", _KYOTO_ID % "{first}", _KYOTO_FIELDS, "RW-5-1463953-2-2-0-7014",
                "one Kyoto/CDM unit identifier", f"{_OFFSETS_DB} (Gold Standard CERs); {_KYOTO_DES}"),
    ]
    apx_fields = {"country": _CC2, "project": _NUM, "vintage": r"\d{4}", "batch": _NUM, "first": _NUM,
                  "last": _NUM, "unit_type": r"1|ROC", "type_code": _NUM, "developer": _NUM,
                  "state": r"[A-Z]{2}", "program": r"ART|FCPF"}
    apx = {
        "acr": ("ACR-{country}-{project}-{vintage}-{batch}-{first}%s{last}",
                {"to": "ACR-FR-1129-2025-2917-30932 to 35143", "dash": "ACR-US-192-2010-203-1-5000"},
                f"{_OFFSETS_DB} (ACR serials); dash range: "
                "help.cloverly.com/knowledge/registry-serial-number-ranges"),
        "car": ("CAR-{unit_type}-{country}-{project}-{type_code}-{developer}-{state}-{vintage}-{batch}"
                "-{first}%s{last}",
                {"to": "CAR-1-US-1335-31-983-KS-2025-9205-1 to 5000",
                 "dash": "CAR-ROC-US-2056-129-2283-WV-2025-8969-1-260294"},
                "climateactionreserve.org/how/projects/serial-number-guide/; "
                f"{_OFFSETS_DB} (CAR serials)"),
        "art": ("{program}-{country}-{project}-{vintage}-{batch}-{first}%s{last}",
                {"to": "ART-GY-102-2021-11-2759599 to 2760598", "dash": "FCPF-CI-130-2023-20-1-46404"},
                f"{_OFFSETS_DB} (ART TREES serials)"),
    }
    for scheme, (template, examples, ref) in apx.items():
        for sep_name, sep in _APX_RANGE.items():
            used = {n: apx_fields[n] for n in PLACEHOLDER.findall(template)}
            out.append(_layout(scheme, f"{scheme}-{sep_name}", template % sep, used, examples[sep_name],
                               f"{scheme.upper()} block, range written '{sep.strip() or '-'}'", ref))
    out.extend(_cercarbono_and_isometric())
    out.append(_layout(
        "undp-v2", "undp-v2",
        "{cooperative_approach}-{originating_party}-{first_transferring_party}-{project}-{first}-{last}-{vintage}",
        {"cooperative_approach": r"CA[0-9A-Z]{4}", "originating_party": r"[A-Z]{2,3}",
         "first_transferring_party": r"[A-Z]{2,3}", "project": _NUM, "first": _NUM, "last": _NUM,
         "vintage": r"\d{4}"},
        "CA0004-VU-CH-356-3001-5000-2024", "UNDP National Carbon Registry v2 (ITMO-style) block",
        "github.com/undp/undp-national-carbon-registry (serial-number-management.service.ts, README); "
        "ITMO identifier elements: decision 6/CMA.4, annex I, para 5"))
    out.append(_layout(
        "undp-v1", "undp-v1", "{country}-{unit}-{scope}-{project}-{year}-{reserved}-{first}-{last}",
        {"country": _CC2, "unit": r"[A-Z][A-Z0-9]*", "scope": r"\d{1,2}", "project": _NUM,
         "year": r"\d{4}", "reserved": r"\d", "first": _NUM, "last": _NUM},
        "VU-ITMO-11-356-2022-0-27-35",
        "UNDP carbon registry v1 programme serial (range = country-cumulative estimate, not a block size)",
        "github.com/undp/carbon-registry (libs/serial-number-gen, README and generator.ts)",
        quantity_checked=False))
    return out


def _cercarbono_and_isometric() -> list[SerialLayout]:
    """Cercarbono blocks (the issuance serial plus the unit range a retirement names) and Isometric
    credit batches (a range of kilograms, end exclusive)."""
    ref_c = (f"{_OFFSETS_DB} (Cercarbono issuance serials and retirement from/to ranges, tests/data/cercarbono); "
             "EcoRegistry public project pages (ecoregistry.io)")
    cercarbono = {"standard": r"[A-Z]{2,4}", "project": _NUM, "rest": r"[A-Z0-9]+(?:_[A-Z0-9]+)*",
                  "first": _NUM, "last": _NUM}
    ref_i = f"{_OFFSETS_DB} (Isometric credit batches, tests/data/isometric)"
    return [
        _layout("cercarbono", "cercarbono-block", "{standard}_{project}_{rest}:{first}-{last}", cercarbono,
                "CDC_1_1_1_321_14_1_2009:4426-4971",
                "Cercarbono block: the issuance serial, then the unit range of a retirement (carbonlink's "
                "spelling of the export's serial, from and to columns)", ref_c),
        _layout("cercarbono", "cercarbono-revision-block", "{standard}_R_{project}_{rest}:{first}-{last}",
                cercarbono, "CDC_R_16_1_1_321_14_1:1-10",
                "Cercarbono block of a revised issuance (token 1 is R, the project is token 2)", ref_c),
        _layout("isometric", "isometric-batch",
                "ISO-{unit_code}-{supplier}-{country}-{batch}-{vintage}-{first}-{last}",
                {"unit_code": _NUM, "supplier": r"[A-Z0-9]+", "country": r"[A-Z]{3}", "batch": r"[A-Z0-9]+",
                 "vintage": r"\d{4}", "first": _NUM, "last": _NUM},
                "ISO-1-VAULT-USA-01P4-2026-40170350-40182796",
                "Isometric credit batch: a range of kilograms of CO2e, end exclusive (last - first = the "
                "batch's credit_kgs in every sample row), so the unit count is not last - first + 1", ref_i,
                quantity_checked=False),
    ]
