"""The fake Qlik tenant over HTTP: what it answers by default and with each switch on."""

import io
import re
import time
from datetime import UTC, datetime
from email.utils import parsedate_to_datetime
from urllib.parse import quote

import httpx
import pytest

from qlik.fake_tenant import FakeEstate, FakeQlikTenant, Switches

KEY = "test-key"


@pytest.fixture(scope="module")
def served():
    """One 40-app tenant for the module; each test gets fresh switches and counters."""
    with FakeQlikTenant(FakeEstate(seed=3, apps=40), api_key=KEY) as tenant:
        yield tenant


@pytest.fixture
def tenant(served):
    served.switches = Switches()
    served.api_keys = (KEY,)
    served.requests.clear()
    served.request_log.clear()
    return served


@pytest.fixture
def http(tenant):
    with httpx.Client(base_url=tenant.url, headers={"Authorization": f"Bearer {KEY}"}) as client:
        yield client


def _all(http: httpx.Client, path: str, params: dict | None = None) -> list[dict]:
    """Every object of a listing, following links.next."""
    objects, url = [], path
    while url:
        body = http.get(url, params=params).json()
        objects += body["data"]
        url, params = body.get("links", {}).get("next", {}).get("href"), None
    return objects


def _apps(http: httpx.Client) -> list[dict]:
    return _all(http, "/api/v1/items", {"resourceType": "app", "limit": 100})


# --- 1. apps' resourceAttributes -----------------------------------------------------------


def test_app_items_carry_the_real_resource_attributes_consistent_with_the_app(tenant, http):
    items = _apps(http)
    assert len(items) == 40
    for item in items:
        attributes = item["resourceAttributes"]
        assert set(attributes) >= {
            "id", "name", "description", "ownerId", "owner", "spaceId", "published", "publishTime",
            "lastReloadTime", "hasSectionAccess", "isDirectQueryMode", "usage", "createdDate",
            "modifiedDate", "originAppId", "fileName", "thumbnail",
        }  # fmt: skip
        assert attributes["usage"] == "ANALYTICS" and attributes["thumbnail"] == ""
        assert (attributes["id"], attributes["spaceId"]) == (item["resourceId"], item["spaceId"])
        assert attributes["lastReloadTime"] == item["resourceReloadEndTime"]
        assert bool(attributes["publishTime"]) == attributes["published"]
        app = http.get(f"/api/v1/apps/{item['resourceId']}").json()["attributes"]
        for key in ("id", "name", "description", "ownerId", "owner", "published", "publishTime"):
            assert app[key] == attributes[key], key
        for key in ("lastReloadTime", "createdDate", "modifiedDate", "originAppId", "fileName"):
            assert app[key] == attributes[key], key
    assert {item["resourceAttributes"]["published"] for item in items} == {True, False}
    owners = {user["id"]: user["name"] for user in _all(http, "/api/v1/users")}
    assert all(owners[i["ownerId"]] == i["resourceAttributes"]["owner"] for i in items)


# --- 2. scripts forbidden for some apps ------------------------------------------------------


def test_every_kth_app_answers_403_on_its_scripts(tenant, http):
    tenant.switches.forbidden_scripts_every = 10
    estate = tenant.estate
    for n in range(40):
        guid = estate.app_guid(n)
        current = http.get(f"/api/v1/apps/{guid}/scripts/current")
        versions = http.get(f"/api/v1/apps/{guid}/scripts")
        if n in (9, 19, 29, 39):
            for answer in (current, versions):
                assert answer.status_code == 403
                assert answer.json()["errors"][0]["code"] == "HTTP-403"
                assert answer.json()["errors"][0]["title"] == "Forbidden"
            assert http.get(f"/api/v1/apps/{guid}").status_code == 200  # the app itself is readable
        else:
            assert current.status_code == 200 and current.json()["script"] == estate.app_script(n)
            assert versions.json()["scripts"][0]["size"] == len(estate.app_script(n))
    assert tenant.requests["apps/{id}/scripts/current"] == 40
    assert tenant.requests["apps/{id}/scripts"] == 40
    tenant.switches.forbidden_scripts_every = 0
    assert http.get(f"/api/v1/apps/{estate.app_guid(9)}/scripts/current").status_code == 200


