"""Admin for customers (write-only credentials), projects, access grants and users."""

from django import forms
from django.contrib import admin, messages
from django.contrib.auth.admin import UserAdmin
from django.urls import reverse
from guardian.admin import AdminUserObjectPermissionsForm, ReinforcedGuardedModelAdminMixin
from guardian.conf import settings as guardian_settings
from guardian.shortcuts import get_objects_for_user
from simple_history.admin import SimpleHistoryAdmin

from atlas.admin import StaffViewableAdmin, changelist_url, links_html
from atlas.fields import UndecryptableSecret
from customers.models import ApiToken, Customer, Project, User, UserCustomerAccess
from customers.permissions import (
    customer_user_can_change,
    customer_user_can_manage_access,
    customer_user_can_see,
    person_name,
)
from customers.selectors import grantable_users
from customers.services import (
    AccessChangeRefused,
    access_grant,
    access_revoke,
    api_token_create,
    api_tokens_revoke,
    customer_connection_check,
    customer_credentials_set,
)
from qlik.client import QlikError
from qlik.models import QlikSyncRun
from qlik.selectors import last_sync_annotate, sync_run_list
from qlik.services import project_syncs_enqueue


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


class AccessGrantForm(forms.ModelForm):
    """A new grant picks among active users who are not superusers, by name; an existing
    grant shows its person and cannot be pointed at someone else (revoke, then grant)."""

    class Meta:
        model = UserCustomerAccess
        fields = ("user",)

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        field = self.fields["user"]
        field.label_from_instance = person_name
        if self.instance.pk:
            field.queryset = User.objects.filter(pk=self.instance.user_id)
            field.disabled = True
        else:
            field.queryset = grantable_users()


