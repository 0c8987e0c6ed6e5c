"""Harmonized feeds: ``GET /v1/feeds/cadt/v1/{kind}`` and ``cadt/v2/{kind}``, ``/v1/feeds/canonical/{kind}``,
``/v1/feeds/aef/{party}/{year}``, ``/v1/feeds/conflicts``, ``/v1/feeds/sources``, ``/v1/feeds/changes`` (SSE), and
``PUT /v1/feeds/snapshot`` (a registry pushing its records). See docs/feeds.md."""

from __future__ import annotations

import hashlib
from collections.abc import Iterator
from dataclasses import replace
from typing import Annotated, Any, Literal

import orjson
from fastapi import APIRouter, Depends, Path, Request
from fastapi.responses import Response, StreamingResponse
from starlette.concurrency import run_in_threadpool

from gateway.api.deps import Caller, CurrentCaller, require_scope
from gateway.api.services import ServiceSlot
from gateway.feeds import PUSH_SCOPE, READ_OWN_SCOPE, READ_SCOPE, FeedService, detect
from gateway.feeds import aef as aef_report
from gateway.feeds.changes import check_position, parse_position, stream
from gateway.feeds.errors import FeedForbidden, FeedQueryInvalid
from gateway.feeds.feed import FeedRequest, Prepared, coverage_headers
from gateway.feeds.params import FORMATS, feed_request, limit, one, response_format, values
from gateway.governance import Authorities
from gateway.trust.errors import InsufficientScope
from standards.codec import Medium
from standards.errors import CarbonlinkError
from standards.parties import is_alpha3, party_codes

router = APIRouter(prefix="/v1/feeds", tags=["feeds"])

FEED_RESPONSES: dict[int | str, dict[str, Any]] = {
    200: {"description": "The feed (JSON page, NDJSON stream, CSV or XLSX). `Carbonlink-Feed-Complete` says "
                         "whether every registry is included; `Carbonlink-Feed-Missing` names the others and why"},
    304: {"description": "If-None-Match matched the ETag"},
    400: {"description": "A filter, format, limit or cursor the feed cannot use (FEED.QUERY_INVALID)"},
    401: {"description": "Token or its DPoP/mTLS binding refused"},
    403: {"description": "No feed scope, or feeds:read:own asking for another registry"},
}


async def get_feed_service(request: Request) -> FeedService:
    slot: ServiceSlot[FeedService] = request.app.state.feeds
    service = slot.ready
    if service is None:
        service = await run_in_threadpool(slot.get)
    return service


FeedsDep = Annotated[FeedService, Depends(get_feed_service)]


def _allowed(caller: Caller) -> set[str] | None:
    """None: every registry (``feeds:read``); else only the caller's own (``feeds:read:own``)."""
    if READ_SCOPE in caller.token.scopes:
        return None
    if READ_OWN_SCOPE in caller.token.scopes:
        return {caller.participant.id}
    raise InsufficientScope(f"this needs the scope {READ_SCOPE!r} or {READ_OWN_SCOPE!r}")


def _check_own(request: FeedRequest, allowed: set[str] | None) -> None:
    if allowed is not None and request.registries is not None and not set(request.registries) <= allowed:
        raise FeedForbidden("with feeds:read:own a registry reads its own records only", code="FEED.FORBIDDEN")


def _query(request: Request) -> dict[str, list[str]]:
    out: dict[str, list[str]] = {}
    for name, value in request.query_params.multi_items():
        out.setdefault(name, []).append(value)
    return out


def _variant(prepared: Prepared, *parts: Any) -> Prepared:
    """``prepared`` with an ETag that also names what else the answer depends on (RFC 9110 8.8.3: a
    representation of its own, such as another format or page size, has another tag)."""
    basis = orjson.dumps([prepared.etag, *parts], default=str)
    return replace(prepared, etag='"' + hashlib.sha256(basis).hexdigest()[:32] + '"')


def _not_modified(request: Request, prepared: Prepared) -> Response | None:
    tags = [t.strip() for t in request.headers.get("if-none-match", "").split(",")]
    if prepared.etag in tags or "*" in tags:
        return Response(status_code=304, headers=prepared.headers())
    return None