# --- 3. reload metadata not kept -------------------------------------------------------------


def _metadata(http: httpx.Client, estate: FakeEstate, n: int, r: int = 0) -> httpx.Response:
    reload_id = estate.app_reloads(n)[r]["id"]
    return http.get(f"/api/v1/apps/{estate.app_guid(n)}/reloads/metadata/{reload_id}")


def test_reload_metadata_is_kept_for_the_newest_reload_only_and_can_be_missing(tenant, http):
    estate = tenant.estate
    reloaded = [n for n in range(40) if estate.app_reloads(n)]
    older = [n for n in reloaded if len(estate.app_reloads(n)) > 1]
    assert older
    for n in reloaded:
        newest = _metadata(http, estate, n)
        assert newest.status_code == 200 and newest.json()["reloadId"] == estate.app_reloads(n)[0]["id"]
    for n in older:
        assert _metadata(http, estate, n, r=1).status_code == 404

    tenant.switches.missing_reload_metadata_every = 7
    answers = {n: _metadata(http, estate, n).status_code for n in reloaded}
    assert {n for n, status in answers.items() if status == 404} == {n for n in reloaded if (n + 1) % 7 == 0}

    tenant.switches.missing_reload_metadata_every = 0
    tenant.switches.reload_metadata_api = False
    assert {_metadata(http, estate, n).status_code for n in reloaded} == {404}
    assert _metadata(http, estate, reloaded[0]).json()["errors"][0]["code"] == "HTTP-404"


# --- 4. reload metadata wrapped --------------------------------------------------------------


def test_reload_metadata_can_come_wrapped_in_data(tenant, http):
    estate = tenant.estate
    n = next(n for n in range(40) if estate.app_reloads(n))
    plain = _metadata(http, estate, n).json()
    tenant.switches.wrapped_reload_metadata = True
    assert _metadata(http, estate, n).json() == {"data": [plain]}


# --- 5. ghost apps ----------------------------------------------------------------------------


def test_a_ghost_app_is_listed_but_every_call_about_it_answers_404(tenant, http):
    tenant.switches.ghost_apps = 2
    items = _apps(http)
    assert len(items) == 42
    known = {tenant.estate.app_guid(n) for n in range(40)}
    ghosts = [item for item in items if item["resourceId"] not in known]
    assert len(ghosts) == 2
    reloaded = {reload["appId"] for reload in _all(http, "/api/v1/reloads", {"limit": 100})}
    for ghost in ghosts:
        guid = ghost["resourceId"]
        assert ghost["resourceAttributes"]["id"] == guid and ghost["resourceReloadEndTime"] is None
        for path in ("", "/scripts", "/scripts/current", "/reloads/metadata/0123456789abcdef01234567"):
            assert http.get(f"/api/v1/apps/{guid}{path}").status_code == 404, path
        qri = quote(f"qri:app:sense://{guid}", safe="")
        assert http.get(f"/api/v1/lineage-graphs/nodes/{qri}").status_code == 404
        assert guid not in reloaded
    tenant.switches.ghost_apps = 0
    assert len(_apps(http)) == 40


# --- 7. spaces without links ------------------------------------------------------------------


def test_spaces_can_answer_one_page_without_links(tenant, http):
    paged = http.get("/api/v1/spaces", params={"limit": 1}).json()
    assert "next" in paged["links"]
    tenant.switches.spaces_without_links = True
    body = http.get("/api/v1/spaces", params={"limit": 1}).json()
    assert "links" not in body
    assert body["data"] == tenant.estate.spaces


# --- 8. itemViews absent or empty -------------------------------------------------------------


def test_item_views_can_be_absent_or_empty(tenant, http):
    assert all(item["itemViews"]["week"] for item in _apps(http))
    tenant.switches.missing_item_views_every = 9
    items = {item["resourceId"]: item for item in _apps(http)}
    for n in range(40):
        item = items[tenant.estate.app_guid(n)]
        if (n + 1) % 9 == 0:
            assert "itemViews" not in item, n
        elif n and n % 9 == 0:
            assert item["itemViews"] == {}, n
        else:
            assert set(item["itemViews"]) == {"total", "unique", "trend", "usedBy", "week"}, n


# --- 9. Retry-After as an HTTP date -----------------------------------------------------------


