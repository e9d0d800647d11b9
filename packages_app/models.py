"""The package domain: projects, releases, files, and what records their history.

Invariants live in the database (unique normalised name, unique canonical
version per project, unique filename and sha256, a registry of every filename
ever accepted), so that concurrent writers cannot break them. Writes go
through ``packages_app.services``; these classes only describe the data.
"""

from __future__ import annotations

from django.conf import settings
from django.contrib.auth.models import Group
from django.db import models
from django.db.models import Q
from django.utils import timezone

from packages_app.querysets import JournalQuerySet, ProjectQuerySet, ReleaseQuerySet, RoleQuerySet
from packages_app.storage import metadata_path


class ProjectStatus(models.TextChoices):
    """PEP 792 project status markers."""

    ACTIVE = "active", "Active"
    ARCHIVED = "archived", "Archived"
    QUARANTINED = "quarantined", "Quarantined"
    DEPRECATED = "deprecated", "Deprecated"


class Visibility(models.TextChoices):
    """Who may see a project: everyone who may read the index, or only its role holders and staff."""

    INDEX = "index", "Everyone who may read the index"
    RESTRICTED = "restricted", "Only its role holders, their teams and staff"


class Project(models.Model):
    name = models.CharField(max_length=255, help_text="Display name, as last uploaded.")
    normalized_name = models.CharField(max_length=255, unique=True, help_text="PEP 503 normalised name.")
    created = models.DateTimeField(default=timezone.now, db_index=True)
    last_serial = models.BigIntegerField(default=0, help_text="Serial of the newest journal entry for this project.")
    status = models.CharField(max_length=16, choices=ProjectStatus.choices, default=ProjectStatus.ACTIVE)
    status_reason = models.TextField(blank=True, default="")
    # A default in the database too, so that the previous version's code can insert rows.
    visibility = models.CharField(
        max_length=16, choices=Visibility.choices, default=Visibility.INDEX, db_default=Visibility.INDEX
    )
    quota = models.BigIntegerField(
        null=True,
        blank=True,
        help_text="Largest total size of the project's files, in bytes; empty: the index's MAX_PROJECT_SIZE.",
    )
    # Kept by the file services, under the journal's lock, as files come and go: the quota
    # check reads it instead of adding up every file of the project on each upload.
    total_size = models.BigIntegerField(
        default=0, db_default=0, help_text="Total size of the project's files, in bytes.", editable=False
    )

    objects = ProjectQuerySet.as_manager()

    class Meta:
        ordering = ["normalized_name"]

    def __str__(self) -> str:
        return self.name

    @property
    def is_restricted(self) -> bool:
        return self.visibility == Visibility.RESTRICTED

    @property
    def accepts_uploads(self) -> bool:
        """PEP 792: archived and quarantined projects take no new files."""
        return self.status in (ProjectStatus.ACTIVE, ProjectStatus.DEPRECATED)

    @property
    def offers_files(self) -> bool:
        """PEP 792: a quarantined project offers no distributions."""
        return self.status != ProjectStatus.QUARANTINED


