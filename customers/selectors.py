"""Reads for customers and projects (RLS decides what the identity in force may see)."""

from django.db.models import QuerySet

from customers.models import Customer, Project


def customer_list() -> QuerySet[Customer]:
    return Customer.objects.all()


def customer_get(*, name_or_id: str) -> Customer:
    """A customer by id (digits) or exact name; raises Customer.DoesNotExist."""
    if name_or_id.isdigit():
        return Customer.objects.get(pk=int(name_or_id))
    return Customer.objects.get(name=name_or_id)


def project_list(*, customer: Customer | None = None) -> QuerySet[Project]:
    projects = Project.objects.select_related("customer")
    return projects.filter(customer=customer) if customer else projects