def test_a_429_can_carry_retry_after_as_seconds_or_an_http_date(tenant, http):
    tenant.switches.rate_limit_burst, tenant.switches.retry_after = 1, 30
    limited = http.get("/api/v1/spaces")
    assert (limited.status_code, limited.headers["Retry-After"]) == (429, "30")
    assert limited.json()["errors"][0]["code"] == "HTTP-429"

    tenant.switches.rate_limit_burst, tenant.switches.retry_after_http_date = 1, True
    limited = http.get("/api/v1/spaces")
    assert limited.status_code == 429
    header = limited.headers["Retry-After"]
    assert header.endswith(" GMT")
    ahead = (parsedate_to_datetime(header) - datetime.now(UTC)).total_seconds()
    assert 28 <= ahead <= 31
    assert http.get("/api/v1/spaces").status_code == 200


# --- 10. connections without id ---------------------------------------------------------------


def test_connections_can_come_with_qid_but_no_id(tenant, http):
    assert all(c["id"] == c["qID"] for c in _all(http, "/api/v1/data-connections"))
    tenant.switches.connections_without_id = True
    connections = _all(http, "/api/v1/data-connections")
    assert len(connections) == tenant.estate.connection_count
    assert all("id" not in c and c["qID"] for c in connections)
    single = http.get(f"/api/v1/data-connections/{connections[0]['qID']}").json()
    assert "id" not in single and single["qID"] == connections[0]["qID"]
    assert all("id" in c for c in tenant.estate.connections)  # the estate itself is untouched


# --- 11. users ---------------------------------------------------------------------------------


def test_the_users_listing_pages_through_the_owners(tenant, http):
    first = http.get("/api/v1/users", params={"limit": 15}).json()
    assert len(first["data"]) == 15 and "next=" in first["links"]["next"]["href"]
    users = _all(http, "/api/v1/users", {"limit": 15})
    assert len(users) == 20 and len({u["id"] for u in users}) == 20
    assert all({"id", "name", "email", "status"} <= set(u) for u in users)
    owners = {item["ownerId"] for item in _apps(http)}
    owners |= {space["ownerId"] for space in tenant.estate.spaces}
    assert owners <= {u["id"] for u in users}
    assert tenant.requests["users"] == 3


# --- 12. requests per key over time ------------------------------------------------------------


def test_requests_are_logged_per_key_and_counted_in_windows(tenant):
    tenant.api_keys = ("key-a", "key-b")

    def get(key: str) -> int:
        return httpx.get(
            f"{tenant.url}/api/v1/spaces", headers={"Authorization": f"Bearer {key}"}
        ).status_code

    assert [get("key-a") for _ in range(3)] == [200] * 3
    time.sleep(0.3)
    assert [get("key-a") for _ in range(2)] + [get("key-b")] == [200] * 3
    assert get("key-c") == 401  # rejected: not logged
    tenant.switches.rate_limit_burst = 1
    assert get("key-b") == 429  # limited: not logged
    assert [key for _, _, key in tenant.request_log] == ["key-a"] * 5 + ["key-b"]
    assert {endpoint for _, endpoint, _ in tenant.request_log} == {"spaces"}
    assert tenant.max_requests_in_window(60) == 6
    assert tenant.max_requests_in_window(60, "key-a") == 5
    assert tenant.max_requests_in_window(0.2, "key-a") == 3
    assert tenant.max_requests_in_window(60, "key-b") == 1
    assert tenant.max_requests_in_window(60, "key-c") == 0

    tenant.api_key = "rotated"  # api_key= still works: setting it leaves only that key
    assert (get("key-a"), get("rotated")) == (401, 200)
    with FakeQlikTenant(FakeEstate(apps=1), api_keys=["x", "y"]) as two:
        assert two.api_key == "x" and two.api_keys == ("x", "y")


# --- 6. datasets, and the QVDs in the spaces' DataFiles ----------------------------------------

SECURE_QRI = re.compile(r"^qri:qdf:(space|user)://[\w-]{43}#[\w-]{43}$")


def _datasets(http: httpx.Client) -> list[dict]:
    return _all(http, "/api/v1/items", {"resourceType": "dataset", "limit": 100})


