"""The read-only Qlik and lineage admin: bounded queries per page, estimates, links, filters."""

from datetime import timedelta

import pytest
from django.conf import settings
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from atlas.admin import EstimatedCountPaginator
from atlas.rls import acting_as
from customers.models import Customer, Project, User
from customers.services import access_grant
from lineage.models import LineageNode
from lineage.services import lineage_graph_replace
from qlik.admin import seconds_text
from qlik.models import QlikApp, QlikAppUsage, QlikSyncRun
from qlik.services import qlik_snapshot_replace
from qlik.sync.runs import sync_run_finish, sync_run_start
from qlik.sync.store import QlikSnapshot
from tests.browser import live_portal as _live_portal  # noqa: F401 (a fixture, "live_portal")
from tests.browser import page as _browser_page  # noqa: F401 (a fixture, "page")
from tests.factories import PROJECT_SCOPED_MODELS, snapshot_for, tenant_create


@pytest.fixture
def superuser_client(client, db):
    client.force_login(User.objects.create_superuser(username="root", password="pw"))
    return client


def _grow(tenant, system_user, apps: int) -> None:
    """Give the tenant's project `apps` apps (with scripts and usage) and a lineage chain."""
    with acting_as(system_user):
        qlik_snapshot_replace(project=tenant.project, snapshot=snapshot_for("a", apps=apps))
        nodes = [
            {"id": f"app:app-a-{n}", "type": "app", "label": f"app {n}", "app_id": f"app-a-{n}"}
            for n in range(apps)
        ]
        edges = [
            {"source": f"app:app-a-{n}", "target": f"app:app-a-{n + 1}", "relation": "feeds"}
            for n in range(apps - 1)
        ]
        lineage_graph_replace(project=tenant.project, nodes=nodes, edges=edges)


def _queries_per_changelist(client) -> dict[str, int]:
    counts = {}
    for model in PROJECT_SCOPED_MODELS:
        meta = model._meta
        url = reverse(f"admin:{meta.app_label}_{meta.model_name}_changelist")
        with CaptureQueriesContext(connection) as queries:
            response = client.get(url)
        assert response.status_code == 200, meta.label
        counts[meta.label] = len(queries)
    return counts


def test_changelist_queries_do_not_grow_with_the_data(superuser_client, system_user, monkeypatch):
    monkeypatch.setattr(EstimatedCountPaginator, "exact_limit", 100)
    tenant = tenant_create("a")
    _grow(tenant, system_user, apps=120)
    at_120 = _queries_per_changelist(superuser_client)
    _grow(tenant, system_user, apps=1200)
    tenant_create("b")  # and one more customer and project in the filters
    with acting_as(system_user):
        assert QlikApp.objects.count() == 1201
    at_1200 = _queries_per_changelist(superuser_client)
    assert at_1200 == at_120
    assert max(at_120.values()) <= 12, at_120  # session, identity, filters, count, page


def test_a_count_past_the_exact_limit_is_estimated_and_every_page_opens(
    superuser_client, system_user, monkeypatch
):
    monkeypatch.setattr(EstimatedCountPaginator, "exact_limit", 100)
    tenant = tenant_create("a")
    _grow(tenant, system_user, apps=300)
    url = reverse("admin:qlik_qlikapp_changelist")
    first = superuser_client.get(url)
    assert first.context["cl"].paginator.estimated is True
    assert first.context["cl"].result_count > 100
    last_page = superuser_client.get(url, {"p": 6})  # rows 251-300 of 300
    assert last_page.status_code == 200
    assert len(last_page.context["cl"].result_list) == 50


def test_a_small_list_is_counted_exactly(superuser_client, system_user):
    tenant = tenant_create("a")
    _grow(tenant, system_user, apps=7)
    response = superuser_client.get(reverse("admin:qlik_qlikapp_changelist"))
    assert response.context["cl"].paginator.estimated is False
    assert response.context["cl"].result_count == 7


