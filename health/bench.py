"""Synthetic estates for the health board's benchmark and tests: many customers, few rows each.

Every project gets two successful runs (three and two days ago, with app and space counts),
and a latest run that, by the project's number, succeeded, failed with a rejected key, or
failed otherwise; plus usage rows carrying reload failures in the window. Bulk writes only:
500 projects take a second or two. Call inside `acting_as(superuser)`.
"""

from datetime import timedelta

from django.utils import timezone

from customers.models import Customer, Project
from qlik.models import QlikAppUsage, QlikSyncRun

REJECTED = "Qlik credentials rejected by https://x.example.com (401 on /api/v1/users/me): Unauthorized"


def health_estate_create(
    *, tag: str, customers: int, projects_per_customer: int, apps: int = 3
) -> list[Customer]:
    now = timezone.now()
    made = Customer.objects.bulk_create(
        Customer(name=f"{tag} customer {n:03d}", tenant_url=f"https://{tag}-{n}.example.com")
        for n in range(customers)
    )
    Customer.objects.filter(pk__in=[c.pk for c in made]).update(
        credentials_changed_at=now - timedelta(days=30)
    )
    projects = Project.objects.bulk_create(
        Project(customer=customer, name=f"{tag} project {n:03d}")
        for customer in made
        for n in range(projects_per_customer)
    )
    earlier = QlikSyncRun.objects.bulk_create(
        QlikSyncRun(
            project=project,
            trigger=QlikSyncRun.Trigger.SCHEDULE,
            status=QlikSyncRun.Status.SUCCEEDED,
            counts={"qlik_apps": apps + 10, "qlik_spaces": 3},
        )
        for project in projects
        for _ in range(2)
    )
    for days, runs in ((3, earlier[0::2]), (2, earlier[1::2])):
        QlikSyncRun.objects.filter(pk__in=[r.pk for r in runs]).update(
            started_at=now - timedelta(days=days), finished_at=now - timedelta(days=days, minutes=-5)
        )
    latest = []
    for n, project in enumerate(projects):
        failed = n % 5 in (1, 2)
        latest.append(
            QlikSyncRun(
                project=project,
                trigger=QlikSyncRun.Trigger.SCHEDULE,
                status=QlikSyncRun.Status.FAILED if failed else QlikSyncRun.Status.SUCCEEDED,
                finished_at=now,
                error=(REJECTED if n % 5 == 1 else "/api/v1/items failed after 7 attempts: HTTP 503")
                if failed
                else "",
                counts={} if failed else {"qlik_apps": apps + 12, "qlik_spaces": 4},
                apps_with_problems=1 if n % 5 == 3 else 0,
                problems={"counts": [{"summary": "1 app's script: HTTP 403 (not readable)"}]}
                if n % 5 == 3
                else {},
            )
        )
    QlikSyncRun.objects.bulk_create(latest)
    today = now.date()
    QlikAppUsage.objects.bulk_create(
        QlikAppUsage(
            project=project,
            app_id=f"app-{n}",
            appName=f"App {n}",
            usageReloads=20,
            data={"reloadFailures": [(today - timedelta(days=d)).isoformat() for d in range(n)]},
        )
        for project in projects
        for n in range(apps)
    )
    return made


def health_estate_delete(*, customers: list[Customer]) -> None:
    projects = Project.objects.filter(customer__in=customers)
    QlikAppUsage.objects.filter(project__in=projects).delete()
    QlikSyncRun.objects.filter(project__in=projects).delete()
    projects.delete()
    Customer.objects.filter(pk__in=[c.pk for c in customers]).delete()
