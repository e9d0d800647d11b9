"""What the API says about each thing: plain serializers over rows the views fetch.

Views fetch everything a serializer reads (counts annotated, files and roles
prefetched), so a page costs the same few queries whatever its size.
"""

from __future__ import annotations

from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group
from django.urls import reverse
from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from packages_app import core_metadata, namespaces
from packages_app.links import files_base_url
from packages_app.models import File, JournalEntry, NamespaceGrant, Project, ProjectStatus, Release, Role, Visibility
from packages_app.services.journal import ACTIONS
from packages_app.simple.builders import upload_time_text


class UtcDateTimeField(serializers.DateTimeField):
    """ISO 8601 in UTC with a ``Z``, the form PEP 700 uses for upload times."""

    def to_representation(self, value):
        return upload_time_text(value) if value is not None else None


def project_url(normalized_name: str) -> str:
    return reverse("api:project", args=[normalized_name])


class LinkedProjectSerializer(serializers.ModelSerializer):
    url = serializers.SerializerMethodField()

    class Meta:
        model = Project
        fields = ["name", "normalized_name", "status", "last_serial", "url"]

    def get_url(self, project) -> str:
        return project_url(project.normalized_name)


class RoleSerializer(serializers.ModelSerializer):
    """A role's holder is a user or a team: the other one is null."""

    user = serializers.CharField(source="user.username", allow_null=True)
    team = serializers.CharField(source="team.name", allow_null=True)
    role = serializers.CharField(source="role_name")

    class Meta:
        model = Role
        fields = ["user", "team", "role"]


class ProjectSerializer(serializers.ModelSerializer):
    created = UtcDateTimeField()
    latest_version = serializers.CharField(allow_null=True)
    release_count = serializers.IntegerField()
    file_count = serializers.IntegerField()
    roles = RoleSerializer(many=True)
    links = serializers.SerializerMethodField()

    class Meta:
        model = Project
        fields = [
            "name",
            "normalized_name",
            "status",
            "status_reason",
            "visibility",
            "created",
            "last_serial",
            "latest_version",
            "release_count",
            "file_count",
            "roles",
            "links",
        ]

    @extend_schema_field(
        {"type": "object", "properties": {name: {"type": "string"} for name in ("self", "releases", "simple")}}
    )
    def get_links(self, project) -> dict:
        name = project.normalized_name
        return {
            "self": project_url(name),
            "releases": reverse("api:releases", args=[name]),
            "simple": reverse("simple-project", args=[name]),
        }


def release_url(release: Release, normalized_name: str) -> str:
    return reverse("api:release", args=[normalized_name, release.version])


class ReleaseSummarySerializer(serializers.ModelSerializer):
    created = UtcDateTimeField()
    file_count = serializers.IntegerField()
    url = serializers.SerializerMethodField()

    class Meta:
        model = Release
        fields = [
            "version",
            "created",
            "is_prerelease",
            "yanked",
            "yanked_reason",
            "requires_python",
            "summary",
            "file_count",
            "url",
        ]

    def get_url(self, release) -> str:
        return release_url(release, self.context["normalized_name"])


class CoreMetadataSerializer(serializers.Serializer):
    url = serializers.CharField()
    sha256 = serializers.CharField()


class HashesSerializer(serializers.Serializer):
    md5 = serializers.CharField()
    sha256 = serializers.CharField()
    blake2b_256 = serializers.CharField()


