"""Admin for customers (write-only credentials), projects, access grants and users."""

from django import forms
from django.contrib import admin, messages
from django.contrib.auth.admin import UserAdmin
from django.urls import reverse
from guardian.admin import AdminUserObjectPermissionsForm, ReinforcedGuardedModelAdminMixin
from guardian.shortcuts import get_objects_for_user
from simple_history.admin import SimpleHistoryAdmin

from atlas.admin import StaffViewableAdmin, changelist_url, links_html
from atlas.fields import UndecryptableSecret
from customers.models import ApiToken, Customer, Project, User, UserCustomerAccess
from customers.permissions import (
    customer_object_permissions_clear,
    customer_user_can_change,
    customer_user_can_see,
)
from customers.services import access_revoke, api_token_create, api_tokens_revoke, customer_credentials_set
from qlik.client import QlikError
from qlik.models import QlikSyncRun
from qlik.selectors import last_sync_annotate, sync_run_list
from qlik.services import customer_connection_test, project_syncs_enqueue


def _can_change(request, customer) -> bool:
    return customer is not None and customer_user_can_change(user=request.user, customer=customer)


class CustomerObjectPermissionsForm(AdminUserObjectPermissionsForm):
    """Refuses an object permission on a customer the user cannot see (RLS would hide it)."""

    def clean(self):
        cleaned = super().clean()
        if cleaned.get(self.get_obj_perms_field_name()) and not customer_user_can_see(
            user=self.user, customer=self.obj
        ):
            raise forms.ValidationError(
                f"{self.user} cannot see {self.obj}: grant access to the customer first "
                "(Access grants on the customer page), then give permissions."
            )
        return cleaned


class CustomerAdminForm(forms.ModelForm):
    """Secrets are write-only: a field to replace each and a box to clear it, never a value."""

    tenant_url = forms.URLField(assume_scheme="https", max_length=500)
    new_api_key = forms.CharField(
        label="Replace API key",
        required=False,
        strip=True,
        widget=forms.PasswordInput(render_value=False, attrs={"autocomplete": "new-password"}),
    )
    clear_api_key = forms.BooleanField(label="Clear API key", required=False)
    new_oauth_client_secret = forms.CharField(
        label="Replace OAuth client secret",
        required=False,
        strip=True,
        widget=forms.PasswordInput(render_value=False, attrs={"autocomplete": "new-password"}),
    )
    clear_oauth_client_secret = forms.BooleanField(label="Clear OAuth client secret", required=False)

    class Meta:
        model = Customer
        fields = ("name", "tenant_url", "oauth_client_id")

    def clean(self):
        cleaned = super().clean()
        for secret in Customer.SECRET_FIELDS:
            if cleaned.get(f"new_{secret}") and cleaned.get(f"clear_{secret}"):
                self.add_error(f"clear_{secret}", "Either replace or clear it, not both.")
        return cleaned

    def credential_changes(self) -> dict[str, str]:
        """The secrets to set ("" clears one), as customer_credentials_set takes them."""
        changes = {}
        for secret in Customer.SECRET_FIELDS:
            if self.cleaned_data.get(f"clear_{secret}"):
                changes[secret] = ""
            elif self.cleaned_data.get(f"new_{secret}"):
                changes[secret] = self.cleaned_data[f"new_{secret}"]
        return changes


class ProjectInline(admin.TabularInline):
    """Projects are edited by whoever may change their customer."""

    model = Project
    fields = ("name", "description", "dashboard")
    readonly_fields = ("dashboard",)
    extra = 0
    show_change_link = True

    @admin.display(description="dashboard")
    def dashboard(self, obj):
        if not obj.pk:
            return "—"
        return links_html(
            [
                (reverse("project-dashboard", args=[obj.pk]), "dashboard"),
                (reverse("lineage-graph", args=[obj.pk]), "lineage"),
            ]
        )

    def has_view_permission(self, request, obj=None):
        return request.user.is_staff

    def has_add_permission(self, request, obj=None):
        return _can_change(request, obj)

    def has_change_permission(self, request, obj=None):
        return _can_change(request, obj)

    def has_delete_permission(self, request, obj=None):
        return _can_change(request, obj)


class SuperuserEditsInline(admin.TabularInline):
    """Access grants decide what RLS shows: only superusers change them (the policy agrees)."""

    extra = 0

    def has_view_permission(self, request, obj=None):
        return request.user.is_staff

    def has_add_permission(self, request, obj=None):
        return request.user.is_superuser

    def has_change_permission(self, request, obj=None):
        return request.user.is_superuser

    def has_delete_permission(self, request, obj=None):
        return request.user.is_superuser


class AccessInline(SuperuserEditsInline):
    model = UserCustomerAccess
    fields = ("user", "granted_at")
    readonly_fields = ("granted_at",)
    autocomplete_fields = ("user",)


