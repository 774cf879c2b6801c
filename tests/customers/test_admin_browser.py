"""Support staff in a real headless Chromium: log in, replace Acme's key, never find Globex.

Skipped, with the reason, where no Chromium is installed (`.ci/run` installs Debian's).
"""

import pytest
from django.conf import settings
from django.db import connection
from guardian.shortcuts import assign_perm

from atlas.rls import acting_as
from customers.models import Customer, Project, User
from customers.permissions import CHANGE_CUSTOMER
from customers.services import access_grant, customer_create, project_create

pytestmark = pytest.mark.browser

PASSWORD = "browser-test-pw"
ACME_KEY = "acme-browser-key-0123456789"
GLOBEX_KEY = "globex-browser-key-0123456789"
NEW_KEY = "acme-replaced-key-9876543210"


@pytest.fixture
def committed_world(django_db_setup, django_db_blocker):
    """Acme (granted to `support`, who may edit it) and Globex, committed for the server thread."""
    with django_db_blocker.unblock():
        system = User.objects.get(username=settings.ATLAS_SYSTEM_USERNAME)
        support = User.objects.create_user(username="support", password=PASSWORD, is_staff=True)
        with acting_as(system):
            acme = customer_create(
                name="Acme Analytics", tenant_url="https://acme.example.com", api_key=ACME_KEY
            )
            globex = customer_create(
                name="Globex Retail", tenant_url="https://globex.example.com", api_key=GLOBEX_KEY
            )
            for customer in (acme, globex):
                project_create(customer=customer, name=f"{customer.name} project")
            access_grant(user=support, customer=acme)
            assign_perm(CHANGE_CUSTOMER, support, acme)
        yield acme, globex
        with acting_as(system):
            Project.objects.filter(customer__in=[acme, globex]).delete()
            Customer.objects.filter(pk__in=[acme.pk, globex.pk]).delete()
            support.delete()


def test_support_replaces_acmes_key_without_seeing_it_and_cannot_find_globex(
    committed_world, live_portal, page, django_db_blocker, monkeypatch
):
    # Playwright's sync API keeps an event loop on this thread; the ORM calls below are
    # still plain synchronous calls, which Django's async guard cannot tell.
    monkeypatch.setenv("DJANGO_ALLOW_ASYNC_UNSAFE", "true")
    acme, globex = committed_world
    seen_html = []

    page.goto(f"{live_portal}/admin/")
    page.fill("#id_username", "support")
    page.fill("#id_password", PASSWORD)
    page.click("input[type=submit]")
    page.wait_for_selector("#site-name")

    page.goto(f"{live_portal}/admin/customers/customer/")
    assert page.locator("#result_list").get_by_text("Acme Analytics").count() == 1
    assert "Globex" not in page.content()
    page.fill("#searchbar", "Globex")
    page.press("#searchbar", "Enter")
    page.wait_for_load_state()
    assert page.locator("#result_list").count() == 0  # no table: nothing found
    assert "Globex Retail" not in page.content()

    page.goto(f"{live_portal}/admin/customers/customer/")
    page.click("text=Acme Analytics")
    page.wait_for_selector("#id_new_api_key")
    seen_html.append(page.content())
    assert "API key: set" in seen_html[-1]
    page.fill("#id_new_api_key", NEW_KEY)
    page.click("input[name=_continue]")
    page.wait_for_selector(".messagelist")
    seen_html.append(page.content())
    assert "was changed successfully" in seen_html[-1]

    response = page.goto(f"{live_portal}/admin/customers/customer/{globex.pk}/change/")
    assert response.status == 404
    seen_html.append(page.content())
    page.goto(f"{live_portal}/admin/customers/customer/{acme.pk}/history/")
    seen_html.append(page.content())

    for html in seen_html:
        for secret in (ACME_KEY, GLOBEX_KEY, NEW_KEY):
            assert secret not in html
    with django_db_blocker.unblock(), acting_as(User.objects.get(username=settings.ATLAS_SYSTEM_USERNAME)):
        assert Customer.objects.get(pk=acme.pk).api_key == NEW_KEY
        assert Customer.objects.get(pk=globex.pk).api_key == GLOBEX_KEY
    # Django's connection is context-local and Playwright's context is not the fixtures':
    # close the one this check opened, or it would outlive the test database.
    connection.close()
