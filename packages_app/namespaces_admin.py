"""The admin's PEP 752 namespace grants: listed, granted and revoked through the services.

A grant is revoked, never deleted (the snapshot views show the grants of any past moment),
and never edited: another holder or another openness is another grant, so revoke this one
and grant again. Adding needs the add permission, "Revoke selected namespaces" the change
permission; nobody deletes.
"""

from __future__ import annotations

from django import forms
from django.contrib import admin, messages
from django.http import HttpResponseRedirect
from django.urls import reverse

from packages_app import namespaces
from packages_app.models import NamespaceGrant
from packages_app.services import namespaces as namespace_services
from packages_app.services.errors import ServiceError


class NamespaceGrantAddForm(forms.ModelForm):
    class Meta:
        model = NamespaceGrant
        fields = ["namespace", "user", "team", "open"]

    def clean(self):
        cleaned = super().clean()
        user, team, namespace = cleaned.get("user"), cleaned.get("team"), cleaned.get("namespace")
        if bool(user) == bool(team):
            raise forms.ValidationError("Grant the namespace to a user or to a team (one of the two).")
        if namespace:
            # The service's own rules, for a form error; it checks them again as it writes.
            try:
                normalized = namespace_services.normalized_namespace(namespace.strip())
            except ServiceError as refusal:
                raise forms.ValidationError(str(refusal)) from refusal
            refusal_text = namespaces.grant_refusal(normalized, user=user, team=team)
            if refusal_text is not None:
                raise forms.ValidationError(refusal_text)
            cleaned["namespace"] = normalized
        return cleaned

    def validate_unique(self):
        """The one-active-grant rule is the service's (``grant_refusal``), with its own words."""


class ActiveFilter(admin.SimpleListFilter):
    title = "active"
    parameter_name = "active"

    def lookups(self, request, model_admin):
        return [("yes", "Active"), ("no", "Revoked")]

    def queryset(self, request, queryset):
        if self.value() == "yes":
            return queryset.filter(revoked__isnull=True)
        if self.value() == "no":
            return queryset.filter(revoked__isnull=False)
        return queryset


@admin.register(NamespaceGrant)
class NamespaceGrantAdmin(admin.ModelAdmin):
    form = NamespaceGrantAddForm
    list_display = ["namespace", "holder", "open", "created", "revoked"]
    list_select_related = ["user", "team"]
    list_filter = [ActiveFilter, "open"]
    search_fields = ["namespace", "user__username", "team__name"]
    raw_id_fields = ["user"]
    actions = ["revoke_namespaces"]
    readonly_fields = ["namespace", "holder", "open", "created", "revoked", "serial"]

    def get_fields(self, request, obj=None):
        return NamespaceGrantAddForm.Meta.fields if obj is None else self.readonly_fields

    def get_readonly_fields(self, request, obj=None):
        return [] if obj is None else self.readonly_fields

    def has_change_permission(self, request, obj=None):
        # The revoke action needs it; an existing grant's page is read-only to everyone.
        return super().has_change_permission(request, obj) and obj is None

    def has_delete_permission(self, request, obj=None):
        return False  # revoked, never deleted

    @admin.display(description="Holder", ordering="user__username")
    def holder(self, obj) -> str:
        return obj.holder_name

    def save_model(self, request, obj, form, change):
        if change:
            return
        grant = namespace_services.grant_namespace(
            obj.namespace, obj.user or obj.team, open=obj.open, user=request.user
        )
        obj.pk = grant.pk

    def changeform_view(self, request, object_id=None, form_url="", extra_context=None):
        try:
            return super().changeform_view(request, object_id, form_url, extra_context)
        except ServiceError as refusal:
            # Granted meanwhile by someone else: the service's reason, back on the form.
            self.message_user(request, str(refusal), messages.ERROR)
            return HttpResponseRedirect(reverse("admin:packages_app_namespacegrant_add"))

    @admin.action(permissions=["change"], description="Revoke selected namespaces")
    def revoke_namespaces(self, request, queryset):
        revoked = 0
        for grant in queryset.filter(revoked__isnull=True):
            try:
                namespace_services.revoke_namespace(grant.namespace, user=request.user)
            except ServiceError as refusal:
                self.message_user(request, str(refusal), messages.ERROR)
            else:
                revoked += 1
        if revoked:
            self.message_user(request, f"Revoked {revoked} namespace(s).", messages.SUCCESS)
        else:
            self.message_user(request, "No active namespace was selected.", messages.WARNING)