class Release(models.Model):
    """One version of a project; it may have no files at all.

    Metadata fields come from the core metadata spec (field names as in
    PEP 566's JSON form); for uploads they are taken from the first upload's
    form, as PyPI does.
    """

    project = models.ForeignKey(Project, on_delete=models.CASCADE, related_name="releases")
    version = models.CharField(max_length=255, help_text="Version string as uploaded.")
    canonical_version = models.CharField(max_length=255)
    sort_key = models.TextField(help_text="PEP 440 order as a digit string; see packages_app.versions.")
    is_prerelease = models.BooleanField(default=False)
    created = models.DateTimeField(default=timezone.now, db_index=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )

    metadata_version = models.CharField(max_length=16, blank=True, default="")
    summary = models.CharField(max_length=512, blank=True, default="")
    description = models.TextField(blank=True, default="")
    description_content_type = models.CharField(max_length=255, blank=True, default="")
    author = models.TextField(blank=True, default="")
    author_email = models.TextField(blank=True, default="")
    maintainer = models.TextField(blank=True, default="")
    maintainer_email = models.TextField(blank=True, default="")
    license = models.TextField(blank=True, default="")
    license_expression = models.TextField(blank=True, default="")
    license_files = models.JSONField(default=list, blank=True)
    keywords = models.TextField(blank=True, default="", help_text="Comma-separated, as PyPI sends it.")
    classifiers = models.JSONField(default=list, blank=True)
    platform = models.JSONField(default=list, blank=True)
    supported_platform = models.JSONField(default=list, blank=True)
    home_page = models.TextField(blank=True, default="")
    download_url = models.TextField(blank=True, default="")
    project_urls = models.JSONField(default=dict, blank=True, help_text="Label -> URL.")
    requires_python = models.CharField(max_length=255, blank=True, default="")
    requires_dist = models.JSONField(default=list, blank=True)
    provides_extra = models.JSONField(default=list, blank=True)
    requires_external = models.JSONField(default=list, blank=True)
    provides_dist = models.JSONField(default=list, blank=True)
    obsoletes_dist = models.JSONField(default=list, blank=True)
    dynamic = models.JSONField(default=list, blank=True)
    # PEP 794 (metadata 2.5): the names the project provides for import, "; private" kept as written.
    # A default in the database too, so that the previous version's code can insert rows while
    # the new schema is in place (migrations run before the code changes, see docs/deploy.md).
    import_names = models.JSONField(default=list, db_default=[], blank=True)
    import_namespaces = models.JSONField(default=list, db_default=[], blank=True)

    yanked = models.BooleanField(default=False)
    yanked_reason = models.TextField(blank=True, default="")
    # Pinned by its Owners: no retention policy ever deletes it.
    keep = models.BooleanField(
        default=False, db_default=False, help_text="Pinned: retention policies never delete this release."
    )

    objects = ReleaseQuerySet.as_manager()

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["project", "canonical_version"], name="unique_release_per_project"),
        ]
        indexes = [
            models.Index(fields=["project", "sort_key"], name="release_order_idx"),
            # The metadata API's "newest first by date" pages.
            models.Index(fields=["project", "created"], name="release_created_idx"),
            # A project's latest version: non-yanked final releases first, then newest.
            models.Index(fields=["project", "yanked", "is_prerelease", "-sort_key"], name="release_latest_idx"),
        ]
        ordering = ["project", "-sort_key"]

    def __str__(self) -> str:
        return f"{self.project.name} {self.version}"


class PackageType(models.TextChoices):
    SDIST = "sdist", "Source distribution"
    BDIST_WHEEL = "bdist_wheel", "Wheel"
    # Legacy types: accepted only by import_dists, for history.
    BDIST_EGG = "bdist_egg", "Egg"
    BDIST_WININST = "bdist_wininst", "Windows installer"
    BDIST_DUMB = "bdist_dumb", "Dumb binary"
    BDIST_MSI = "bdist_msi", "MSI installer"
    BDIST_RPM = "bdist_rpm", "RPM"
    BDIST_DMG = "bdist_dmg", "macOS disk image"


class File(models.Model):
    release = models.ForeignKey(Release, on_delete=models.CASCADE, related_name="files")
    filename = models.CharField(max_length=255, unique=True)
    packagetype = models.CharField(max_length=16, choices=PackageType.choices)
    python_version = models.CharField(max_length=64, help_text="The upload's pyversion: 'source' or a wheel tag.")
    requires_python = models.CharField(max_length=255, blank=True, default="")
    size = models.BigIntegerField()
    sha256_digest = models.CharField(max_length=64, unique=True)
    md5_digest = models.CharField(max_length=32)
    blake2_256_digest = models.CharField(max_length=64, db_index=True)
    upload_time = models.DateTimeField(default=timezone.now, db_index=True)
    uploaded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    uploaded_by_publisher = models.CharField(
        max_length=255,
        blank=True,
        default="",
        db_default="",
        help_text="The trusted publisher whose minted token uploaded the file, as it read then.",
    )
    user_agent = models.CharField(max_length=512, blank=True, default="")
    comment_text = models.TextField(blank=True, default="")
    path = models.CharField(max_length=512, unique=True, help_text="Storage path, derived from the content hash.")
    metadata_sha256 = models.CharField(
        max_length=64, null=True, blank=True, help_text="sha256 of the PEP 658 .metadata file, when there is one."
    )
    metadata_blake2_256 = models.CharField(max_length=64, null=True, blank=True)

    class Meta:
        ordering = ["filename"]

    def __str__(self) -> str:
        return self.filename

    @property
    def metadata_path(self) -> str | None:
        """PEP 658: the core metadata file sits beside its distribution."""
        return metadata_path(self.path) if self.metadata_sha256 else None


