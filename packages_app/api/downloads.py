"""Download counts in the metadata API: a project's downloads by day and by release.

Counted in batches by the workers (``packages_app.download_counts``), so the figures trail the
downloads by up to ``DOWNLOAD_COUNT_FLUSH_SECONDS``. Not a stored page: the counts change without
the project's serial moving; the answer gets an ETag from its body like the other lists.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from django.db.models import Sum
from drf_spectacular.utils import OpenApiParameter
from rest_framework import generics, serializers
from rest_framework.exceptions import ParseError
from rest_framework.response import Response

from packages_app.api.annotations import extend_schema
from packages_app.api.views import ApiMixin, find_project
from packages_app.models import DownloadCount, Release

MAX_DAYS = 366
RELEASES_SHOWN = 100


class DayCount(serializers.Serializer):
    date = serializers.DateField()
    downloads = serializers.IntegerField()


class ReleaseCount(serializers.Serializer):
    version = serializers.CharField()
    downloads = serializers.IntegerField()


class DownloadsSerializer(serializers.Serializer):
    project = serializers.CharField()
    days = serializers.IntegerField(help_text="The period: this many days up to today (UTC), today included.")
    total = serializers.IntegerField(help_text="Every download ever counted.")
    in_period = serializers.IntegerField()
    daily = DayCount(many=True, help_text="Each day of the period with downloads, oldest first.")
    releases = ReleaseCount(many=True, help_text=f"The {RELEASES_SHOWN} most downloaded releases of the period.")


@extend_schema(
    parameters=[OpenApiParameter("days", int, description=f"The period in days, 1 to {MAX_DAYS} (default 30).")]
)
class ProjectDownloads(ApiMixin, generics.GenericAPIView):
    """A project's downloads: all-time, and in the last ``days`` days by day and by release."""

    serializer_class = DownloadsSerializer

    def get(self, request, name: str):
        project = find_project(request, name)
        days = self._days(request)
        since = datetime.now(UTC).date() - timedelta(days=days - 1)
        counts = DownloadCount.objects.filter(project=project)
        period = counts.filter(day__gte=since)
        daily = period.values("day").annotate(downloads=Sum("count")).order_by("day")
        by_release = (
            period.values("release_id").annotate(downloads=Sum("count")).order_by("-downloads")[:RELEASES_SHOWN]
        )
        versions = dict(
            Release.objects.filter(pk__in=[row["release_id"] for row in by_release]).values_list("pk", "version")
        )
        body = {
            "project": project.name,
            "days": days,
            "total": counts.aggregate(total=Sum("count"))["total"] or 0,
            "in_period": period.aggregate(total=Sum("count"))["total"] or 0,
            "daily": [{"date": row["day"], "downloads": row["downloads"]} for row in daily],
            "releases": [{"version": versions[row["release_id"]], "downloads": row["downloads"]} for row in by_release],
        }
        return Response(DownloadsSerializer(body).data)

    @staticmethod
    def _days(request) -> int:
        text = request.query_params.get("days", "30")
        if not text.isdigit() or not 1 <= int(text) <= MAX_DAYS:
            raise ParseError(f"'days' must be a whole number from 1 to {MAX_DAYS}.")
        return int(text)
