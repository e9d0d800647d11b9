"""The one home of the index's reads: how a project, a release, a role or the journal is looked up.

Each rule (a name matches by its PEP 503 form, a quarantined project offers no files, which
release is "the latest") is written once here and reached as ``Model.objects.<read>()`` or
through a relation (``project.releases.by_version(v)``). Who may see a project
(its visibility) is ``ProjectQuerySet.visible_to(viewer)``.
"""

from __future__ import annotations

from django.db import models
from django.db.models import Case, Count, IntegerField, OuterRef, Prefetch, Q, Subquery, Value, When
from django.db.models.functions import Coalesce

from packages_app import naming

# The models module attaches these querysets, so the models are imported inside the methods.


def count_of(queryset: models.QuerySet, **outer) -> Coalesce:
    """A correlated count (0 when none): only the rows a page shows are counted, unlike a GROUP BY."""
    counted = queryset.filter(**outer).order_by().values(*outer).annotate(n=Count("pk")).values("n")
    return Coalesce(Subquery(counted, output_field=IntegerField()), Value(0))


class ProjectQuerySet(models.QuerySet):
    def by_name(self, name: str) -> ProjectQuerySet:
        """The project whose PEP 503 name is this name's, whatever its spelling."""
        return self.filter(normalized_name=naming.normalize_name(name))

    def visible_to(self, viewer) -> ProjectQuerySet:
        """The projects ``viewer`` (an ``access.Viewer``) may see: every one open to the index,
        and the restricted ones it holds a role on. Everyone else is told they do not exist."""
        from packages_app.models import Visibility

        return self.filter(Q(visibility=Visibility.INDEX) | Q(pk__in=viewer.restricted_ids))

    def open_to_index(self) -> ProjectQuerySet:
        """The projects every reader of the index sees (the shared pages' projects)."""
        from packages_app.models import Visibility

        return self.filter(visibility=Visibility.INDEX)

    def offering_files(self) -> ProjectQuerySet:
        """PEP 792: every project but the quarantined ones, which offer no files or versions."""
        from packages_app.models import ProjectStatus

        return self.exclude(status=ProjectStatus.QUARANTINED)

    def with_details(self) -> ProjectQuerySet:
        """With ``release_count``, ``file_count``, ``latest_version`` and the roles, Owners first."""
        from packages_app.models import File, Release, Role

        latest = Release.objects.filter(project=OuterRef("pk")).in_latest_order().values("version")
        return self.annotate(
            release_count=count_of(Release.objects, project=OuterRef("pk")),
            file_count=count_of(File.objects, release__project=OuterRef("pk")),
            latest_version=Subquery(latest[:1]),
        ).prefetch_related(Prefetch("roles", queryset=Role.objects.select_related("user", "team").owners_first()))


class ReleaseQuerySet(models.QuerySet):
    def by_version(self, version: str) -> ReleaseQuerySet:
        """The release this version string names: ``1.0`` and ``1.0.0`` are one release."""
        return self.filter(canonical_version=naming.canonical_version(version))

    def newest_first(self) -> ReleaseQuerySet:
        """PEP 440 order, highest version first (legacy versions after every PEP 440 one)."""
        return self.order_by("-sort_key")

    def offering_files(self) -> ReleaseQuerySet:
        """Releases of projects that offer files (PEP 792: not quarantined)."""
        from packages_app.models import ProjectStatus

        return self.exclude(project__status=ProjectStatus.QUARANTINED)

    def in_latest_order(self) -> ReleaseQuerySet:
        """What PyPI calls the latest first: non-yanked, then final releases, then the highest version."""
        return self.order_by("yanked", "is_prerelease", "-sort_key")

    def latest(self, *fields):
        """With no fields, the latest release (see ``in_latest_order``), or None when there is none.

        Django's ``latest(field)`` is kept for callers that name a field.
        """
        if fields:
            return super().latest(*fields)
        return self.in_latest_order().first()


class RoleQuerySet(models.QuerySet):
    def held_by(self, user) -> RoleQuerySet:
        """The roles ``user`` holds, its own and its teams' (Django groups)."""
        return self.filter(Q(user=user) | Q(team__user=user))

    def owners_first(self, *then: str) -> RoleQuerySet:
        """Owners, then Maintainers, then Readers, then by ``then`` (the user name unless given;
        teams after users, by name), as PyPI lists them."""
        from packages_app.models import RoleName

        rank = Case(When(role_name=RoleName.OWNER, then=0), When(role_name=RoleName.MAINTAINER, then=1), default=2)
        return self.order_by(rank, *(then or ("user__username", "team__name")))

    def offering_files(self) -> RoleQuerySet:
        """Roles on projects that offer files (PEP 792: not quarantined)."""
        from packages_app.models import ProjectStatus

        return self.exclude(project__status=ProjectStatus.QUARANTINED)


class JournalQuerySet(models.QuerySet):
    def published(self) -> JournalQuerySet:
        """Entries about projects, what mirror feeds send; token events name no project and stay out."""
        return self.exclude(name="")

    def seen_by(self, viewer) -> JournalQuerySet:
        """Without the entries of restricted projects ``viewer`` may not see: not even their names show."""
        from packages_app.models import Project, Visibility

        hidden = Project.objects.filter(visibility=Visibility.RESTRICTED).exclude(pk__in=viewer.restricted_ids)
        return self.exclude(normalized_name__in=hidden.values("normalized_name"))

    def of_project(self, name: str) -> JournalQuerySet:
        """A project's entries by the PEP 503 name kept on each, so a deleted project's history is found too."""
        return self.filter(normalized_name=naming.normalize_name(name))

    def between(self, after: int, until: int) -> JournalQuerySet:
        """The entries after serial ``after`` up to ``until``: what changed from one to the other."""
        return self.filter(id__gt=after, id__lte=until)

    def last_serial(self) -> int:
        """The newest serial, 0 for an empty journal."""
        return self.order_by("-id").values_list("id", flat=True).first() or 0

    def last_entry(self):
        """The newest serial and when it was written; ``(0, None)`` for an empty journal."""
        return self.order_by("-id").values_list("id", "submitted_date").first() or (0, None)

    def submitted_at(self, serial: int):
        return self.filter(id=serial).values_list("submitted_date", flat=True).first()