class FilenameRegistry(models.Model):
    """Every filename ever accepted; a deleted file's name can never be reused."""

    filename = models.CharField(max_length=255, unique=True)
    created = models.DateTimeField(default=timezone.now)

    class Meta:
        verbose_name = "registered filename"
        verbose_name_plural = "filename registry"

    def __str__(self) -> str:
        return self.filename


class JournalEntry(models.Model):
    """One change to the index. ``id`` is the global serial (PyPI's journal)."""

    name = models.CharField(max_length=255, db_index=True, help_text="Project display name at the time.")
    # The project's PEP 503 name, so that one project's entries are found whatever its spelling then.
    normalized_name = models.CharField(max_length=255, blank=True, default="", db_default="")
    version = models.CharField(max_length=255, blank=True, default="")
    filename = models.CharField(max_length=255, blank=True, default="")
    action = models.TextField(help_text="What happened, in PyPI's words ('add py3 file ...').")
    kind = models.CharField(
        max_length=32, blank=True, default="", db_default="", help_text="What happened, from services.journal.ACTIONS."
    )
    submitted_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    # The API token the change was made with, as it was then (the token may be revoked or deleted since).
    token_key_id = models.CharField(max_length=32, blank=True, default="", db_default="")
    token_name = models.CharField(max_length=255, blank=True, default="", db_default="")
    publisher = models.CharField(
        max_length=255,
        blank=True,
        default="",
        db_default="",
        help_text="The trusted publisher (a CI workload) whose minted token made the change.",
    )
    submitted_date = models.DateTimeField(default=timezone.now, db_index=True)

    objects = JournalQuerySet.as_manager()

    class Meta:
        ordering = ["id"]
        verbose_name_plural = "journal entries"
        indexes = [models.Index(fields=["normalized_name", "id"], name="journal_project_idx")]

    def __str__(self) -> str:
        return f"#{self.id} {self.name} {self.action}"


class RoleName(models.TextChoices):
    OWNER = "Owner", "Owner"
    MAINTAINER = "Maintainer", "Maintainer"
    # Reads a restricted project; uploads nothing, manages nothing.
    READER = "Reader", "Reader"


# The roles that may upload; Owners alone manage (as on PyPI).
UPLOADING_ROLES = (RoleName.OWNER, RoleName.MAINTAINER)


class Role(models.Model):
    """A role on a project, held by one user or by a team (a Django ``Group``): never both."""

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.CASCADE, related_name="project_roles"
    )
    team = models.ForeignKey(Group, null=True, blank=True, on_delete=models.CASCADE, related_name="project_roles")
    project = models.ForeignKey(Project, on_delete=models.CASCADE, related_name="roles")
    role_name = models.CharField(max_length=16, choices=RoleName.choices)

    objects = RoleQuerySet.as_manager()

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["user", "project"], name="one_role_per_user_and_project"),
            models.UniqueConstraint(fields=["team", "project"], name="one_role_per_team_and_project"),
            models.CheckConstraint(
                condition=Q(user__isnull=False, team__isnull=True) | Q(user__isnull=True, team__isnull=False),
                name="role_held_by_user_or_team",
            ),
        ]
        ordering = ["project", "role_name", "user", "team"]

    def __str__(self) -> str:
        return f"{self.role_name} {self.holder_name} on {self.project}"

    @property
    def holder_name(self) -> str:
        """The user's name, or the team's as ``team:<name>`` (no user name has a colon)."""
        return self.user.get_username() if self.user is not None else f"team:{self.team.name}"


