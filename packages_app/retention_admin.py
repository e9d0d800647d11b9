"""The admin's retention policies: listed, added and removed through the services.

Real Django permissions decide who comes in (view, add and delete on "retention policy"; a
policy is never edited: other limits are another policy). Index-wide policies are for every
staff user holding them; a project's policies only for that project's Owners (and superusers).
``manage.py apply_retention`` applies them; a project policy's page previews what it selects.
"""

from __future__ import annotations

from django import forms
from django.contrib import admin
from django.template.defaultfilters import filesizeformat

from packages_app import retention
from packages_app.models import RetentionPolicy
from packages_app.owners_admin import FormForRequestUser, owned_projects
from packages_app.services import retention as retention_services

PREVIEW_SHOWN = 20


class RetentionPolicyForm(forms.ModelForm):
    class Meta:
        model = RetentionPolicy
        fields = ["project", "dev", "pre", "post", "version_pattern", "keep_newest", "older_than_days"]

    def __init__(self, *args, user=None, **kwargs):
        super().__init__(*args, **kwargs)
        if "project" in self.fields:  # not on a policy's own page, where every field is read-only
            self.fields["project"].queryset = owned_projects(user).order_by("normalized_name")

    def clean(self):
        cleaned = super().clean()
        if not any(cleaned.get(kind) for kind in retention.KINDS):
            raise forms.ValidationError("Choose the kinds of releases it applies to: dev, pre or post.")
        if cleaned.get("keep_newest") is None and cleaned.get("older_than_days") is None:
            raise forms.ValidationError("Set how many to keep, how old they must be to go, or both.")
        return cleaned

    def validate_constraints(self, exclude=None):
        """The same rules, said above in the form's words."""


@admin.register(RetentionPolicy)
class RetentionPolicyAdmin(FormForRequestUser, admin.ModelAdmin):
    form = RetentionPolicyForm
    list_display = ["__str__", "project", "created", "created_by"]
    list_select_related = ["project", "created_by"]
    search_fields = ["project__normalized_name", "version_pattern"]
    readonly_fields = [*RetentionPolicyForm.Meta.fields, "created", "created_by", "would_delete_now"]

    def get_queryset(self, request):
        policies = super().get_queryset(request)
        if request.user.is_superuser:
            return policies
        return policies.filter(project__in=owned_projects(request.user)) | policies.filter(project__isnull=True)

    def get_fields(self, request, obj=None):
        return RetentionPolicyForm.Meta.fields if obj is None else self.readonly_fields

    def get_readonly_fields(self, request, obj=None):
        return [] if obj is None else self.readonly_fields

    def has_change_permission(self, request, obj=None):
        return False  # other limits are another policy: add that one, remove this one

    def has_delete_permission(self, request, obj=None):
        allowed = super().has_delete_permission(request, obj)
        if obj is None or obj.project_id is None or request.user.is_superuser:
            return allowed
        return allowed and owned_projects(request.user).filter(pk=obj.project_id).exists()

    def get_actions(self, request):
        actions = super().get_actions(request)
        actions.pop("delete_selected", None)
        return actions

    def save_model(self, request, obj, form, change):
        data = form.cleaned_data
        policy = retention_services.add_policy(
            data.get("project"),
            dev=data["dev"],
            pre=data["pre"],
            post=data["post"],
            version_pattern=data.get("version_pattern") or "",
            keep_newest=data.get("keep_newest"),
            older_than_days=data.get("older_than_days"),
            user=request.user,
        )
        obj.pk = policy.pk

    def delete_model(self, request, obj):
        retention_services.remove_policy(obj, user=request.user)

    @admin.display(description="Would delete now")
    def would_delete_now(self, obj) -> str:
        """This policy alone, on its project (an index-wide one is previewed by ``apply_retention --dry-run``)."""
        if obj.project_id is None:
            return "Index-wide: run manage.py apply_retention --dry-run to see what all policies select."
        doomed = retention.with_sizes(retention.doomed_releases(obj.project, [obj]))
        if not doomed:
            return "Nothing."
        size = filesizeformat(sum(item.size for item in doomed))
        shown = ", ".join(item.version for item in doomed[:PREVIEW_SHOWN])
        more = f" and {len(doomed) - PREVIEW_SHOWN} more" if len(doomed) > PREVIEW_SHOWN else ""
        return f"{len(doomed)} release(s), {size}: {shown}{more}"
