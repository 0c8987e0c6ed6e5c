"""``carbonlink feed pull | conflicts``: read the gateway's harmonized feeds as a client.

The command authenticates like any participant (private_key_jwt with ``--key``, a DPoP-bound token with
scope ``feeds:read``) and streams the feed to ``-o FILE`` with a progress bar. The file's suffix picks the
format (``.ndjson``/``.jsonl``, ``.csv``, ``.xlsx``, ``.json``; AEF: ``.json``, ``.csv``, ``.xlsx``). A
feed that misses a registry is written, the missing registries are printed with their reasons, and the exit
code is 1 unless ``--allow-partial``: an incomplete feed is never taken for a complete one silently.
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Any
from urllib.parse import urlencode

import httpx
import orjson
import typer
from rich.progress import BarColumn, Progress, SpinnerColumn, TextColumn, TimeElapsedColumn

from gateway.cli._common import EXIT_FINDINGS, EXIT_OK, CliUsageError, err, fail, out, print_table, table, text
from gateway.client import GatewayClient
from gateway.trust.keys import import_jwk
from standards.errors import CarbonlinkError
from standards.safeio import load_json, read_bytes

feed_app = typer.Typer(help="Read the gateway's harmonized feeds (CAD Trust, AEF, double counting).",
                       no_args_is_help=True)

#: items asked per JSON page (the gateway's default largest page, CARBONLINK_FEEDS_PAGE_LIMIT)
PAGE = 1000
_SUFFIXES = {".ndjson": "ndjson", ".jsonl": "ndjson", ".csv": "csv", ".xlsx": "xlsx", ".json": "json"}
GatewayOption = Annotated[str, typer.Option("--gateway", help="Gateway base URL (its OAuth issuer).")]
ClientOption = Annotated[str, typer.Option("--client-id", help="Your participant id in the directory.")]
KeyOption = Annotated[Path, typer.Option("--key", help="Your private JWK file (private_key_jwt).")]


class FeedCommandError(CarbonlinkError):
    """The gateway refused the feed request or answered something unusable."""

    code = "CLI.FEED"


def _client(gateway: str, client_id: str, key: Path) -> GatewayClient:
    jwk = import_jwk(load_json(read_bytes(key, limit=64 * 1024), what=str(key)), private=True, what=str(key))
    return GatewayClient(gateway, client_id, jwk, scope="feeds:read", http=httpx.Client(timeout=600))


def _headers(client: GatewayClient, path: str) -> dict[str, str]:
    token = client.token()
    return {"Authorization": f"DPoP {token}", "DPoP": client.proof("GET", path, access_token=token)}


def _path(standard: str, kind: str, party: str | None, year: int | None, fmt: str, filters: dict[str, Any]) -> str:
    if standard == "aef":
        if party is None or year is None:
            raise CliUsageError("--standard aef needs --party and --year")
        return f"/v1/feeds/aef/{party}/{year}?" + urlencode({"format": fmt, **filters})
    if standard not in ("cadt-v2", "cadt-v1", "canonical"):
        raise CliUsageError(f"--standard {standard!r} is cadt-v2, cadt-v1, canonical or aef")
    query = {"format": fmt, **({"party": party} if party else {}), **filters}
    if year is not None:
        query["vintage"] = str(year)
    prefix = "/v1/feeds/canonical" if standard == "canonical" else f"/v1/feeds/cadt/{standard.split('-')[1]}"
    return f"{prefix}/{kind}?" + urlencode(query)


def _progress() -> Progress:
    return Progress(SpinnerColumn(), TextColumn("{task.description}"), BarColumn(), TextColumn("{task.fields[n]}"),
                    TimeElapsedColumn(), console=err, transient=False)


def _pages(client: GatewayClient, path: str, target: Path) -> tuple[int, list[dict[str, Any]]]:
    """A CAD Trust or canonical feed as one JSON file: every page, following ``next_cursor`` (a JSON answer is
    one page; the file holds all of them), ``{"items": [...], "count", "complete", "missing"}``."""
    count, cursor, missing = 0, None, []
    with _progress() as progress, target.open("wb") as sink:
        task = progress.add_task(f"pulling {path.split('?')[0]}", total=None, n="")
        sink.write(b'{"items": [')
        for _ in range(1_000_000):
            response = client.request("GET", f"{path}&limit={PAGE}" + (f"&cursor={cursor}" if cursor else ""))
            if response.status_code != 200:
                raise FeedCommandError(f"the gateway answered HTTP {response.status_code}: {response.text[:300]}")
            body = response.json()
            for item in body["items"]:
                sink.write((b",\n" if count else b"\n") + orjson.dumps(item))
                count += 1
            missing = body.get("missing", [])
            progress.update(task, n=f"{count} items")
            cursor = body.get("next_cursor")
            if not cursor:
                break
        sink.write(b"\n], " + orjson.dumps({"count": count, "complete": not missing, "missing": missing})[1:] + b"\n")
    return count, list(missing)


def _stream(client: GatewayClient, path: str, target: Path, fmt: str) -> tuple[int, list[dict[str, Any]]]:
    """Write the feed to ``target``; ``(records, missing registries)``."""
    records, tail = 0, b""
    missing_header: str | None = None
    with _progress() as progress:
        task = progress.add_task(f"pulling {path.split('?')[0]}", total=None, n="")
        for attempt in range(2):
            with client.http.stream("GET", client.base_url + path, headers=_headers(client, path)) as response:
                if response.headers.get("dpop-nonce") and response.status_code == 401 and attempt == 0:
                    client.nonce = response.headers["dpop-nonce"]
                    continue
                if response.status_code != 200:
                    response.read()
                    raise FeedCommandError(f"the gateway answered HTTP {response.status_code}: {response.text[:300]}")
                missing_header = response.headers.get("carbonlink-feed-missing")
                with target.open("wb") as sink:
                    for chunk in response.iter_bytes():
                        sink.write(chunk)
                        lines = chunk.count(b"\n")
                        records += lines
                        tail = (tail + chunk)[-65536:]
                        progress.update(task, n=f"{records} lines" if fmt in ("ndjson", "csv") else
                                        f"{sink.tell()} bytes")
                break
    if fmt == "ndjson" and tail.strip():
        end = orjson.loads(tail.strip().rsplit(b"\n", 1)[-1])
        if end.get("type") != "end":
            raise FeedCommandError("the stream ended without its end line: the feed was cut")
        return int(end["count"]), list(end.get("missing", []))
    if missing_header:
        return records, [{"registry": part.split(";")[0].strip(), "code": part.split("=", 1)[-1].strip('" ')}
                         for part in missing_header.split(",")]
    return records, []


@feed_app.command("pull")
def pull_command(
    gateway: GatewayOption, client_id: ClientOption, key: KeyOption,
    output: Annotated[Path, typer.Option("-o", "--output", help="File to write; its suffix picks the format.")],
    standard: Annotated[str, typer.Option(help="cadt-v2, cadt-v1, canonical or aef.")] = "cadt-v2",
    kind: Annotated[str, typer.Option(help="projects, issuances or units (CAD Trust feeds).")] = "units",
    party: Annotated[str | None, typer.Option(help="ISO alpha-3 Party (required for aef).")] = None,
    year: Annotated[int | None, typer.Option(help="AEF reporting year; for CAD Trust feeds the vintage.")] = None,
    registry: Annotated[list[str] | None, typer.Option(help="Only these registries (repeatable).")] = None,
    status: Annotated[str | None, typer.Option(help="Unit status filter (CAD Trust feeds).")] = None,
    updated_since: Annotated[str | None, typer.Option(
        help="Only records changed at or after this ISO 8601 date-time with a zone (CAD Trust feeds).")] = None,
    aef_table: Annotated[str | None, typer.Option(
        "--table", help="AEF table of a .csv file: T1-T5 (default T3).")] = None,
    allow_partial: Annotated[bool, typer.Option(help="Exit 0 even when a registry is missing.")] = False,
) -> None:
    """Pull a harmonized feed into FILE, with a progress bar."""
    try:
        fmt = _SUFFIXES.get(output.suffix.lower())
        if fmt is None or (standard == "aef" and fmt == "ndjson"):
            raise CliUsageError(f"cannot tell the format from {output.name!r} (.ndjson, .csv, .xlsx, .json; AEF: "
                                ".json, .csv, .xlsx)")
        filters: dict[str, Any] = {}
        if registry:
            filters["registry"] = ",".join(registry)
        if status:
            filters["status"] = status
        if updated_since:
            filters["updated_since"] = updated_since
        if aef_table:
            if standard != "aef" or fmt != "csv":
                raise CliUsageError("--table picks the table of an AEF .csv file")
            filters["table"] = aef_table.upper()
        client = _client(gateway, client_id, key)
        path = _path(standard, kind, party, year, fmt, filters)
        if fmt == "json" and standard != "aef":
            count, missing = _pages(client, path, output)
        else:
            count, missing = _stream(client, path, output, fmt)
    except CarbonlinkError as exc:
        raise fail(exc) from exc
    except httpx.HTTPError as exc:
        raise fail(FeedCommandError(f"the gateway is unreachable: {exc}")) from exc
    noun = "records" if fmt == "ndjson" else "lines" if fmt == "csv" else "items"
    out.print(f"wrote {output} ({count} {noun})")
    for m in missing:
        err.print(f"carbonlink: missing registry {m.get('registry')}: {m.get('code')} {m.get('detail', '')}")
    raise typer.Exit(EXIT_FINDINGS if missing and not allow_partial else EXIT_OK)


@feed_app.command("conflicts")
def conflicts_command(
    gateway: GatewayOption, client_id: ClientOption, key: KeyOption,
    json_output: Annotated[bool, typer.Option("--json", help="Machine-readable output.")] = False,
) -> None:
    """List cross-registry double-counting findings; exit 1 when there are any (or a registry is missing)."""
    try:
        client = _client(gateway, client_id, key)
        response = client.request("GET", "/v1/feeds/conflicts")
        if response.status_code != 200:
            raise FeedCommandError(f"the gateway answered HTTP {response.status_code}: {response.text[:300]}")
        body = response.json()
    except CarbonlinkError as exc:
        raise fail(exc) from exc
    except httpx.HTTPError as exc:
        raise fail(FeedCommandError(f"the gateway is unreachable: {exc}")) from exc
    if json_output:
        out.print_json(orjson.dumps(body).decode())
    else:
        rendered = table([text("code"), text("registries"), text("message")])
        for f in body["findings"]:
            rendered.add_row(f["code"], " / ".join(r["registry"] for r in f["records"]), f["message"])
        print_table(rendered)
        for m in body["missing"]:
            err.print(f"carbonlink: missing registry {m['registry']}: {m['code']} {m['detail']}")
    raise typer.Exit(EXIT_FINDINGS if body["findings"] or body["missing"] else EXIT_OK)


def register(app: typer.Typer) -> None:
    """Add ``carbonlink feed ...`` to the main app."""
    app.add_typer(feed_app, name="feed")
