"""The schema document's logical joins: apps to spaces, usage and scripts."""

from customers.services import customer_create, project_create
from qlik.models import QlikApp, QlikSpace
from qlik.selectors import app_list
from qlik.services import QlikSnapshot, qlik_snapshot_replace


def test_apps_join_spaces_on_spaceid_falling_back_to_the_legacy_space_id(as_system):
    project = project_create(customer=customer_create(name="C", tenant_url="https://c.example.com"), name="P")
    qlik_snapshot_replace(
        project=project,
        snapshot=QlikSnapshot(
            spaces=[{"id": "s1", "name": "Sales"}],
            apps=[
                {"item": {"resourceId": "a-new", "name": "New", "spaceId": "s1"}},
                {"item": {"resourceId": "a-personal", "name": "Personal"}},
            ],
            scripts={"a-new": "LOAD 1 AUTOGENERATE 1;"},
            usage=[{"appId": "a-new", "usageClassification": "active"}],
        ),
    )
    # A row from before spaceId was materialized: only the legacy columns are filled.
    QlikSpace.objects.create(project=project, space_id="legacy-space", spaceName="Old Finance")
    QlikApp.objects.create(project=project, app_id="a-old", appName="Old", space_id="legacy-space")

    rows = {
        app.app_id: (app.space_name, app.usage_classification, app.has_script)
        for app in app_list(project=project)
    }
    assert rows == {
        "a-new": ("Sales", "active", True),
        "a-personal": (None, None, False),
        "a-old": ("Old Finance", None, False),
    }


def test_the_app_list_is_one_query_whatever_the_number_of_apps(as_system, django_assert_num_queries):
    project = project_create(customer=customer_create(name="C", tenant_url="https://c.example.com"), name="P")
    qlik_snapshot_replace(
        project=project,
        snapshot=QlikSnapshot(
            spaces=[{"id": "s1", "name": "Sales"}],
            apps=[{"item": {"resourceId": f"a{n}", "name": f"A{n}", "spaceId": "s1"}} for n in range(50)],
        ),
    )
    with django_assert_num_queries(1):
        assert len(list(app_list(project=project))) == 50