async def _serve(request: Request, service: FeedService, caller: Caller, standard: str, kind: str) -> Response:
    query = _query(request)
    allowed = _allowed(caller)
    fmt = response_format(query, request.headers.get("accept"), list(FORMATS))
    feed = feed_request(standard, kind, query)
    _check_own(feed, allowed)
    page_limit = limit(query, request.app.state.feed_page_limit) if fmt == "json" else 0
    prepared = await run_in_threadpool(service.feeds.prepare, feed, allowed=allowed)
    prepared = _variant(prepared, fmt, page_limit)  # each representation (format, page size) its own ETag
    unchanged = _not_modified(request, prepared)
    if unchanged is not None:
        return unchanged
    headers = prepared.headers()
    if fmt == "json":
        page = await run_in_threadpool(service.feeds.page, prepared, page_limit)
        return Response(orjson.dumps(page), media_type=FORMATS["json"], headers=headers)
    if fmt == "xlsx":
        body = await run_in_threadpool(service.feeds.xlsx, prepared)
        return Response(body, media_type=FORMATS["xlsx"], headers=headers)
    stream: Iterator[bytes] = service.feeds.ndjson(prepared) if fmt == "ndjson" else service.feeds.csv(prepared)
    return StreamingResponse(stream, media_type=FORMATS[fmt], headers=headers)


@router.get("/cadt/v2/{kind}", responses=FEED_RESPONSES, summary="CAD Trust v2-shaped feed")
async def cadt_v2_feed(kind: Literal["projects", "issuances", "units"], request: Request, caller: CurrentCaller,
                       service: FeedsDep) -> Response:
    return await _serve(request, service, caller, "cadt-v2", kind)


@router.get("/cadt/v1/{kind}", responses=FEED_RESPONSES, summary="CAD Trust v1-shaped feed")
async def cadt_v1_feed(kind: Literal["projects", "units"], request: Request, caller: CurrentCaller,
                       service: FeedsDep) -> Response:
    return await _serve(request, service, caller, "cadt-v1", kind)


@router.get("/canonical/{kind}", responses=FEED_RESPONSES,
            summary="The harmonized view in the canonical model (projects, units, issuances, actions)")
async def canonical_feed(kind: Literal["projects", "units", "issuances", "actions"], request: Request,
                         caller: CurrentCaller, service: FeedsDep) -> Response:
    return await _serve(request, service, caller, "canonical", kind)


#: The Parties an AEF feed is asked for: ISO 3166-1 alpha-3 codes and the reserved Party codes.
PARTY_PATH = Path(pattern="^[A-Z]{3}$", json_schema_extra={"enum": sorted(party_codes())})


@router.get("/aef/{party}/{year}", responses=FEED_RESPONSES, summary="AEF-shaped report (T1-T5) of a Party and year")
async def aef_feed(party: Annotated[str, PARTY_PATH], year: Annotated[int, Path(ge=1900, le=2100)],
                   request: Request, caller: CurrentCaller, service: FeedsDep) -> Response:
    if not is_alpha3(party) or not 1900 <= year <= 2100:
        raise FeedQueryInvalid("the AEF feed is /v1/feeds/aef/{ISO alpha-3 Party}/{year}")
    query = _query(request)
    allowed = _allowed(caller)
    fmt = response_format(query, request.headers.get("accept"), ["json", "csv", "xlsx"])
    feed = FeedRequest("canonical", "actions", registries=None, parties=(party,), year=year)
    prepared = await run_in_threadpool(service.feeds.prepare, feed, allowed=allowed)
    slot: ServiceSlot[Authorities] = request.app.state.authorizations
    entities = {p.id: (p.name, p.party) for p in service.view.directory.current().participants}
    table, layout = (one(query, "table") or "T3").upper(), one(query, "layout") or "peer"

    def authorizations() -> tuple[aef_report.AuthorizationSource, Any]:
        try:
            source: aef_report.AuthorizationSource = slot.ready or slot.get()
            return source, source.listing(party)
        except CarbonlinkError as exc:  # the authorization store is down: T2/T5 missing, and said so
            return _Unavailable(exc), exc.code

    authorities, listed = await run_in_threadpool(authorizations)
    # the answer also depends on the Party's authorizations and on the representation asked for
    prepared = _variant(prepared, fmt, table, layout, listed)
    unchanged = _not_modified(request, prepared)
    if unchanged is not None:
        return unchanged
    medium = {"json": Medium.JSON, "csv": Medium.CSV, "xlsx": Medium.XLSX}[fmt]

    def build() -> tuple[bytes, dict[str, str]]:
        report = aef_report.build(service.store, prepared, party, year, authorities=authorities, entities=entities)
        body = aef_report.write(report, prepared, medium, table=table, layout=layout)
        headers = prepared.headers()
        if report.authorizations_missing is not None:
            headers["Carbonlink-Feed-Complete"] = "false"
            headers["Carbonlink-Feed-Missing"] = ", ".join(
                f'{m["registry"]}; code="{m["code"]}"' for m in aef_report.report_missing(report, prepared))
        return body, headers

    body, headers = await run_in_threadpool(build)
    return Response(body, media_type=FORMATS[fmt], headers=headers)