def test_the_space_filter_narrows_apps_to_one_space(superuser_client, system_user):
    a, b = tenant_create("a", apps=3), tenant_create("b", apps=2)
    url = reverse("admin:qlik_qlikapp_changelist")
    everything = superuser_client.get(url).context["cl"].result_count
    only_b = superuser_client.get(url, {"space": "space-b"}).context["cl"]
    assert everything == 5
    assert only_b.result_count == 2
    assert {app.project_id for app in only_b.result_list} == {b.project.pk}
    assert a.project.pk != b.project.pk


def test_the_app_page_links_to_its_space_usage_script_and_lineage(superuser_client):
    tenant = tenant_create("a")
    app = tenant.rows[QlikApp]
    page = superuser_client.get(reverse("admin:qlik_qlikapp_change", args=[app.pk])).content.decode()
    project = f"project__id__exact={tenant.project.pk}"
    assert f"{reverse('admin:qlik_qlikspace_changelist')}?{project}&amp;space_id=space-a" in page
    for target in ("qlikappusage", "qlikappscript"):
        assert f"{reverse(f'admin:qlik_{target}_changelist')}?{project}&amp;app_id={app.app_id}" in page
    assert f"{reverse('admin:lineage_lineagenode_changelist')}?{project}&amp;app_id={app.app_id}" in page
    # The linked lists really narrow to the app.
    usage = superuser_client.get(
        reverse("admin:qlik_qlikappusage_changelist"),
        {"project__id__exact": tenant.project.pk, "app_id": app.app_id},
    )
    assert [row.app_id for row in usage.context["cl"].result_list] == [app.app_id]


def test_an_apps_admin_page_lists_its_lineage_sources_and_outputs(admin_client, estate_project, system_user):
    project, estate = estate_project
    with acting_as(system_user):
        app = QlikApp.objects.get(project=project, app_id=estate.app_guid(1))
    page = admin_client.get(f"/admin/qlik/qlikapp/{app.pk}/change/").content.decode().lower()
    sources = page.split("(where its data comes from)")[1].split("(what it feeds)")[0]
    outputs = page.split("(what it feeds)")[1]
    extract_qvd = estate.app_flows(0)[-1]["path"]  # lib://<Space>:DataFiles/Extract/...qvd
    assert extract_qvd.split(":DataFiles/", 1)[1].lower() in sources  # named as its dataset
    assert estate.app_item(2)["name"].lower() in outputs  # the Dashboard binary-loads it


def test_apps_and_nodes_are_found_by_guid_item_id_or_qri(superuser_client, system_user, estate_project):
    estate_project, _ = estate_project
    with acting_as(system_user):
        app = QlikApp.objects.filter(project=estate_project).order_by("app_id")[1]
        item_id = app.data["item"]["id"]
        file_node = LineageNode.objects.filter(project=estate_project, data__has_key="qri").first()
    assert app.appName and file_node is not None
    apps_url = reverse("admin:qlik_qlikapp_changelist")
    for term in (app.app_id.upper(), item_id, f"qri:app:sense://{app.app_id}"):
        found = superuser_client.get(apps_url, {"q": term}).context["cl"].result_list
        assert [row.app_id for row in found] == [app.app_id], term
    nodes_url = reverse("admin:lineage_lineagenode_changelist")
    for term, node_id in (
        (f"qri:app:sense://{app.app_id}", f"app:{app.app_id}"),
        (file_node.data["qri"], file_node.node_id),
    ):
        found = superuser_client.get(nodes_url, {"q": term}).context["cl"].result_list
        assert [row.node_id for row in found] == [node_id], term


def _spread(tenant, system_user, spaces: int) -> None:
    """Give the tenant's project `spaces` spaces, each with an app, a dataset and a connection."""
    tags = [f"s{n}" for n in range(spaces)]
    snapshot = QlikSnapshot(
        spaces=[{"id": f"space-{tag}", "name": f"Space named {tag}", "type": "shared"} for tag in tags],
        apps=[
            {"item": {"resourceId": f"app-{tag}", "name": f"App {tag}", "spaceId": f"space-{tag}"}}
            for tag in tags
        ],
        data_connections=[
            {"id": f"conn-{tag}", "qName": f"Conn {tag}", "qType": "folder", "space": f"space-{tag}"}
            for tag in tags
        ],
        datasets=[
            {
                "id": f"dataset-{tag}",
                "name": f"{tag}.qvd",
                "resourceType": "dataset",
                "resourceSubType": "qix-df",
                "spaceId": f"space-{tag}",
                "resourceAttributes": {"size": 8_200},
            }
            for tag in tags
        ],
    )
    with acting_as(system_user):
        qlik_snapshot_replace(project=tenant.project, snapshot=snapshot)


