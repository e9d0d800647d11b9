"""The admin's storage quotas: a project's own limit (on the project's page) and team quotas.

Sizes are typed as people write them (``10GiB``, ``500MB``, bytes) and shown with the usage.
Team quotas need Django's permissions on "team quota"; a project's limit is changed by those
who may change the project.
"""

from __future__ import annotations

from django import forms
from django.contrib import admin
from django.utils.html import format_html_join

from packages_app import quotas
from packages_app.models import TeamQuota
from packages_app.services import quotas as quota_services
from packages_app.sizes import FORMS, human_size, parse_size


class SizeField(forms.CharField):
    """Bytes, typed as ``10GiB``; empty is None."""

    def prepare_value(self, value):
        return value if not isinstance(value, int) else str(value)

    def to_python(self, value):
        value = super().to_python(value).strip()
        if not value:
            return None
        try:
            return parse_size(value)
        except ValueError as exc:
            raise forms.ValidationError(f"Not a size: {FORMS}.") from exc


def storage_display(project) -> str:
    """The project's usage against its limit, and that of each team quota it counts against."""
    rows = [quotas.project_usage(project)] + [quotas.team_usage(quota) for quota in quotas.owning_teams_quotas(project)]
    return format_html_join("", "<div>{}: {}</div>", ((usage.holder, str(usage)) for usage in rows))


class TeamQuotaForm(forms.ModelForm):
    limit = SizeField(help_text="The most the files of every project the team is an Owner of may hold: 50GiB, 500MB.")

    class Meta:
        model = TeamQuota
        fields = ["team", "limit"]


@admin.register(TeamQuota)
class TeamQuotaAdmin(admin.ModelAdmin):
    form = TeamQuotaForm
    list_display = ["team", "limit_shown", "usage"]
    list_select_related = ["team"]
    search_fields = ["team__name"]

    def get_readonly_fields(self, request, obj=None):
        return ["team", "usage"] if obj is not None else []

    def get_fields(self, request, obj=None):
        return ["team", "limit", "usage"] if obj is not None else ["team", "limit"]

    @admin.display(description="Limit", ordering="limit")
    def limit_shown(self, obj) -> str:
        return human_size(obj.limit)

    @admin.display(description="Used")
    def usage(self, obj) -> str:
        return str(quotas.team_usage(obj))

    def save_model(self, request, obj, form, change):
        quota = quota_services.set_team_quota(obj.team, form.cleaned_data["limit"], user=request.user)
        obj.pk = quota.pk if quota is not None else None

    def delete_model(self, request, obj):
        quota_services.set_team_quota(obj.team, None, user=request.user)

    def delete_queryset(self, request, queryset):
        for quota in queryset.select_related("team"):
            quota_services.set_team_quota(quota.team, None, user=request.user)
