"""The OpenAPI schema is valid, and the API keeps its promises for generated requests."""

import json

import pytest
import schemathesis
from django.core import signals
from django.core.wsgi import get_wsgi_application
from django.db import close_old_connections
from drf_spectacular.generators import SchemaGenerator
from drf_spectacular.renderers import OpenApiJsonRenderer
from drf_spectacular.validation import validate_schema
from hypothesis import HealthCheck, settings
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import content_type_conformance, response_schema_conformance

from atlas.rls import acting_as
from customers.models import User
from customers.services import access_grant, api_token_create


def _schema() -> dict:
    return json.loads(OpenApiJsonRenderer().render(SchemaGenerator().get_schema(request=None, public=True)))


def test_the_schema_is_valid_openapi_3_and_names_every_endpoint(client, db):
    schema = _schema()
    validate_schema(schema)  # raises on an invalid document
    assert schema["openapi"].startswith("3.")
    for path in (
        "/api/v1/projects/{project_pk}/apps/",
        "/api/v1/projects/{project_pk}/lineage/upstream/",
        "/api/v1/projects/{project_pk}/sync/",
    ):
        assert path in schema["paths"], path
    assert "tokenAuth" in schema["components"]["securitySchemes"]
    served = client.get("/api/schema/?format=json")  # public: it describes, it holds no data
    assert served.status_code == 200 and served.json()["paths"].keys() == schema["paths"].keys()
    assert not any(
        "secret" in name.lower() for name in json.dumps(schema["components"]["schemas"]).split('"')
    )


def test_the_docs_page_serves_its_assets_locally(admin_client):
    page = admin_client.get("/api/docs/").content.decode()
    assert "/static/drf_spectacular_sidecar/swagger-ui-dist/" in page
    assert "cdn" not in page.lower() and "https://" not in page


API = schemathesis.openapi.from_dict(_schema())
API.app = get_wsgi_application()


@pytest.fixture
def api_world(estate_project, system_user):
    project, _estate = estate_project
    user = User.objects.create_user("schemathesis", password="x")
    with acting_as(system_user):
        access_grant(user=user, customer=project.customer)
    _, key = api_token_create(user=user, name="schemathesis")
    # As Django's test client does: keep the test's connection (and transaction) open
    # across the WSGI requests instead of closing it when each ends.
    signals.request_started.disconnect(close_old_connections)
    signals.request_finished.disconnect(close_old_connections)
    yield project, f"Token {key}"
    signals.request_started.connect(close_old_connections)
    signals.request_finished.connect(close_old_connections)


@API.parametrize()
@settings(max_examples=5, deadline=None, suppress_health_check=list(HealthCheck))
def test_generated_requests_get_no_5xx_and_answers_match_the_schema(case, api_world):
    project, authorization = api_world
    if "project_pk" in (case.path_parameters or {}):
        case.path_parameters["project_pk"] = project.pk
    if case.query:
        case.query.pop("format", None)  # CSV is not JSON; tests/*/test_api.py check it
    case.call_and_validate(
        headers={"Authorization": authorization, "Host": "localhost"},
        checks=[not_a_server_error, response_schema_conformance, content_type_conformance],
    )