SPACED_LISTS = ("qlikapp", "qlikdataset", "qlikdataconnection")


def test_apps_datasets_and_connections_show_space_names_in_queries_that_do_not_grow(
    superuser_client, system_user
):
    tenant = tenant_create("a")

    def pages():
        counts, pages = {}, {}
        for name in SPACED_LISTS:
            with CaptureQueriesContext(connection) as queries:
                response = superuser_client.get(reverse(f"admin:qlik_{name}_changelist"))
            assert response.status_code == 200, name
            counts[name], pages[name] = len(queries), response.content.decode()
        return counts, pages

    _spread(tenant, system_user, spaces=3)
    at_3, pages_at_3 = pages()
    _spread(tenant, system_user, spaces=40)
    at_40, pages_at_40 = pages()
    assert at_40 == at_3  # the space names come with the rows, not a query per row
    for name in SPACED_LISTS:
        for tag in ("s0", "s2", "s39"):
            assert f"Space named {tag}" in pages_at_40[name], (name, tag)  # the name ...
            assert f"space-{tag}" in pages_at_40[name], (name, tag)  # ... beside the id
        assert "Space named s0" in pages_at_3[name]
    # The app's own page names its space too.
    with acting_as(system_user):
        app = QlikApp.objects.get(project=tenant.project, app_id="app-s7")
    page = superuser_client.get(reverse("admin:qlik_qlikapp_change", args=[app.pk])).content.decode()
    assert "Space named s7" in page


def _headings(response) -> list[str]:
    return [str(header["text"]).lower() for header in response.context["result_headers"]]


def test_changelist_and_change_page_headings_are_for_people(superuser_client, system_user):
    tenant = tenant_create("a")
    expected = {
        "qlikapp": [
            "App name",
            "Status",
            "Space",
            "Project",
            "Lineage nodes",
            "Lineage edges",
            "Lineage read",
        ],
        "qlikappusage": [
            "App name",
            "Usage",
            "Sheet views",
            "Unique users",
            "Reloads",
            "Last viewed",
            "Project",
        ],
        "qlikdataset": ["Dataset name", "Kind", "Stored in", "Size", "Space", "Project", "Updated"],
        "qlikdataconnection": ["Connection name", "Type", "Space", "Project", "Updated"],
        "qlikspace": ["Space name", "Type", "Space id", "Project", "Updated"],
    }
    for name, headings in expected.items():
        response = superuser_client.get(reverse(f"admin:qlik_{name}_changelist"))
        assert _headings(response) == [heading.lower() for heading in headings], name
        assert ">usageSheetViews<" not in response.content.decode()
    runs = superuser_client.get(reverse("admin:qlik_qliksyncrun_changelist"))
    assert {"duration", "rate limited (429)", "error"} <= set(_headings(runs))
    # Sorting still works through the people's headings.
    assert superuser_client.get(reverse("admin:qlik_qlikappusage_changelist"), {"o": "-3"}).status_code == 200
    app = tenant.rows[QlikApp]
    page = superuser_client.get(reverse("admin:qlik_qlikapp_change", args=[app.pk])).content.decode()
    assert "<label>App name:</label>" in page and "<label>AppName:</label>" not in page
    usage = tenant.rows[QlikAppUsage]
    page = superuser_client.get(reverse("admin:qlik_qlikappusage_change", args=[usage.pk])).content.decode()
    assert "<label>Sheet views:</label>" in page and "<label>UsageSheetViews:</label>" not in page