def test_items_list_datasets_data_files_and_connection_based(tenant, http):
    estate, datasets = tenant.estate, _datasets(http)
    assert len(datasets) == estate.dataset_count
    assert len({d["id"] for d in datasets}) == len(datasets)
    everything = _all(http, "/api/v1/items", {"limit": 100})
    assert [i["resourceType"] for i in everything] == ["app"] * 40 + ["dataset"] * len(datasets)
    assert {i["resourceType"] for i in _apps(http)} == {"app"}
    files = [d for d in datasets if d["resourceSubType"] == "qix-df"]
    by_connection = [d for d in datasets if d["resourceSubType"] == "connection_based_dataset"]
    assert len(files) + len(by_connection) == len(datasets) and by_connection
    for item in datasets:
        assert re.fullmatch(r"[0-9a-f]{24}", item["id"]) and re.fullmatch(r"[0-9a-f]{24}", item["resourceId"])
        assert item["ownerId"] and item["createdAt"] <= item["updatedAt"]
    for item in files:
        attributes, where = item["resourceAttributes"], f"sid@{item['spaceId']}"
        if item["spaceId"] is None:
            where = f"uid@{item['ownerId']}"
        assert attributes["qri"] == f"qdf:qix-datafiles:{estate.tenant_id}:{where}:{item['name']}"
        assert SECURE_QRI.match(attributes["secureQri"])
        assert attributes["technicalName"] == item["name"]
        assert attributes["dataStoreType"] == "qix-datafiles" and attributes["appType"] == "QIX-DF"
        assert attributes["size"] > 0
        extension = item["name"].rsplit(".", 1)[1]
        assert attributes["type"] == {"qvd": "QVD", "csv": "DELIMETED", "xlsx": "EXCEL_OOXML"}[extension]
    assert {f["name"].rsplit(".", 1)[1] for f in files} == {"qvd", "csv", "xlsx"}
    for item in by_connection:
        assert item["resourceAttributes"]["secureQri"].startswith("qri:db:")
        assert item["resourceAttributes"]["dataStoreType"] in ("snowflake", "postgres", "sqlserver")


def test_the_qvds_apps_store_are_datasets_in_their_spaces_datafiles_and_lineage_names_them(tenant, http):
    estate = tenant.estate
    spaces = {space["id"]: space["name"] for space in estate.spaces}
    datasets = {(d["spaceId"], d["name"]): d for d in _datasets(http) if d["resourceSubType"] == "qix-df"}
    by_qri = {d["resourceAttributes"]["secureQri"]: d for d in datasets.values()}
    newest = {}
    for reload in _all(http, "/api/v1/reloads", {"limit": 100}):  # newest first
        newest.setdefault(reload["appId"], reload["id"])
    scripts, stored, named = "", set(), set()
    for item in _apps(http):
        guid, space_id = item["resourceId"], item["spaceId"]
        prefix = f"lib://{spaces[space_id]}:DataFiles/" if space_id else "lib://DataFiles/"
        script = http.get(f"/api/v1/apps/{guid}/scripts/current").json()["script"]
        scripts += script.lower()
        for path in re.findall(r"STORE Facts INTO \[(.*?)\] \(qvd\);", script):
            assert path.startswith(prefix)  # in the DataFiles of the app's own space
            stored.add(datasets[(space_id, path.removeprefix(prefix))]["resourceAttributes"]["secureQri"])
        if guid not in newest:
            continue
        metadata = http.get(f"/api/v1/apps/{guid}/reloads/metadata/{newest[guid]}").json()
        for statement in metadata["statements"]:
            if statement["label"].startswith(("lib://DataFiles/", *(f"lib://{s}:" for s in spaces.values()))):
                dataset = by_qri[statement["qri"]]  # the dataset's secureQri
                assert statement["label"].endswith(f"DataFiles/{dataset['name']}")
                assert statement["connection"] == statement["label"][6:].split("/")[0]
                if statement["type"] == "Store":
                    assert statement["label"].startswith(prefix)
        qri = quote(f"qri:app:sense://{guid}", safe="")
        graph = http.get(f"/api/v1/lineage-graphs/nodes/{qri}").json()["graph"]
        for node_qri, node in graph["nodes"].items():
            if node["label"].startswith(("lib://DataFiles/", *(f"lib://{s}:" for s in spaces.values()))):
                assert node_qri in by_qri, node["label"]  # exactly the dataset's secureQri
                assert node["label"].endswith(f"DataFiles/{by_qri[node_qri]['name']}")
                named.add(node_qri)
    assert len(stored) == 20  # the 10 Extracts' and 10 Models' QVDs
    assert named and named <= stored  # the QVDs apps load are the ones apps store
    assert "extract/sales_0.qvd" in scripts
    orphans = [d for d in datasets.values() if d["name"].lower() not in scripts]
    assert len(orphans) == estate.dataset_count - 20 - len(estate._connection_datasets())
    assert len(orphans) >= 3