class LastSyncStatusFilter(admin.SimpleListFilter):
    """Customers by how the latest sync of any of their projects ended."""

    title = "last sync status"
    parameter_name = "last_sync"
    NEVER = "never"

    def lookups(self, request, model_admin):
        return [*QlikSyncRun.Status.choices, (self.NEVER, "Never synced")]

    def queryset(self, request, queryset):
        if self.value() == self.NEVER:
            return queryset.filter(last_sync_status__isnull=True)
        if self.value():
            return queryset.filter(last_sync_status=self.value())
        return queryset


class CredentialsFilter(admin.SimpleListFilter):
    title = "credentials"
    parameter_name = "credentials"

    def lookups(self, request, model_admin):
        return [("set", "API key set"), ("missing", "No API key")]

    def queryset(self, request, queryset):
        if self.value():
            return queryset.filter(api_key__isnull=self.value() == "missing")
        return queryset


def _enqueue_syncs(modeladmin, request, projects) -> None:
    jobs = project_syncs_enqueue(
        projects=projects, trigger=QlikSyncRun.Trigger.ADMIN, requested_by=request.user
    )
    skipped = len(projects) - len(jobs)
    modeladmin.message_user(
        request,
        f"Queued {len(jobs)} sync(s)" + (f"; {skipped} already waiting in the queue." if skipped else "."),
        messages.SUCCESS,
    )


@admin.register(Customer)
class CustomerAdmin(ReinforcedGuardedModelAdminMixin, SimpleHistoryAdmin, StaffViewableAdmin):
    """Staff see the customers RLS shows them and change those they hold change_customer on.

    Superusers manage who may change a customer on its "Object permissions" page.
    """

    form = CustomerAdminForm
    list_display = ("name", "tenant_url", "credentials_status", "credentials_changed_at", "last_sync")
    list_filter = (CredentialsFilter, LastSyncStatusFilter)
    search_fields = ("name", "tenant_url")
    actions = ("test_connection", "sync_now")
    readonly_fields = ("credentials_status", "credentials_changed_at", "created_at", "updated_at")
    fieldsets = (
        (None, {"fields": ("name", "tenant_url")}),
        (
            "Qlik credentials (write-only)",
            {
                "fields": (
                    "credentials_status",
                    "credentials_changed_at",
                    ("new_api_key", "clear_api_key"),
                    "oauth_client_id",
                    ("new_oauth_client_secret", "clear_oauth_client_secret"),
                )
            },
        ),
        ("Record", {"fields": ("created_at", "updated_at")}),
    )
    inlines = (ProjectInline, AccessInline)

    @admin.display(description="credentials")
    def credentials_status(self, obj):
        def state(field):
            return "set" if obj.__dict__.get(field) is not None else "not set"

        return f"API key: {state('api_key')} · OAuth client secret: {state('oauth_client_secret')}"

    def get_queryset(self, request):
        return last_sync_annotate(queryset=super().get_queryset(request), project_path="project__customer")

    @admin.display(description="last sync", ordering="last_sync_at")
    def last_sync(self, obj):
        status = getattr(obj, "last_sync_status", None)
        if not status:
            return "never"
        url = changelist_url(QlikSyncRun, project__customer__id__exact=obj.pk)
        return links_html([(url, f"{status}, {obj.last_sync_at:%Y-%m-%d %H:%M}")])

    @admin.action(description="Test connection to the Qlik tenant")
    def test_connection(self, request, queryset):
        for customer in queryset:
            try:
                self.message_user(request, customer_connection_test(customer=customer), messages.SUCCESS)
            except (QlikError, UndecryptableSecret) as exc:
                self.message_user(request, f"{customer}: {exc}", messages.ERROR)

    @admin.action(description="Sync now (all projects of the selected customers)")
    def sync_now(self, request, queryset):
        _enqueue_syncs(self, request, list(Project.objects.filter(customer__in=queryset)))

    def has_add_permission(self, request):
        return request.user.is_superuser

    def has_change_permission(self, request, obj=None):
        return _can_change(request, obj) or (obj is None and request.user.is_superuser)

    def has_delete_permission(self, request, obj=None):
        return request.user.is_superuser

    def get_obj_perms_manage_user_form(self, request):
        return CustomerObjectPermissionsForm

    def save_formset(self, request, form, formset, change):
        super().save_formset(request, form, formset, change)
        for grant in getattr(formset, "deleted_objects", ()):
            if isinstance(grant, UserCustomerAccess):
                # Seeing and editing stay consistent: no edit rights without sight.
                customer_object_permissions_clear(user=grant.user, customer=grant.customer)

    def save_model(self, request, obj, form, change):
        super().save_model(request, obj, form, change)
        changes = form.credential_changes()
        if changes:
            customer_credentials_set(customer=obj, **changes)