class FileSerializer(serializers.ModelSerializer):
    url = serializers.SerializerMethodField()
    hashes = serializers.SerializerMethodField()
    upload_time = UtcDateTimeField()
    yanked = serializers.BooleanField(source="release.yanked")
    yanked_reason = serializers.CharField(source="release.yanked_reason")
    core_metadata = serializers.SerializerMethodField()
    trusted_publisher = serializers.SerializerMethodField()

    class Meta:
        model = File
        fields = [
            "filename",
            "url",
            "hashes",
            "size",
            "upload_time",
            "packagetype",
            "python_version",
            "requires_python",
            "yanked",
            "yanked_reason",
            "core_metadata",
            "trusted_publisher",
        ]

    @extend_schema_field(serializers.CharField(allow_null=True))
    def get_trusted_publisher(self, file) -> str | None:
        """The trusted publisher (a CI workload) whose minted token uploaded the file, or null."""
        return file.uploaded_by_publisher or None

    def _url(self, file) -> str:
        if "files_base_url" not in self.context:
            self.context["files_base_url"] = files_base_url()
        return self.context["files_base_url"] + file.path

    def get_url(self, file) -> str:
        return self._url(file)

    @extend_schema_field(HashesSerializer)
    def get_hashes(self, file) -> dict:
        return {"md5": file.md5_digest, "sha256": file.sha256_digest, "blake2b_256": file.blake2_256_digest}

    @extend_schema_field(CoreMetadataSerializer(allow_null=True))
    def get_core_metadata(self, file) -> dict | None:
        """PEP 658: where the wheel's METADATA is served, and its sha256."""
        if not file.metadata_sha256:
            return None
        return {"url": self._url(file) + ".metadata", "sha256": file.metadata_sha256}


class ReleaseSerializer(serializers.ModelSerializer):
    """A release with its complete core metadata (field names as in PEP 566's JSON form)."""

    project = serializers.CharField(source="project.name")
    created = UtcDateTimeField()
    files = FileSerializer(many=True)
    links = serializers.SerializerMethodField()

    class Meta:
        model = Release
        fields = [
            "project",
            "version",
            "created",
            "is_prerelease",
            "yanked",
            "yanked_reason",
            *core_metadata.COLUMNS,
            "files",
            "links",
        ]

    @extend_schema_field({"type": "object", "properties": {"self": {"type": "string"}, "project": {"type": "string"}}})
    def get_links(self, release) -> dict:
        name = release.project.normalized_name
        return {"self": release_url(release, name), "project": project_url(name)}


class FileLookupSerializer(FileSerializer):
    project = serializers.CharField(source="release.project.name")
    version = serializers.CharField(source="release.version")
    release_url = serializers.SerializerMethodField()

    class Meta(FileSerializer.Meta):
        fields = ["project", "version", "release_url", *FileSerializer.Meta.fields]

    def get_release_url(self, file) -> str:
        return release_url(file.release, file.release.project.normalized_name)


class TokenRefSerializer(serializers.Serializer):
    key_id = serializers.CharField()
    name = serializers.CharField()


class ActorSerializer(serializers.Serializer):
    type = serializers.ChoiceField(choices=["user", "token", "trusted-publisher", "none"])
    user = serializers.CharField(allow_null=True)
    token = TokenRefSerializer(allow_null=True)
    publisher = serializers.CharField(
        allow_null=True, help_text="The trusted publisher (a CI workload) whose minted token made the change."
    )


class EventSerializer(serializers.ModelSerializer):
    serial = serializers.IntegerField(source="id")
    project = serializers.CharField(source="name")
    action = serializers.ChoiceField(source="kind", choices=sorted(ACTIONS))
    description = serializers.CharField(source="action")
    actor = serializers.SerializerMethodField()
    timestamp = UtcDateTimeField(source="submitted_date")

    class Meta:
        model = JournalEntry
        fields = ["serial", "project", "version", "filename", "action", "description", "actor", "timestamp"]

    @extend_schema_field(ActorSerializer)
    def get_actor(self, entry) -> dict:
        """Who made the change: a user, a user's API token, a trusted publisher's minted token, or
        nobody signed in (an operator's command).

        Which token (key id and name) only its own user and superusers are told: token
        details appear on no public answer.
        """
        user = entry.submitted_by.get_username() if entry.submitted_by is not None else None
        if entry.publisher:
            return {"type": "trusted-publisher", "user": None, "token": None, "publisher": entry.publisher}
        if not entry.token_key_id:
            return {"type": "user" if user is not None else "none", "user": user, "token": None, "publisher": None}
        caller = getattr(self.context.get("request"), "user", None)
        may_see = (
            caller is not None
            and caller.is_authenticated
            and (caller.is_superuser or caller.pk == entry.submitted_by_id)
        )
        token = {"key_id": entry.token_key_id, "name": entry.token_name} if may_see else None
        return {"type": "token", "user": user, "token": token, "publisher": None}


