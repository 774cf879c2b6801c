"""Admin for customers (write-only credentials), projects, access grants and users."""

from django import forms
from django.contrib import admin
from django.contrib.auth.admin import UserAdmin

from customers.models import Customer, Project, User, UserCustomerAccess
from customers.services import customer_credentials_set


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
    model = Project
    fields = ("name", "description")
    extra = 0
    show_change_link = True


class AccessInline(admin.TabularInline):
    model = UserCustomerAccess
    fields = ("user", "granted_at")
    readonly_fields = ("granted_at",)
    autocomplete_fields = ("user",)
    extra = 0


@admin.register(Customer)
class CustomerAdmin(admin.ModelAdmin):
    form = CustomerAdminForm
    list_display = ("name", "tenant_url", "credentials_status", "credentials_changed_at")
    search_fields = ("name", "tenant_url")
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

    def save_model(self, request, obj, form, change):
        super().save_model(request, obj, form, change)
        changes = form.credential_changes()
        if changes:
            customer_credentials_set(customer=obj, **changes)


@admin.register(Project)
class ProjectAdmin(admin.ModelAdmin):
    list_display = ("name", "customer", "created_at")
    list_filter = ("customer",)
    search_fields = ("name", "customer__name")
    list_select_related = ("customer",)


@admin.register(UserCustomerAccess)
class UserCustomerAccessAdmin(admin.ModelAdmin):
    list_display = ("user", "customer", "granted_at")
    list_filter = ("customer",)
    search_fields = ("user__username", "customer__name")
    list_select_related = ("user", "customer")
    autocomplete_fields = ("user", "customer")


class UserAccessInline(admin.TabularInline):
    model = UserCustomerAccess
    fk_name = "user"
    fields = ("customer", "granted_at")
    readonly_fields = ("granted_at",)
    extra = 0


@admin.register(User)
class AtlasUserAdmin(UserAdmin):
    inlines = (UserAccessInline,)