def test_sync_runs_show_durations_in_seconds_a_readable_error_and_no_none(superuser_client, system_user):
    tenant = tenant_create("a")
    error = "Qlik answered 401 Unauthorized: the API key was rejected. " + "Details follow. " * 40
    with acting_as(system_user):
        run = sync_run_start(project=tenant.project, trigger=QlikSyncRun.Trigger.ADMIN)
        sync_run_finish(run=run, error=error, storage_seconds=8.2, changes_seconds=0.04, write_seconds=3.06)
        started = run.started_at
        QlikSyncRun.objects.filter(pk=run.pk).update(finished_at=started + timedelta(seconds=8.24))
        run.refresh_from_db()
        run.problems = {"apps": [{"name": "App 1", "app_id": "app-a-0", "reason": None, "status": None}]}
        run.save(update_fields=["problems"])
    listing = superuser_client.get(reverse("admin:qlik_qliksyncrun_changelist")).content.decode()
    assert "8.2 s" in listing
    assert "Qlik answered 401 Unauthorized" in listing
    assert "Details follow. " * 20 not in listing.replace("&quot;", '"').split('title="')[0]  # truncated ...
    assert error.strip() in listing  # ... with the whole text on hover
    page = superuser_client.get(reverse("admin:qlik_qliksyncrun_change", args=[run.pk])).content.decode()
    assert error.strip() in page  # and on the run's page
    assert "8.2 s" in page and "0.0 s" in page and "8.2</" not in page
    assert "Of which writing rows" in page and "3.1 s" in page and "3.06" not in page
    assert ">None<" not in page and "None:" not in page
    assert "—" in page


def test_seconds_read_as_people_say_them():
    assert [seconds_text(s) for s in (None, 0.04, 8.24, 59.96, 61, 192, 3600, 3720)] == [
        "—",
        "0.0 s",
        "8.2 s",
        "60.0 s",
        "1 min 1 s",
        "3 min 12 s",
        "1 h",
        "1 h 2 min",
    ]


@pytest.fixture
def committed_failed_run(django_db_setup, django_db_blocker):
    """A staff user and a tenant whose last sync failed with a long error, committed for the
    server thread."""
    with django_db_blocker.unblock():
        system = User.objects.get(username=settings.ATLAS_SYSTEM_USERNAME)
        tenant = tenant_create("wide")
        staff = User.objects.create_user(username="support-wide", password="browser-pw", is_staff=True)
        with acting_as(system):
            access_grant(user=staff, customer=tenant.customer)
            run = sync_run_start(project=tenant.project, trigger=QlikSyncRun.Trigger.SCHEDULE)
            sync_run_finish(run=run, error=LONG_ERROR)
        yield tenant
        with acting_as(system):
            Project.objects.filter(pk=tenant.project.pk).delete()
            Customer.objects.filter(pk=tenant.customer.pk).delete()
            User.objects.filter(pk__in=[staff.pk, tenant.user.pk]).delete()


LONG_ERROR = (
    "QlikAuthError: Qlik answered 401 Unauthorized for GET "
    "https://acme.example.qlikcloud.com/api/v1/spaces?limit=100&next=abcdef0123456789: "
    "the API key was rejected (expired or revoked). " * 3
)


@pytest.mark.browser
def test_every_changelist_column_is_in_view_on_a_laptop(committed_failed_run, live_portal, page, monkeypatch):
    monkeypatch.setenv("DJANGO_ALLOW_ASYNC_UNSAFE", "true")
    page.set_viewport_size({"width": 1366, "height": 900})
    page.goto(f"{live_portal}/admin/")
    page.fill("#id_username", "support-wide")
    page.fill("#id_password", "browser-pw")
    page.click("input[type=submit]")
    page.wait_for_selector("#site-name")
    for name in ("qliksyncrun", "qlikapp", "qlikappusage", "qlikdataset", "qlikdataconnection"):
        page.goto(f"{live_portal}{reverse(f'admin:qlik_{name}_changelist')}")
        table, box = page.evaluate(
            "() => [document.querySelector('#result_list').scrollWidth,"
            " document.querySelector('#changelist .results').clientWidth]"
        )
        assert table <= box, name  # no column cut off or behind a scrollbar
        assert page.evaluate("() => document.documentElement.scrollWidth") <= 1366, name
    page.goto(f"{live_portal}{reverse('admin:qlik_qliksyncrun_changelist')}")
    assert page.locator("td.field-short_error").first.is_visible()
    assert "401 Unauthorized" in page.locator("td.field-short_error").first.inner_text()