class ApiToken(models.Model):
    """An upload/API token. Only a hash of the secret is stored; see ``packages_app.tokens``."""

    # None for a token minted by trusted publishing: it acts as its publisher, not as a person.
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="api_tokens", null=True, blank=True
    )
    trusted_publisher = models.ForeignKey(
        "TrustedPublisher",
        on_delete=models.CASCADE,
        related_name="tokens",
        null=True,
        blank=True,
        help_text="The trusted publisher this short-lived upload token was minted for.",
    )
    # Every publisher the minting OIDC token met: one workflow may publish several projects,
    # each of which names it. The token uploads to their projects (or creates their pending ones).
    publishers = models.ManyToManyField(
        "TrustedPublisher",
        blank=True,
        related_name="minted_tokens",
        help_text="Every trusted publisher the token was minted for (one workflow may publish several projects).",
    )
    name = models.CharField(max_length=255, blank=True, default="")
    key_id = models.CharField(max_length=32, unique=True, help_text="Public part of the token, used to find it.")
    secret_hash = models.CharField(max_length=64, help_text="sha256 of the secret part.")
    projects = models.ManyToManyField(
        Project, blank=True, related_name="+", help_text="When set, the token only works for these projects."
    )
    # Stored, not read from ``projects``: deleting a limited token's projects must not
    # leave a token that looks unlimited.
    read_only = models.BooleanField(
        default=False,
        db_default=False,
        help_text="The token reads (installs) but never uploads or changes anything.",
    )
    limited_to_projects = models.BooleanField(
        default=False,
        help_text="The token works only for its projects; once they are all deleted it works for none.",
    )
    created = models.DateTimeField(default=timezone.now)
    expires = models.DateTimeField(null=True, blank=True)
    last_used = models.DateTimeField(null=True, blank=True)
    revoked = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created"]
        verbose_name = "API token"
        verbose_name_plural = "API tokens"
        constraints = [
            models.CheckConstraint(condition=~Q(secret_hash=""), name="token_has_hash"),
            # Exactly one holder: a user, or a trusted publisher.
            models.CheckConstraint(
                condition=Q(user__isnull=False, trusted_publisher__isnull=True)
                | Q(user__isnull=True, trusted_publisher__isnull=False),
                name="token_has_one_holder",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.name or 'token'} ({self.key_id})"

    def is_active(self, now=None) -> bool:
        now = now or timezone.now()
        return self.revoked is None and (self.expires is None or self.expires > now)


class PublisherKind(models.TextChoices):
    GITHUB = "github", "GitHub Actions"
    GITLAB = "gitlab", "GitLab CI"
    GENERIC = "generic", "OIDC issuer"


class TrustedPublisher(models.Model):
    """A CI workload allowed to upload to a project with short-lived tokens (trusted publishing).

    ``claims`` are what the workload's OIDC token must carry (see
    ``packages_app.trusted_publishing.claims``). A pending publisher names a project that does not
    exist yet: its first upload creates it, with ``pending_owner`` as its Owner, and the publisher
    then belongs to that project.
    """

    project = models.ForeignKey(
        Project, on_delete=models.CASCADE, related_name="trusted_publishers", null=True, blank=True
    )
    pending_project_name = models.CharField(
        max_length=255, blank=True, default="", help_text="Normalised name of the project its first upload creates."
    )
    pending_owner = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.CASCADE,
        related_name="+",
        null=True,
        blank=True,
        help_text="Made Owner of the project a pending publisher creates.",
    )
    kind = models.CharField(max_length=16, choices=PublisherKind.choices)
    issuer = models.CharField(max_length=255, help_text="The OIDC issuer URL, as its tokens' 'iss' claim reads.")
    claims = models.JSONField(default=dict, help_text="Claim name to the value the token must carry.")
    lookup = models.CharField(
        max_length=255,
        db_index=True,
        help_text="The claim value that finds this publisher (repository, project path, sub).",
    )
    created = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["pk"]
        constraints = [
            models.CheckConstraint(
                condition=Q(project__isnull=False, pending_project_name="")
                | Q(project__isnull=True, pending_owner__isnull=False) & ~Q(pending_project_name=""),
                name="publisher_project_or_pending",
            ),
        ]

    def __str__(self) -> str:
        return self.description

    @property
    def description(self) -> str:
        from packages_app.trusted_publishing.claims import describe

        return describe(self)

    @property
    def project_name(self) -> str:
        return self.project.name if self.project is not None else self.pending_project_name


class OidcTokenUse(models.Model):
    """An OIDC token already exchanged (its ``jti``), kept until it expires: each one mints once.

    In the database, not the cache, so every worker and every restart sees it.
    """

    issuer = models.CharField(max_length=255)
    jti = models.CharField(max_length=255)
    expires = models.DateTimeField(db_index=True)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["issuer", "jti"], name="oidc_token_used_once")]

    def __str__(self) -> str:
        return f"{self.jti} ({self.issuer})"


