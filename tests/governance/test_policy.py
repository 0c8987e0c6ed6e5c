"""The transaction-controls policy document: signed by the network operator (an anchor or a network-operator
key of the directory), versioned, valid in a window, kept as last good while valid, rolled over at its time."""

from __future__ import annotations

import pytest

from gateway.governance import PolicyError, PolicyStore, PolicyUnavailable, verify_policy
from tests.governance.policy_support import MONDAY_10_UTC, Network, policy_of

DAY = 86400.0


@pytest.fixture
def net() -> Network:
    return Network()


def test_a_policy_signed_by_the_network_operator_or_an_anchor_verifies(net: Network) -> None:
    for key in (net.operator_key, net.anchor):
        policy = verify_policy(net.sign(net.content(), key), net.keys(), environment="test", now=MONDAY_10_UTC)
        assert policy.version == 1
        assert policy.controls("che-registry").timezone == "Europe/Zurich"
        assert policy.controls("swe-registry") == policy.defaults  # not listed: the defaults


def test_a_policy_signed_by_the_wrong_key_is_refused(net: Network) -> None:
    # a registry's own key (in the directory, but no network operator) cannot sign the network's policy
    with pytest.raises(PolicyError) as caught:
        verify_policy(net.sign(net.content(), net.registry_key), net.keys(), environment="test", now=MONDAY_10_UTC)
    assert caught.value.code == "GOVERNANCE.POLICY_KID"
    # nor can a key reusing the operator's kid
    from gateway.trust.keys import generate_key

    forged = net.sign(net.content(), generate_key("ES256", "operator-1"))
    with pytest.raises(PolicyError) as caught:
        verify_policy(forged, net.keys(), environment="test", now=MONDAY_10_UTC)
    assert caught.value.code == "GOVERNANCE.POLICY_SIGNATURE"


def test_an_expired_policy_or_one_of_another_environment_is_refused(net: Network) -> None:
    token = net.sign(net.content(), valid_for=int(DAY))
    with pytest.raises(PolicyError) as caught:
        verify_policy(token, net.keys(), environment="test", now=MONDAY_10_UTC + DAY)
    assert caught.value.code == "GOVERNANCE.POLICY_EXPIRED"
    with pytest.raises(PolicyError) as caught:
        verify_policy(token, net.keys(), environment="production", now=MONDAY_10_UTC)
    assert caught.value.code == "GOVERNANCE.POLICY_ENVIRONMENT"


@pytest.mark.parametrize(("change", "message"), [
    ({"four_eyes_above": "-1"}, "greater than or equal"),
    ({"timezone": "Mars/Olympus"}, "IANA"),
    ({"business_hours": {"days": ["mon"], "start": "18:00", "end": "08:00"}}, "end after"),
    ({"officers": [{"id": "x", "keys": [{"kty": "EC", "crv": "P-256", "x": "a", "y": "b", "d": "c", "kid": "k"}]}]},
     "public"),
    ({"approvals": 1}, "greater than or equal to 2"),
    ({"colour": "red"}, "Extra inputs"),
])
def test_an_invalid_policy_is_refused_when_signed(net: Network, change: dict[str, object], message: str) -> None:
    with pytest.raises(PolicyError, match=message):
        net.sign(net.content(**change))


def test_one_key_listed_for_two_officers_is_refused(net: Network) -> None:
    twice = [*net.officers.listed("alice"), {"id": "mallory", "keys": net.officers.listed("alice")[0]["keys"]}]
    with pytest.raises(PolicyError, match="listed for officers"):
        net.sign(net.content(officers=twice))


def test_the_store_keeps_the_last_good_policy_while_it_is_valid_then_fails_closed(net: Network) -> None:
    good = net.sign(net.content(), valid_for=int(2 * DAY))
    store = net.store([good, "not a jws"])
    assert store.refresh(MONDAY_10_UTC) is None
    error = store.refresh(MONDAY_10_UTC + 60)  # the source now serves garbage: the last good one stays
    assert error is not None and store.last_error is error
    assert policy_of(store, MONDAY_10_UTC + 60).version == 1
    with pytest.raises(PolicyUnavailable, match="no valid"):
        store.current(MONDAY_10_UTC + 2 * DAY)  # expired: never used past its exp


def test_a_lower_version_is_a_rollback_and_is_refused(net: Network) -> None:
    store = net.store([net.sign(net.content(version=2)), net.sign(net.content(version=1))])
    assert store.refresh(MONDAY_10_UTC) is None
    error = store.refresh(MONDAY_10_UTC + 1)
    assert isinstance(error, PolicyError) and error.code == "GOVERNANCE.POLICY_ROLLBACK"
    assert policy_of(store, MONDAY_10_UTC + 1).version == 2
    # the same version signed again with other content is refused as well
    again = net.sign(net.content(version=2, four_eyes_above="1"))
    with pytest.raises(PolicyError, match="signed again"):
        store.accept(again, now=MONDAY_10_UTC + 2)


def test_a_scheduled_version_takes_over_at_its_time(net: Network) -> None:
    later = MONDAY_10_UTC + 3600
    store = net.store([net.sign(net.content(version=1)),
                       net.sign(net.content(version=2, four_eyes_above="50"), not_before=later)])
    store.refresh(MONDAY_10_UTC)
    store.refresh(MONDAY_10_UTC + 10)
    assert [p.version for p in store.versions()] == [1, 2]
    assert policy_of(store, later - 1).version == 1
    assert policy_of(store, later).version == 2
    assert policy_of(store, later).controls("che-registry").four_eyes_above == 50
    store.accept(net.sign(net.content(version=3), now=later + 5), now=later + 5)
    assert [p.version for p in store.versions()] == [3]  # in force: the older ones are dropped


def test_none_in_force_before_the_first_version_starts(net: Network) -> None:
    store = net.store([net.sign(net.content(), not_before=MONDAY_10_UTC + 600)])
    store.refresh(MONDAY_10_UTC)
    with pytest.raises(PolicyUnavailable):
        store.current(MONDAY_10_UTC)
    assert policy_of(store, MONDAY_10_UTC + 600).version == 1


def test_the_policy_is_read_from_a_url(net: Network) -> None:
    from starlette.applications import Starlette
    from starlette.requests import Request
    from starlette.responses import PlainTextResponse
    from starlette.routing import Route

    from gateway.governance import fetch_policy
    from tests.support.processes import ThreadedServer

    served = {"token": net.sign(net.content(version=4))}

    async def policy(request: Request) -> PlainTextResponse:
        if request.path_params["name"] != "policy.jws":
            return PlainTextResponse("no", status_code=404)
        return PlainTextResponse(served["token"])

    server = ThreadedServer(Starlette(routes=[Route("/{name}", policy)]))
    server.start_serving(timeout=10)
    try:
        store = PolicyStore(lambda: fetch_policy(server.url + "/policy.jws"), net.keys, environment="test")
        assert store.refresh(MONDAY_10_UTC) is None and policy_of(store, MONDAY_10_UTC).version == 4
        with pytest.raises(PolicyUnavailable, match="HTTP 404"):
            fetch_policy(server.url + "/other.jws")
    finally:
        server.stop_serving()