@admin.register(Project)
class ProjectAdmin(SimpleHistoryAdmin, StaffViewableAdmin):
    list_display = ("name", "customer", "created_at", "last_sync")
    list_filter = ("customer",)
    search_fields = ("name", "customer__name")
    list_select_related = ("customer",)
    readonly_fields = ("recent_syncs",)
    actions = ("sync_now",)

    def get_queryset(self, request):
        return last_sync_annotate(queryset=super().get_queryset(request), project_path="project")

    @admin.display(description="last sync", ordering="last_sync_at")
    def last_sync(self, obj):
        if not getattr(obj, "last_sync_status", None):
            return "never"
        return f"{obj.last_sync_status}, {obj.last_sync_at:%Y-%m-%d %H:%M}"

    @admin.display(description="recent syncs")
    def recent_syncs(self, obj):
        if not (obj and obj.pk):
            return "-"
        runs = list(sync_run_list(project=obj)[:5])
        links = [
            (
                changelist_url(QlikSyncRun, id=run.pk),
                f"#{run.pk} {run.status} {run.started_at:%Y-%m-%d %H:%M}"
                + (f": {run.error[:80]}" if run.error else ""),
            )
            for run in runs
        ]
        links.append(
            (changelist_url(QlikSyncRun, project__id__exact=obj.pk) if obj and obj.pk else "", "all runs")
        )
        return links_html(links)

    @admin.action(description="Sync now")
    def sync_now(self, request, queryset):
        _enqueue_syncs(self, request, list(queryset))

    def has_add_permission(self, request):
        return request.user.is_superuser

    def has_change_permission(self, request, obj=None):
        return _can_change(request, obj and obj.customer) or (obj is None and request.user.is_superuser)

    def has_delete_permission(self, request, obj=None):
        return self.has_change_permission(request, obj)

    def get_field_queryset(self, db, db_field, request):
        # Projects can only be given to customers the user may change.
        queryset = super().get_field_queryset(db, db_field, request)
        if db_field.name == "customer" and not request.user.is_superuser:
            return get_objects_for_user(request.user, "customers.change_customer", Customer)
        return queryset


@admin.register(UserCustomerAccess)
class UserCustomerAccessAdmin(SimpleHistoryAdmin, StaffViewableAdmin):
    list_display = ("user", "customer", "granted_at")
    list_filter = ("customer",)
    search_fields = ("user__username", "customer__name")
    list_select_related = ("user", "customer")
    autocomplete_fields = ("user", "customer")

    def has_add_permission(self, request):
        return request.user.is_superuser

    def has_change_permission(self, request, obj=None):
        return request.user.is_superuser

    def has_delete_permission(self, request, obj=None):
        return request.user.is_superuser

    def delete_model(self, request, obj):
        access_revoke(user=obj.user, customer=obj.customer)

    def delete_queryset(self, request, queryset):
        for grant in queryset.select_related("user", "customer"):
            access_revoke(user=grant.user, customer=grant.customer)


class UserAccessInline(SuperuserEditsInline):
    model = UserCustomerAccess
    fk_name = "user"
    fields = ("customer", "granted_at")
    readonly_fields = ("granted_at",)


@admin.register(User)
class AtlasUserAdmin(UserAdmin):
    inlines = (UserAccessInline,)


@admin.register(ApiToken)
class ApiTokenAdmin(admin.ModelAdmin):
    """Superusers create and revoke API tokens; the key is shown once, on creation."""

    list_display = ("name", "user", "prefix", "created_at", "expires_at", "last_used_at", "revoked_at")
    list_filter = ("revoked_at",)
    search_fields = ("name", "user__username", "=prefix")
    list_select_related = ("user",)
    readonly_fields = ("prefix", "created_at", "last_used_at", "revoked_at")
    actions = ("revoke",)

    def has_module_permission(self, request):
        return request.user.is_superuser

    def has_view_permission(self, request, obj=None):
        return request.user.is_superuser

    has_add_permission = has_change_permission = has_delete_permission = has_view_permission

    def get_fields(self, request, obj=None):
        return (
            ("user", "name", "expires_at")
            if obj is None
            else ("user", "name", *self.readonly_fields, "expires_at")
        )

    def save_model(self, request, obj, form, change):
        if change:
            return super().save_model(request, obj, form, change)
        token, key = api_token_create(user=obj.user, name=obj.name, expires_at=obj.expires_at)
        obj.pk, obj.prefix = token.pk, token.prefix
        obj._state.adding = False
        self.message_user(
            request, f"Token created. Its key is shown this once, copy it now: {key}", messages.WARNING
        )

    @admin.action(description="Revoke the selected tokens")
    def revoke(self, request, queryset):
        revoked = api_tokens_revoke(tokens=queryset)
        self.message_user(request, f"{revoked} token(s) revoked.", messages.SUCCESS)
