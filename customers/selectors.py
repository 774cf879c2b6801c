"""Reads for customers and projects (RLS decides what the identity in force may see)."""

from django.db.models import Q, QuerySet
from django.utils import timezone
from guardian.conf import settings as guardian_settings

from customers.models import ApiToken, Customer, Project, User


def customer_list() -> QuerySet[Customer]:
    return Customer.objects.all()


def customer_get(*, name_or_id: str) -> Customer:
    """A customer by id (digits) or exact name; raises Customer.DoesNotExist."""
    if name_or_id.isascii() and name_or_id.isdigit():
        return Customer.objects.get(pk=int(name_or_id))
    return Customer.objects.get(name=name_or_id)


def project_list(*, customer: Customer | None = None) -> QuerySet[Project]:
    projects = Project.objects.select_related("customer")
    return projects.filter(customer=customer) if customer else projects


def project_get(*, project_id) -> Project:
    """A project the identity in force may see; raises Project.DoesNotExist otherwise."""
    if not (str(project_id).isascii() and str(project_id).isdigit()):
        raise Project.DoesNotExist(project_id)
    return Project.objects.select_related("customer").get(pk=int(project_id))


def api_token_active_get(*, key_hash: str) -> ApiToken:
    """The unrevoked, unexpired token with this hash; raises ApiToken.DoesNotExist."""
    return (
        ApiToken.objects.select_related("user")
        .filter(Q(expires_at__isnull=True) | Q(expires_at__gt=timezone.now()), revoked_at__isnull=True)
        .get(key_hash=key_hash)
    )


def grantable_users() -> QuerySet[User]:
    """People a customer's access may be given to: active, not superusers, not guardian's
    anonymous stand-in; by name."""
    return (
        User.objects.filter(is_active=True, is_superuser=False)
        .exclude(username=guardian_settings.ANONYMOUS_USER_NAME)
        .order_by("first_name", "last_name", "username")
    )
