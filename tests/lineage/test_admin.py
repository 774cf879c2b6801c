"""The lineage admin finds a data file's node by the secure QRI the lineage API names it by."""

from django.urls import reverse

from atlas.rls import acting_as
from customers.models import User
from customers.services import customer_create, project_create
from lineage.services import lineage_graph_replace


def test_a_data_files_node_is_found_by_its_secure_qri(client, system_user):
    secure_qri = "qri:qdf:space://Zm9v#YmFy"
    with acting_as(system_user):
        project = project_create(
            customer=customer_create(name="C", tenant_url="https://c.example.com"), name="P"
        )
        lineage_graph_replace(
            project=project,
            nodes=[
                {"id": "file:lib://finance:datafiles/sales.qvd", "type": "file", "secure_qri": secure_qri},
                {
                    "id": "file:lib://finance:datafiles/other.qvd",
                    "type": "file",
                    "secure_qri": secure_qri + "x",
                },
            ],
            edges=[],
        )
    client.force_login(User.objects.create_superuser(username="root", password="pw"))
    found = (
        client.get(reverse("admin:lineage_lineagenode_changelist"), {"q": secure_qri})
        .context["cl"]
        .result_list
    )
    assert [row.node_id for row in found] == ["file:lib://finance:datafiles/sales.qvd"]