class _Unavailable:
    """The authorization store could not be opened: reading it raises that error (the report names it)."""

    def __init__(self, error: CarbonlinkError) -> None:
        self.error = error

    def listing(self, party: str | None = None) -> list[dict[str, Any]]:
        raise self.error

    def show(self, party: str, authorization_id: str) -> dict[str, Any]:
        raise self.error


@router.get("/conflicts", responses=FEED_RESPONSES, summary="Cross-registry double-counting findings")
async def conflicts_feed(request: Request, caller: CurrentCaller, service: FeedsDep) -> Response:
    query = _query(request)
    allowed = _allowed(caller)
    fmt = response_format(query, request.headers.get("accept"), ["json", "ndjson"])
    feed = feed_request("canonical", "units", query)
    _check_own(feed, allowed)
    prepared = await run_in_threadpool(service.feeds.prepare, feed, allowed=allowed)
    sources = prepared.query.sources
    if fmt == "ndjson":
        def lines() -> Iterator[bytes]:
            count = 0
            for finding in detect(service.store, sources, threshold=service.threshold):
                count += 1
                yield orjson.dumps(finding.as_dict()) + b"\n"
            yield orjson.dumps({"type": "end", "count": count, "complete": prepared.coverage.complete,
                                "missing": prepared.missing(), "sources": list(sources)}) + b"\n"
        return StreamingResponse(lines(), media_type=FORMATS["ndjson"], headers=prepared.headers())
    findings = await run_in_threadpool(lambda: [f.as_dict() for f in detect(service.store, sources,
                                                                             threshold=service.threshold)])
    body = {"findings": findings, "count": len(findings), "threshold": service.threshold,
            "complete": prepared.coverage.complete, "missing": prepared.missing(), "sources": list(sources)}
    return Response(orjson.dumps(body), media_type=FORMATS["json"], headers=prepared.headers())


@router.get("/sources", summary="Every source registry: mode, last pull, sequence, failure")
async def feed_sources(caller: CurrentCaller, service: FeedsDep) -> dict[str, Any]:
    allowed = _allowed(caller)
    states = await run_in_threadpool(service.store.sources)
    coverage = await run_in_threadpool(service.view.coverage, allowed)
    return {"sources": [{"registry": s.source, "party": s.party, "mode": s.mode, "sequence": s.seq,
                         "records": s.records, "attempted_at": s.attempted_at, "ok_at": s.ok_at,
                         "error": {"code": s.error_code, "detail": s.error_detail} if s.failed else None}
                        for s in states.values() if allowed is None or s.source in allowed],
            "missing": [m.as_dict() for m in coverage.missing]}


@router.put("/snapshot", summary="A registry pushes a snapshot of all its records, in its directory format")
async def push_snapshot(request: Request, caller: CurrentCaller, service: FeedsDep) -> dict[str, Any]:
    require_scope(caller, PUSH_SCOPE)
    media = {"application/json": Medium.JSON, "text/csv": Medium.CSV, FORMATS["xlsx"]: Medium.XLSX,
             "application/xml": Medium.XML}.get(request.headers.get("content-type", "").split(";")[0].strip())
    body = await request.body()
    return await run_in_threadpool(service.view.push, caller.participant, body, media)


