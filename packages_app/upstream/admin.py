"""The admin's view of the upstream: proxied projects, their kept files, and removing them.

Listed read-only (the rows record what happened); "Remove cached files" deletes kept bytes
and their rows (the delete permission), so the next download fetches them from upstream again.
"""

from __future__ import annotations

from django.contrib import admin, messages
from django.db.models import Count, Sum
from django.template.defaultfilters import filesizeformat

from packages_app.models import CachedUpstreamFile, UpstreamProject
from packages_app.upstream import records


class CachedFileInline(admin.TabularInline):
    model = CachedUpstreamFile
    fields = ("filename", "size", "sha256", "fetched")
    readonly_fields = fields
    extra = 0
    max_num = 0
    can_delete = False
    ordering = ["-fetched"]
    show_change_link = False


@admin.register(UpstreamProject)
class UpstreamProjectAdmin(admin.ModelAdmin):
    list_display = ["normalized_name", "cached_files", "cached_size", "first_fetched", "last_fetched"]
    search_fields = ["normalized_name"]
    readonly_fields = ("normalized_name", "first_fetched", "last_fetched", "cached_files", "cached_size")
    fields = readonly_fields
    inlines = [CachedFileInline]
    actions = ["remove_cached_files"]
    ordering = ["normalized_name"]

    def get_queryset(self, request):
        return (
            super()
            .get_queryset(request)
            .annotate(file_count=Count("cached_files"), total_size=Sum("cached_files__size"))
        )

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def get_actions(self, request):
        actions = super().get_actions(request)
        actions.pop("delete_selected", None)  # rows go with their files: "Remove cached files"
        return actions

    def has_delete_permission(self, request, obj=None):
        # The action needs it; the rows themselves are removed only through it.
        return super().has_delete_permission(request, obj) and obj is None

    @admin.display(description="Cached files", ordering="file_count")
    def cached_files(self, obj) -> int:
        return obj.file_count

    @admin.display(description="Size", ordering="total_size")
    def cached_size(self, obj) -> str:
        return filesizeformat(obj.total_size or 0)

    @admin.action(permissions=["delete"], description="Remove cached files (fetched again on the next download)")
    def remove_cached_files(self, request, queryset):
        removed, size = records.remove_cached_files(queryset)
        self.message_user(request, f"Removed {removed} cached file(s), {filesizeformat(size)}.", messages.SUCCESS)