class UserRoleSerializer(serializers.ModelSerializer):
    project = LinkedProjectSerializer()
    role = serializers.CharField(source="role_name")

    class Meta:
        model = Role
        fields = ["project", "role"]


# ---------------------------------------------------------------- writes


class YankSerializer(serializers.Serializer):
    reason = serializers.CharField(required=False, allow_blank=True, default="", max_length=10_000)


class StatusSerializer(serializers.Serializer):
    status = serializers.ChoiceField(choices=ProjectStatus.values)
    reason = serializers.CharField(required=False, allow_blank=True, default="", max_length=10_000)


class VisibilitySerializer(serializers.Serializer):
    visibility = serializers.ChoiceField(choices=Visibility.values)


class NewReleaseSerializer(serializers.Serializer):
    """A release registered without files (it may get files by upload later)."""

    version = serializers.CharField(max_length=255)
    summary = serializers.CharField(required=False, allow_blank=True, max_length=512)
    description = serializers.CharField(required=False, allow_blank=True, max_length=1_000_000)
    description_content_type = serializers.CharField(required=False, allow_blank=True, max_length=255)
    requires_python = serializers.CharField(required=False, allow_blank=True, max_length=255)
    requires_dist = serializers.ListField(child=serializers.CharField(max_length=1000), required=False, max_length=1000)
    classifiers = serializers.ListField(child=serializers.CharField(max_length=255), required=False, max_length=1000)
    project_urls = serializers.DictField(child=serializers.URLField(max_length=1000), required=False)


# ---------------------------------------------------------------- namespaces (PEP 752)


class NamespaceSerializer(serializers.ModelSerializer):
    """A namespace grant; ``parent`` and ``children`` are among the active grants.

    ``revoked`` is sent only when revoked grants are asked for (or one was just revoked).
    """

    # The view's context: ``active_names`` (every active namespace) and ``include_revoked``.

    name = serializers.CharField(source="namespace")
    holder = serializers.CharField(source="holder_name", help_text='A user name, or "team:<name>".')
    parent = serializers.SerializerMethodField()
    children = serializers.SerializerMethodField()
    created = UtcDateTimeField()
    revoked = UtcDateTimeField(allow_null=True, required=False, help_text="Sent with ?include_revoked=1 only.")

    class Meta:
        model = NamespaceGrant
        fields = ["name", "holder", "open", "parent", "children", "created", "revoked"]

    def get_parent(self, grant) -> str | None:
        return namespaces.parent_of(grant.namespace, self.context["active_names"])

    def get_children(self, grant) -> list[str]:
        if grant.revoked is not None:
            return []
        return namespaces.children_of(grant.namespace, self.context["active_names"])

    def to_representation(self, grant):
        data = super().to_representation(grant)
        if not self.context.get("include_revoked"):
            data.pop("revoked")
        return data


class NewNamespaceSerializer(serializers.Serializer):
    """A grant to a user or to a team (one of the two), by name."""

    namespace = serializers.CharField(max_length=255)
    user = serializers.CharField(required=False, max_length=150)
    team = serializers.CharField(required=False, max_length=150)
    open = serializers.BooleanField(required=False, default=False)

    def validate(self, data):
        if ("user" in data) == ("team" in data):
            raise serializers.ValidationError("Grant the namespace to a 'user' or to a 'team' (one of the two).")
        if "user" in data:
            member = get_user_model().objects.filter(username=data["user"]).first()
            if member is None:
                raise serializers.ValidationError({"user": [f"There is no user named '{data['user']}'."]})
        else:
            member = Group.objects.filter(name=data["team"]).first()
            if member is None:
                raise serializers.ValidationError({"team": [f"There is no team named '{data['team']}'."]})
        return {**data, "member": member}