@router.get("/changes", responses={200: {"description": "text/event-stream of changes (see docs/feeds.md)"},
                                   400: {"description": "A position, wait or limit the stream cannot use"},
                                   410: {"description": "FEED.CHANGES_COMPACTED: the log no longer reaches back "
                                                        "to the position; read the feed again"}},
            summary="Change subscription: server-sent events with a sequence per source, resumable")
async def feed_changes(request: Request, caller: CurrentCaller, service: FeedsDep) -> Response:
    query = _query(request)
    allowed = _allowed(caller)
    requested = values(query, "source")
    if allowed is not None and requested is not None and not set(requested) <= allowed:
        raise FeedForbidden("with feeds:read:own a registry follows its own changes only")
    position = parse_position(request.headers.get("last-event-id") or one(query, "after"))
    wait = _bounded(one(query, "wait"), "wait", 0, 300, 25)
    most = _bounded(one(query, "limit"), "limit", 1, 1_000_000, None)
    wanted = set(requested) if requested is not None else allowed
    await run_in_threadpool(service.view.refresh, wanted)
    coverage = await run_in_threadpool(service.view.coverage, wanted)
    names = sorted(set(coverage.included) | {m.source for m in coverage.missing})
    await run_in_threadpool(check_position, service.store, names, position)  # FEED.CHANGES_COMPACTED: 410

    def events() -> Iterator[bytes]:
        yield b"event: coverage\ndata: " + orjson.dumps({"sources": sorted(coverage.included),
                                                         "missing": [m.as_dict() for m in coverage.missing]}) + b"\n\n"
        try:
            yield from stream(service.view, names, position, wait=float(wait or 0), limit=most)
        except CarbonlinkError as exc:
            yield b"event: error\ndata: " + orjson.dumps({"code": exc.code, "detail": exc.message}) + b"\n\n"

    return StreamingResponse(events(), media_type="text/event-stream",
                             headers={"Cache-Control": "no-store", **coverage_headers(coverage)})


def _bounded(raw: str | None, name: str, low: int, high: int, default: int | None) -> int | None:
    if raw is None:
        return default
    if not raw.isdigit() or not low <= int(raw) <= high:
        raise FeedQueryInvalid(f"{name} takes an integer from {low} to {high}")
    return int(raw)


@router.post("/subscriptions", status_code=201, summary="Subscribe a webhook to changes (signed batches, retried)")
async def subscribe(request: Request, caller: CurrentCaller, service: FeedsDep) -> dict[str, Any]:
    allowed = _allowed(caller)
    try:
        body = orjson.loads(await request.body())
    except orjson.JSONDecodeError as exc:
        raise FeedQueryInvalid("the subscription is a JSON object {url, sources?, after?}") from exc
    if not isinstance(body, dict) or not isinstance(body.get("url"), str):
        raise FeedQueryInvalid("the subscription is a JSON object {url, sources?, after?}")
    sources = body.get("sources")
    if sources is not None and (not isinstance(sources, list) or not all(isinstance(s, str) for s in sources)):
        raise FeedQueryInvalid("sources is a list of registry ids")
    if allowed is not None:
        if sources is not None and not set(sources) <= allowed:
            raise FeedForbidden("with feeds:read:own a registry follows its own changes only")
        sources = sorted(allowed)
    after = body.get("after")
    subscription = await run_in_threadpool(service.webhooks.subscribe, caller.participant.id, body["url"], sources,
                                           after if isinstance(after, str) else None)
    return subscription.as_dict()


@router.get("/subscriptions/{subscription_id}", summary="A webhook subscription's delivery state")
async def subscription_state(subscription_id: str, caller: CurrentCaller, service: FeedsDep) -> dict[str, Any]:
    _allowed(caller)
    subscription = await run_in_threadpool(service.webhooks.get, subscription_id, caller.participant.id)
    return subscription.as_dict()


@router.delete("/subscriptions/{subscription_id}", status_code=204, summary="End a webhook subscription")
async def unsubscribe(subscription_id: str, caller: CurrentCaller, service: FeedsDep) -> Response:
    _allowed(caller)
    await run_in_threadpool(service.webhooks.delete, subscription_id, caller.participant.id)
    return Response(status_code=204)