class UpstreamProject(models.Model):
    """A project served from the upstream index (docs/upstream.md): recorded when its page is first
    fetched, so operators see what came from outside and the root list names it."""

    normalized_name = models.CharField(max_length=255, unique=True)
    first_fetched = models.DateTimeField(default=timezone.now)
    last_fetched = models.DateTimeField(default=timezone.now, help_text="The last page fetched or revalidated.")

    class Meta:
        ordering = ["normalized_name"]
        verbose_name = "proxied project"

    def __str__(self) -> str:
        return self.normalized_name


class CachedUpstreamFile(models.Model):
    """An upstream file (or its ``.metadata``) kept in package storage after its hash matched."""

    project = models.ForeignKey(UpstreamProject, on_delete=models.CASCADE, related_name="cached_files")
    path = models.CharField(max_length=512, unique=True, help_text="Storage path, under upstream/.")
    filename = models.CharField(max_length=255)
    size = models.BigIntegerField()
    sha256 = models.CharField(max_length=64)
    fetched = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["path"]

    def __str__(self) -> str:
        return self.path


class NamespaceGrant(models.Model):
    """A PEP 752 namespace granted to one user or one team (docs/namespaces.md).

    ``namespace`` (normalised) covers the project of that name and every ``<namespace>-*``.
    A grant is revoked, never deleted, so the state at any past moment stays known
    (the snapshot views). ``serial`` is the journal entry of its last change.
    """

    namespace = models.CharField(max_length=255)
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="namespace_grants"
    )
    team = models.ForeignKey(Group, null=True, blank=True, on_delete=models.PROTECT, related_name="namespace_grants")
    open = models.BooleanField(
        default=False,
        help_text="Anyone who may create projects may create them in it (an index policy, not PEP 752's).",
    )
    created = models.DateTimeField(default=timezone.now)
    revoked = models.DateTimeField(null=True, blank=True)
    serial = models.BigIntegerField(default=0)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["namespace"], condition=Q(revoked__isnull=True), name="one_active_grant_per_namespace"
            ),
            models.CheckConstraint(
                condition=Q(user__isnull=False, team__isnull=True) | Q(user__isnull=True, team__isnull=False),
                name="namespace_held_by_user_or_team",
            ),
        ]
        ordering = ["namespace", "-created"]

    def __str__(self) -> str:
        return f"{self.namespace} ({self.holder_name})"

    @property
    def holder_name(self) -> str:
        """The user's name, or the team's as ``team:<name>`` (as a role's holder)."""
        return self.user.get_username() if self.user is not None else f"team:{self.team.name}"


class RetentionPolicy(models.Model):
    """Which dev, pre- and post-releases a project (or, with no project, every project) sheds.

    Applied by ``manage.py apply_retention`` through ``packages_app.retention``: of the releases
    of the policy's kinds whose version matches ``version_pattern``, those beyond the newest
    ``keep_newest`` and created more than ``older_than_days`` ago (both, when both are set) are
    deleted. The newest final release and releases pinned ``keep`` are never touched. A project
    with policies of its own follows those only; the index-wide ones apply to the others.
    """

    project = models.ForeignKey(
        Project,
        on_delete=models.CASCADE,
        related_name="retention_policies",
        null=True,
        blank=True,
        help_text="Empty: an index-wide policy, for every project without policies of its own.",
    )
    dev = models.BooleanField(default=True, help_text="Applies to development releases (1.0.dev3).")
    pre = models.BooleanField(default=False, help_text="Applies to pre-releases (1.0a1, 1.0rc2).")
    post = models.BooleanField(default=False, help_text="Applies to post-releases (1.0.post1).")
    version_pattern = models.CharField(
        max_length=255,
        blank=True,
        default="",
        help_text="Only versions matching this shell-style pattern (2.*, *.dev*); empty: all.",
    )
    keep_newest = models.PositiveIntegerField(
        null=True, blank=True, help_text="Keep this many of the newest matching releases."
    )
    older_than_days = models.PositiveIntegerField(
        null=True, blank=True, help_text="Delete only matching releases created more than this many days ago."
    )
    created = models.DateTimeField(default=timezone.now)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )

    class Meta:
        verbose_name_plural = "retention policies"
        ordering = ["pk"]
        constraints = [
            models.CheckConstraint(
                condition=Q(keep_newest__isnull=False) | Q(older_than_days__isnull=False),
                name="retention_has_a_limit",
            ),
            models.CheckConstraint(condition=Q(dev=True) | Q(pre=True) | Q(post=True), name="retention_has_a_kind"),
        ]

    def __str__(self) -> str:
        from packages_app.retention import describe

        return describe(self)