def test_items_of_a_10000_app_estate_are_built_a_page_at_a_time(monkeypatch):
    estate = FakeEstate(seed=1, apps=10_000)
    built = []
    monkeypatch.setattr(estate, "app_item", lambda n, real=estate.app_item: built.append(n) or real(n))
    monkeypatch.setattr(
        estate, "dataset_item", lambda d, real=estate.dataset_item: built.append(d) or real(d)
    )
    with FakeQlikTenant(estate, api_key=KEY) as big:
        headers = {"Authorization": f"Bearer {KEY}"}
        everything = httpx.get(f"{big.url}/api/v1/items", params={"limit": 100}, headers=headers).json()
        assert everything["meta"]["count"] == 10_000 + estate.dataset_count and len(built) == 100
        href = everything["links"]["next"]["href"]
        assert len(httpx.get(f"{big.url}{href}", headers=headers).json()["data"]) == 100
        datasets = httpx.get(f"{big.url}/api/v1/items?resourceType=dataset&limit=100", headers=headers).json()
        assert datasets["meta"]["count"] == estate.dataset_count > 5000 and len(built) == 300


# --- 13. the preset ------------------------------------------------------------------------------


def test_the_defaults_misbehave_in_nothing():
    switches = Switches()
    assert not any(
        (
            switches.forbidden_scripts_every,
            switches.missing_reload_metadata_every,
            switches.wrapped_reload_metadata,
            switches.ghost_apps,
            switches.spaces_without_links,
            switches.missing_item_views_every,
            switches.retry_after_http_date,
            switches.connections_without_id,
        )
    )
    assert switches.reload_metadata_api and switches.lineage_api


def test_like_a_real_tenant_turns_the_realistic_failures_on_together(tenant, http):
    tenant.switches = Switches.like_a_real_tenant()
    estate = tenant.estate
    assert "links" not in http.get("/api/v1/spaces").json()
    items = _apps(http)
    assert len(items) == 41  # one ghost
    for n in range(40):
        guid = estate.app_guid(n)
        item = next(i for i in items if i["resourceId"] == guid)
        assert ("itemViews" in item) == ((n + 1) % 9 != 0), n
        status = http.get(f"/api/v1/apps/{guid}/scripts/current").status_code
        assert status == (403 if (n + 1) % 10 == 0 else 200), n
        if estate.app_reloads(n):
            assert _metadata(http, estate, n).status_code == (404 if (n + 1) % 7 == 0 else 200), n
    (ghost,) = [i for i in items if i["resourceId"] not in {estate.app_guid(n) for n in range(40)}]
    assert http.get(f"/api/v1/apps/{ghost['resourceId']}").status_code == 404
    tenant.switches.rate_limit_burst = 1
    assert http.get("/api/v1/spaces").headers["Retry-After"].endswith(" GMT")
    assert Switches.like_a_real_tenant(ghost_apps=0).ghost_apps == 0  # overridable


def test_the_command_serves_the_preset_with_real(monkeypatch):
    from django.core.management import call_command

    served = {}

    def serve(tenant):
        served["switches"], served["keys"] = tenant.switches, tenant.api_keys

    monkeypatch.setattr(FakeQlikTenant, "serve_forever", serve)
    call_command("fake_qlik_tenant", "--port", "0", "--apps", "4", "--real", stdout=io.StringIO())
    assert served["switches"] == Switches.like_a_real_tenant()
    call_command(
        "fake_qlik_tenant",
        "--port",
        "0",
        "--apps",
        "4",
        "--api-key",
        "a",
        "--api-key",
        "b",
        stdout=io.StringIO(),
    )
    assert served["switches"] == Switches() and served["keys"] == ("a", "b")
