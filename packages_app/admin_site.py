"""The index's admin site: Django's, with its name and a dashboard on the front page.

apps.IndexAdminConfig makes it the default site, so ``admin.site`` (the
ModelAdmin registrations in admin.py, the URLs) is this one.
"""

from __future__ import annotations

from django.contrib import admin
from django.db.models import Count, Sum

from packages_app.models import File, JournalEntry, Project, Release
from packages_app.services import tokens as token_services

DASHBOARD_ROWS = 10


class IndexAdminSite(admin.AdminSite):
    site_header = "Package index administration"
    site_title = "Package index"
    index_template = "admin/packages_app/dashboard.html"

    def index(self, request, extra_context=None):
        return super().index(request, {**(extra_context or {}), "dashboard": self.dashboard(request)})

    def dashboard(self, request) -> dict:
        """The admin's front page: totals, the latest uploads and the newest journal entries.

        Uploads and journal entries are shown only to those who may view them; token events
        (who made or revoked which token) only to superusers, as on the journal's own page.
        """
        totals = File.objects.aggregate(files=Count("pk"), storage=Sum("size"))
        may_view = {model: self.get_model_admin(model).has_view_permission(request) for model in (File, JournalEntry)}
        latest_files = journal = None
        if may_view[File]:
            latest_files = File.objects.select_related("uploaded_by").order_by("-upload_time")[:DASHBOARD_ROWS]
        if may_view[JournalEntry]:
            entries = JournalEntry.objects.select_related("submitted_by").order_by("-id")
            if not request.user.is_superuser:
                entries = entries.exclude(token_services.journal_entries_about_tokens())
            journal = entries[:DASHBOARD_ROWS]
        return {
            "projects": Project.objects.count(),
            "releases": Release.objects.count(),
            "files": totals["files"],
            "storage": totals["storage"] or 0,
            "last_serial": JournalEntry.objects.last_serial(),
            "latest_files": latest_files,
            "journal": journal,
        }