class TeamQuota(models.Model):
    """A storage limit for a team: the total size of the files of every project it is an Owner of."""

    team = models.OneToOneField(Group, on_delete=models.CASCADE, related_name="quota")
    limit = models.BigIntegerField(help_text="Bytes.")

    class Meta:
        constraints = [models.CheckConstraint(condition=Q(limit__gte=0), name="team_quota_not_negative")]

    def __str__(self) -> str:
        return f"{self.team.name}: {self.limit} bytes"


class DownloadCount(models.Model):
    """How many times a file was downloaded on a day (UTC), added up from the workers in batches
    (``packages_app.download_counts``): no write per download. Its release and project are kept
    too, so a project's or release's figures need no join."""

    file = models.ForeignKey("File", on_delete=models.CASCADE, related_name="download_counts")
    release = models.ForeignKey(Release, on_delete=models.CASCADE, related_name="+")
    project = models.ForeignKey(Project, on_delete=models.CASCADE, related_name="+")
    day = models.DateField()
    count = models.PositiveBigIntegerField(default=0)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["file", "day"], name="one_download_count_per_file_and_day")]
        indexes = [
            models.Index(fields=["project", "day"], name="download_project_day_idx"),
            models.Index(fields=["release", "day"], name="download_release_day_idx"),
        ]

    def __str__(self) -> str:
        return f"{self.file_id} on {self.day}: {self.count}"


class Webhook(models.Model):
    """A receiver of signed POSTs, one per journal event of its project (or of the whole index).

    The journal is the queue (docs/webhooks.md): the worker (``manage.py deliver_webhooks``)
    sends the events after ``last_delivered_serial`` in serial order and moves it only after
    a 2xx, so every state it needs is here and a restart loses nothing. ``secret`` signs the
    deliveries; it is kept as given (signing needs it) and shown once, when the hook is made.
    """

    url = models.URLField(max_length=2000, help_text="Where the events are POSTed (https, or http on a private net).")
    secret = models.CharField(max_length=100, editable=False)
    project = models.ForeignKey(
        Project,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="webhooks",
        help_text="Only this project's events; empty for every project's (index-wide).",
    )
    # The project's PEP 503 name, what the journal is filtered by: a deleted project's hook
    # still gets the deletion, and never becomes index-wide when its project row goes.
    project_name = models.CharField(max_length=255, blank=True, default="", editable=False)
    kinds = models.JSONField(
        default=list, blank=True, help_text="Only these journal actions (docs/api.md); empty for all of them."
    )
    active = models.BooleanField(default=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="webhooks"
    )
    created = models.DateTimeField(default=timezone.now)
    last_delivered_serial = models.BigIntegerField(default=0)
    failure_count = models.PositiveIntegerField(default=0, help_text="Failed attempts since the last delivery.")
    next_attempt_at = models.DateTimeField(null=True, blank=True)
    last_error = models.TextField(blank=True, default="")
    last_success_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["id"]
        permissions = [("add_index_wide_webhook", "Can add a webhook for every project")]

    def __str__(self) -> str:
        return f"webhook #{self.pk} ({self.project_name or 'index-wide'})"


class WebhookDelivery(models.Model):
    """One failed delivery attempt of a webhook, for the admin (the newest are kept)."""

    webhook = models.ForeignKey(Webhook, on_delete=models.CASCADE, related_name="deliveries")
    serial = models.BigIntegerField()
    delivery_id = models.CharField(max_length=64)
    attempted_at = models.DateTimeField(default=timezone.now)
    status_code = models.PositiveSmallIntegerField(null=True, blank=True)
    error = models.TextField()

    class Meta:
        ordering = ["-attempted_at", "-id"]
        verbose_name_plural = "webhook deliveries"

    def __str__(self) -> str:
        return f"{self.webhook} serial {self.serial}: {self.error[:60]}"
