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
