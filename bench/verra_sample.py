"""A realistic Verra export pair (transactions + projects), generated deterministically.

The columns are the public Verra registry exports as OffsetsDB reads them
(github.com/carbonplan/offsets-db-data, tests/data/verra): project types, methodologies, statuses,
country spellings and serial numbers as Verra writes them. ``python -m bench.verra_sample DIR``
writes ``DIR/transactions.csv`` (about 200 rows) and ``DIR/projects.csv`` (50 projects).
"""

from __future__ import annotations

import csv
import random
import sys
from datetime import date, timedelta
from pathlib import Path

from adapters.verra._layout import PROJECTS, TRANSACTIONS

#: (Project Type, methodology, AFOLU activity, sectoral scope)
KINDS = (
    ("Agriculture Forestry and Other Land Use", "VM0015", "REDD", "14"),
    ("Agriculture Forestry and Other Land Use", "VM0007", "REDD; WRC", "14"),
    ("Agriculture Forestry and Other Land Use", "VM0009", "REDD", "14"),
    ("Agriculture Forestry and Other Land Use", "VM0047", "ARR", "14"),
    ("Agriculture Forestry and Other Land Use", "AR-ACM0003", "ARR", "14"),
    ("Agriculture Forestry and Other Land Use", "VM0042", "ALM", "14"),
    ("Energy industries (renewable/non-renewable sources)", "ACM0002", "", "1"),
    ("Energy industries (renewable/non-renewable sources)", "AMS-I.D.", "", "1"),
    ("Energy demand", "VMR0006", "", "3"),
    ("Energy demand", "AMS-II.G.", "", "3"),
    ("Waste handling and disposal", "ACM0001", "", "13"),
    ("Livestock, enteric fermentation, and manure management", "AMS-III.D.", "", "15"),
)
#: (Country/Area as Verra spells it, ISO alpha-2, region)
COUNTRIES = (
    ("Ethiopia", "ET", "Africa"), ("Indonesia", "ID", "Asia"), ("Bolivia", "BO", "Latin America"),
    ("Brazil", "BR", "Latin America"), ("India", "IN", "Asia"), ("China", "CN", "Asia"),
    ("Kenya", "KE", "Africa"), ("Peru", "PE", "Latin America"), ("Colombia", "CO", "Latin America"),
    ("Viet Nam", "VN", "Asia"), ("Congo, The Democratic Republic of the", "CD", "Africa"),
    ("Tanzania, United Republic of", "TZ", "Africa"), ("Cambodia", "KH", "Asia"),
    ("Turkey", "TR", "Europe"), ("United States", "US", "North America"), ("Zambia", "ZM", "Africa"),
    ("Guatemala", "GT", "Latin America"), ("Uganda", "UG", "Africa"),
)
STATUSES = ("Registered",) * 8 + ("Under validation", "Under development", "Registration requested",
                                   "On Hold", "Withdrawn", "Inactive")
CERTIFICATIONS = ("", "", "", "CCB-No Distinction", "CCB-Biodiversity Gold", "ICVCM CCP")
REASONS = ("", "Voluntary offsetting", "On behalf of a client", "CORSIA")
BENEFICIARIES = ("", "Delta Airlines", "Acme Logistics GmbH", "Ville de Lyon")


def _dmy(day: date) -> str:
    return day.strftime("%d%m%Y")


def generate(rows: int = 200, projects: int = 50, seed: int = 12) -> tuple[list[list[str]], list[list[str]]]:
    """(transactions rows, projects rows), each with its header first."""
    rng = random.Random(seed)
    project_rows = [list(PROJECTS.columns)]
    catalogue = []
    for i in range(projects):
        kind = KINDS[i % len(KINDS)]
        country = COUNTRIES[(i * 7) % len(COUNTRIES)]
        number = str(rng.randint(900, 4999) if i else 1340)
        while any(number == c[0] for c in catalogue):
            number = str(rng.randint(900, 4999))
        status = STATUSES[i % len(STATUSES)]
        name = f"{country[0].split(',')[0]} {kind[2].split(';')[0] or kind[1]} project {i + 1}"
        registered = date(2012 + i % 10, 1 + i % 12, 1 + i % 27)
        project_rows.append([number, name, f"Proponent {i + 1} Ltd", kind[0], kind[2], kind[1], status, country[0],
                             f"{rng.randint(5, 2000) * 1000:,}", country[2],
                             registered.isoformat() if status == "Registered" else "",
                             registered.isoformat(), date(registered.year + 20, 12, 31).isoformat()])
        catalogue.append((number, name, kind, country, status))
    issuing = [c for c in catalogue if c[4] not in ("Under validation", "Under development", "Registration requested")]
    tx_rows = [list(TRANSACTIONS.columns)]
    counter, batch = 941_467_007, 19_385
    for r in range(rows):
        number, name, kind, country, _status = issuing[r % len(issuing)]
        year = 2016 + (r * 3) % 8
        start, end = date(year, 1, 1), date(year, 12, 31)
        quantity = rng.choice((425, 1000, 2500, 12_000, 50_000, 137, 8_820))
        first, last = counter, counter + quantity - 1
        counter = last + 1
        batch += rng.randint(0, 3)
        cert = CERTIFICATIONS[r % len(CERTIFICATIONS)]
        issued = date(year + 1, 3, 1) + timedelta(days=r % 200)
        retired = issued + timedelta(days=30 + r % 90) if r % 3 == 0 else None
        serial = "-".join((str(batch), str(first), str(last), "VCS", "VCU", str(1000 + r % 700), "VER", country[1],
                           kind[3], number, _dmy(start), _dmy(end), "1" if cert else "0"))
        tx_rows.append([issued.isoformat(), "", start.isoformat(), end.isoformat(), number, name, country[0], kind[0],
                        kind[1], f"{quantity * 40:,}", f"{quantity:,}", serial, cert,
                        retired.isoformat() if retired else "",
                        BENEFICIARIES[r % 4] if retired else "", REASONS[r % 4] if retired else "", ""])
    return tx_rows, project_rows


def write(folder: Path, rows: int = 200, projects: int = 50) -> tuple[Path, Path]:
    folder.mkdir(parents=True, exist_ok=True)
    tx_rows, project_rows = generate(rows, projects)
    paths = (folder / "transactions.csv", folder / "projects.csv")
    for path, table in zip(paths, (tx_rows, project_rows), strict=True):
        with path.open("w", newline="", encoding="utf-8") as handle:
            csv.writer(handle, lineterminator="\n").writerows(table)
    return paths


if __name__ == "__main__":
    for written in write(Path(sys.argv[1] if len(sys.argv) > 1 else "verra-sample")):
        print(written)
