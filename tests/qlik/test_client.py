"""The Qlik client's request budget and paging, against the fake tenant on a real socket."""

from qlik.client import ClientOptions, QlikClient
from qlik.fake_tenant import FakeEstate, FakeQlikTenant


def test_the_request_budget_waits_once_the_minute_is_spent(monkeypatch):
    clock = [1000.0]
    waits = []

    def sleep(seconds):  # a virtual minute: the budget sees time pass without waiting
        waits.append(seconds)
        clock[0] += seconds

    monkeypatch.setattr("qlik.client.time.monotonic", lambda: clock[0])
    with FakeQlikTenant(FakeEstate(apps=1), api_key="k") as tenant:
        client = QlikClient(tenant.url, "k", options=ClientOptions(requests_per_minute=2), sleep=sleep)
        for _ in range(2):
            client.me()
        assert waits == []
        client.me()
    assert len(waits) == 1
    assert waits[0] == 60
    assert client.stats.calls == 3


def test_absolute_next_links_are_followed_to_the_last_page():
    with FakeQlikTenant(FakeEstate(apps=230), api_key="k") as tenant:
        tenant.switches.absolute_next_links = True
        client = QlikClient(tenant.url, "k", options=ClientOptions(requests_per_minute=0))
        pages = list(client.app_items())
    assert [len(page) for page in pages] == [100, 100, 30]
    assert len({item["resourceId"] for page in pages for item in page}) == 230


def test_retry_after_is_read_as_seconds_or_as_an_http_date():
    from datetime import UTC, datetime

    from qlik.client import retry_after_seconds

    now = datetime(2026, 11, 25, 12, 0, 0, tzinfo=UTC)
    assert retry_after_seconds("7", now=now) == 7
    assert retry_after_seconds("Wed, 25 Nov 2026 12:00:30 GMT", now=now) == 30
    assert retry_after_seconds("Wed, 25 Nov 2026 11:59:00 GMT", now=now) == 0  # already past
    assert retry_after_seconds("soon", now=now) is None


def test_a_403_on_one_resource_is_refused_but_a_403_on_users_me_rejects_the_key():
    import pytest

    from qlik.client import QlikCredentialsRejected, QlikRefused

    with FakeQlikTenant(FakeEstate(apps=3), api_key="k") as tenant:
        client = QlikClient(tenant.url, "k", options=ClientOptions(requests_per_minute=0))
        guid = tenant.estate.app_guid(0)
        tenant.switches.fail_paths = {f"/api/v1/apps/{guid}/scripts": 403, "/api/v1/users/me": 403}
        with pytest.raises(QlikRefused) as refused:
            client.app_script(guid)
        assert (refused.value.status, refused.value.endpoint) == (403, "/api/v1/apps/{appId}/scripts/current")
        with pytest.raises(QlikCredentialsRejected, match="credentials rejected"):
            client.me()


def test_reload_metadata_is_read_plain_or_wrapped_and_neither_shape_is_named():
    import pytest

    from qlik.client import QlikBadResponse

    assert _shape_check({"reloadId": "r", "statements": []}) == {"reloadId": "r", "statements": []}
    assert _shape_check({"data": [{"reloadId": "r", "statements": []}]}) == {
        "reloadId": "r",
        "statements": [],
    }
    with pytest.raises(QlikBadResponse, match=r"neither a metadata object nor \{'data': \[object\]\}"):
        _shape_check({"statements": "not a list"})
    with pytest.raises(QlikBadResponse, match="neither"):
        _shape_check(["not", "an", "object"])


def _shape_check(body):
    """The client's reading of one reload-metadata answer, with `body` as the tenant's JSON."""
    import httpx

    transport = httpx.MockTransport(lambda request: httpx.Response(200, json=body))
    client = QlikClient(
        "https://tenant.example", "k", options=ClientOptions(requests_per_minute=0), transport=transport
    )
    return client.reload_metadata("app", "reload")