class AccessInline(admin.TabularInline):
    """Who may see the customer: superusers and the customer's access managers change it."""

    model = UserCustomerAccess
    form = AccessGrantForm
    fields = ("user", "granted_at")
    readonly_fields = ("granted_at",)
    extra = 0

    def has_view_permission(self, request, obj=None):
        return request.user.is_staff

    def has_add_permission(self, request, obj=None):
        return obj is not None and customer_user_can_manage_access(user=request.user, customer=obj)

    def has_change_permission(self, request, obj=None):
        return self.has_add_permission(request, obj)

    def has_delete_permission(self, request, obj=None):
        return self.has_add_permission(request, obj)


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
    """Queue syncs of the projects whose customer the user may change: the rule of the
    customer page's and the health board's "Sync now" (seeing a customer is not enough)."""
    changeable = {
        customer.pk: _can_change(request, customer) for customer in {project.customer for project in projects}
    }
    refused = [project for project in projects if not changeable[project.customer_id]]
    projects = [project for project in projects if changeable[project.customer_id]]
    if refused:
        modeladmin.message_user(
            request,
            f"Not synced: {', '.join(str(project) for project in refused)} — you may see "
            f"{'it' if len(refused) == 1 else 'them'} but not sync (that takes change rights).",
            messages.ERROR,
        )
    if not projects:
        return
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
    change_form_template = "admin/customers/customer/change_form.html"
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
                self.message_user(request, customer_connection_check(customer=customer), messages.SUCCESS)
            except (QlikError, UndecryptableSecret) as exc:
                self.message_user(request, str(exc), messages.ERROR)

    @admin.action(description="Sync now (all projects of the selected customers)")
    def sync_now(self, request, queryset):
        _enqueue_syncs(
            self, request, list(Project.objects.filter(customer__in=queryset).select_related("customer"))
        )

    def has_add_permission(self, request):
        return request.user.is_superuser

    def has_change_permission(self, request, obj=None):
        return _can_change(request, obj) or (obj is None and request.user.is_superuser)

    def has_delete_permission(self, request, obj=None):
        return request.user.is_superuser

    def obj_perms_manage_view(self, request, object_pk):
        if not request.user.is_superuser:
            # guardian would bounce to the admin index without a word.
            from django.http import HttpResponseRedirect

            self.message_user(
                request, "Object permissions on a customer are given by superusers.", messages.WARNING
            )
            return HttpResponseRedirect(reverse("admin:customers_customer_change", args=[object_pk]))
        return super().obj_perms_manage_view(request, object_pk)

    def get_obj_perms_manage_user_form(self, request):
        return CustomerObjectPermissionsForm

    def save_formset(self, request, form, formset, change):
        if formset.model is not UserCustomerAccess:
            return super().save_formset(request, form, formset, change)
        # Grants go through the services: the same checks as grant_access, said in words, and
        # a revoke also takes the edit rights (no edit rights without sight).
        customer = form.instance
        formset.new_objects, formset.changed_objects, formset.deleted_objects = [], [], []
        for inline_form in formset.forms:
            user = inline_form.cleaned_data.get("user") if hasattr(inline_form, "cleaned_data") else None
            deleting = inline_form in formset.deleted_forms
            try:
                if inline_form.instance.pk and deleting:
                    access_revoke(user=inline_form.instance.user, customer=customer, actor=request.user)
                    formset.deleted_objects.append(inline_form.instance)
                elif not inline_form.instance.pk and user and not deleting:
                    formset.new_objects.append(access_grant(user=user, customer=customer, actor=request.user))
            except AccessChangeRefused as exc:
                self.message_user(request, str(exc), messages.ERROR)

    def get_urls(self):
        from django.urls import path

        return [
            path(
                "<path:object_id>/act/<slug:action>/",
                self.admin_site.admin_view(self.act_view),
                name="customers_customer_act",
            ),
            *super().get_urls(),
        ]

    def act_view(self, request, object_id, action):
        """Test connection or Sync now from the customer's own page (POST only)."""
        from django.http import HttpResponseNotAllowed, HttpResponseRedirect

        if request.method != "POST":
            return HttpResponseNotAllowed(["POST"])
        customer = self.get_object(request, object_id)
        if action == "test":
            self.test_connection(request, Customer.objects.filter(pk=customer.pk))
        elif action == "sync" and _can_change(request, customer):
            self.sync_now(request, Customer.objects.filter(pk=customer.pk))
        else:
            self.message_user(request, "You may see this customer but not sync it.", messages.ERROR)
        return HttpResponseRedirect(reverse("admin:customers_customer_change", args=[customer.pk]))

    def render_change_form(self, request, context, add=False, change=False, form_url="", obj=None):
        context.update(
            show_object_permissions=request.user.is_superuser,
            can_sync=_can_change(request, obj),
            manages_access=obj is not None
            and customer_user_can_manage_access(user=request.user, customer=obj),
        )
        return super().render_change_form(request, context, add, change, form_url, obj)

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
        _enqueue_syncs(self, request, list(queryset.select_related("customer")))

    def has_add_permission(self, request):
        return request.user.is_superuser

    def has_change_permission(self, request, obj=None):
        return _can_change(request, obj and obj.customer) or (obj is None and request.user.is_superuser)

    def has_delete_permission(self, request, obj=None):
        # Deleting a project deletes its sync runs and Qlik rows, which are read-only in the
        # admin: offering it to support would end in "missing permissions". Superusers only.
        return request.user.is_superuser

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
        access_revoke(user=obj.user, customer=obj.customer, actor=request.user)

    def delete_queryset(self, request, queryset):
        for grant in queryset.select_related("user", "customer"):
            access_revoke(user=grant.user, customer=grant.customer, actor=request.user)


class UserAccessInline(SuperuserEditsInline):
    model = UserCustomerAccess
    fk_name = "user"
    fields = ("customer", "granted_at")
    readonly_fields = ("granted_at",)


@admin.register(User)
class AtlasUserAdmin(UserAdmin):
    inlines = (UserAccessInline,)

    def get_queryset(self, request):
        # django-guardian's stand-in for anonymous visitors is no person to manage.
        return super().get_queryset(request).exclude(username=guardian_settings.ANONYMOUS_USER_NAME)


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
