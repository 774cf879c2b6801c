"""Users, customers (Qlik tenants with encrypted credentials), projects and access grants."""

from django.contrib.auth.models import AbstractUser
from django.db import models
from simple_history.models import HistoricalRecords

from atlas import rls
from atlas.fields import EncryptedTextField


def _history_user(**kwargs):
    """Who made a change: the RLS identity in force (request user, command --actor)."""
    user_id = rls.current_user_id()
    return User.objects.filter(pk=user_id).first() if user_id else None


class User(AbstractUser):
    """A person (or the system account) who signs in to qlik_atlas."""

    class Meta:
        db_table = "users"


class Customer(models.Model):
    """A customer's Qlik Cloud tenant and the API credentials we hold for it, encrypted."""

    name = models.CharField(max_length=200, unique=True)
    tenant_url = models.URLField(max_length=500, help_text="e.g. https://acme.eu.qlikcloud.com")
    api_key = EncryptedTextField("API key", null=True, blank=True)
    oauth_client_id = models.CharField("OAuth client id", max_length=200, blank=True)
    oauth_client_secret = EncryptedTextField("OAuth client secret", null=True, blank=True)
    credentials_changed_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    SECRET_FIELDS = ("api_key", "oauth_client_secret")
    # Secrets never enter the history; credentials_changed_at records that they changed.
    history = HistoricalRecords(excluded_fields=SECRET_FIELDS, get_user=_history_user)

    class Meta:
        db_table = "customers"
        ordering = ("name",)
        # Held per customer (django-guardian): see all of its access grants and grant or revoke
        # them for non-superusers. The RLS policies of user_customer_access read it too.
        permissions = [("manage_access", "Can manage who may see the customer")]

    def __str__(self) -> str:
        return self.name

    @property
    def has_credentials(self) -> bool:
        return self.__dict__.get("api_key") is not None or (
            bool(self.oauth_client_id) and self.__dict__.get("oauth_client_secret") is not None
        )


class Project(models.Model):
    """A scope of Qlik metadata and lineage pulled from one customer's tenant."""

    # PROTECT: deleting a customer that still has projects is refused; delete (or move) the
    # projects first, so a customer's synced history is never dropped by accident.
    customer = models.ForeignKey(Customer, on_delete=models.PROTECT, related_name="projects")
    name = models.CharField(max_length=200)
    description = models.TextField(blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    history = HistoricalRecords(get_user=_history_user)

    class Meta:
        db_table = "projects"
        ordering = ("customer__name", "name")
        constraints = [
            models.UniqueConstraint(fields=("customer", "name"), name="projects_customer_name_uniq")
        ]

    def __str__(self) -> str:
        return f"{self.customer.name} / {self.name}" if self.customer_id else self.name


class UserCustomerAccess(models.Model):
    """Grants one user sight of one customer's data; the RLS policies read this table."""

    user = models.ForeignKey(User, on_delete=models.CASCADE, related_name="customer_access")
    customer = models.ForeignKey(Customer, on_delete=models.CASCADE, related_name="access_grants")
    granted_at = models.DateTimeField(auto_now_add=True)

    history = HistoricalRecords(get_user=_history_user)

    class Meta:
        db_table = "user_customer_access"
        verbose_name = "customer access grant"
        constraints = [
            models.UniqueConstraint(
                fields=("user", "customer"), name="user_customer_access_user_customer_uniq"
            )
        ]

    def __str__(self) -> str:
        return f"{self.user} → {self.customer}"


class ProjectScopedModel(models.Model):
    """Base of every Qlik and lineage table: a project-scoped row with the raw API payload.

    The schema document gives these tables composite keys `(project_id, <x>_id)`; they get a
    surrogate bigint `row_id` primary key (the admin, DRF and django-guardian cannot address
    composite keys) and the document's key as a NOT NULL unique constraint, `project_id`
    leading, which is also the index the RLS policy uses.
    """

    row_id = models.BigAutoField(primary_key=True)
    # CASCADE: a project's snapshot belongs to it and goes with it. No index of its own: the
    # unique key and the other indexes all lead with project_id, and a lone project_id index
    # tempts the planner into scanning a whole project while its statistics are stale.
    project = models.ForeignKey(Project, on_delete=models.CASCADE, related_name="+", db_index=False)
    data = models.JSONField(default=dict)

    class Meta:
        abstract = True


class ApiToken(models.Model):
    """A key a script sends as `Authorization: Token <key>`; only its SHA-256 is stored."""

    user = models.ForeignKey(User, on_delete=models.CASCADE, related_name="api_tokens")
    name = models.CharField(max_length=100, help_text="What the token is for, e.g. 'nightly export'")
    prefix = models.CharField(max_length=8, editable=False, help_text="First characters, to recognise it")
    key_hash = models.CharField(max_length=64, unique=True, editable=False)
    created_at = models.DateTimeField(auto_now_add=True)
    expires_at = models.DateTimeField(null=True, blank=True, help_text="Empty: never expires")
    revoked_at = models.DateTimeField(null=True, blank=True, editable=False)
    last_used_at = models.DateTimeField(null=True, blank=True, editable=False)

    class Meta:
        db_table = "api_tokens"
        verbose_name = "API token"

    def __str__(self) -> str:
        return f"{self.name} ({self.prefix}…)"
