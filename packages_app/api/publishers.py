"""Trusted publishers in the metadata API: a project's Owners list, add and remove its
publishers; any user who may create projects adds pending publishers, which create a named
project on their first upload with that user as its Owner.

A publisher's claims are its project's configuration: only the project's Owners (and
superusers) read them, with an API token like any other write. Adding goes through
``trusted_publishing.service`` (the same checks as ``manage.py add_trusted_publisher``).
"""

from __future__ import annotations

from rest_framework import generics, serializers, status
from rest_framework.exceptions import NotAuthenticated, NotFound, PermissionDenied
from rest_framework.response import Response

from packages_app import naming
from packages_app.access import upload_refusal
from packages_app.api import owners
from packages_app.api.annotations import extend_schema
from packages_app.api.authentication import WritesNeedAnApiToken
from packages_app.api.views import ApiMixin
from packages_app.models import PublisherKind, TrustedPublisher
from packages_app.trusted_publishing import claims as claim_rules
from packages_app.trusted_publishing import service


class PublisherSerializer(serializers.ModelSerializer):
    description = serializers.CharField(read_only=True, help_text="How uploads and the journal name it.")
    project = serializers.SerializerMethodField()
    pending = serializers.SerializerMethodField()

    class Meta:
        model = TrustedPublisher
        fields = ["id", "kind", "issuer", "claims", "description", "project", "pending", "created"]

    def get_project(self, publisher) -> str:
        return publisher.project_name

    def get_pending(self, publisher) -> bool:
        """True until the publisher's first upload creates its project."""
        return publisher.project_id is None


class NewPublisherSerializer(serializers.Serializer):
    kind = serializers.ChoiceField(choices=PublisherKind.choices)
    issuer = serializers.CharField(
        required=False, max_length=255, help_text="The issuer URL; GitHub's and GitLab's public ones by default."
    )
    claims = serializers.DictField(
        child=serializers.CharField(max_length=255, allow_blank=True),
        help_text="GitHub: repository, repository_owner_id, workflow[, environment]; GitLab: project_path, "
        "ci_config_ref_uri[, environment]; any other issuer: the claims that must be equal, sub among them.",
    )

    def validate(self, attrs):
        issuer = attrs.get("issuer") or claim_rules.default_issuer(attrs["kind"])
        if not issuer:
            raise serializers.ValidationError({"issuer": "An issuer URL is needed for this kind of publisher."})
        if len(attrs["claims"]) > 50:
            raise serializers.ValidationError({"claims": "At most 50 claims."})
        return {**attrs, "issuer": issuer}


class NewPendingPublisherSerializer(NewPublisherSerializer):
    project = serializers.CharField(max_length=255, help_text="The project its first upload creates.")

    def validate_project(self, value: str) -> str:
        if not naming.is_valid_project_name(value):
            raise serializers.ValidationError(f"'{value[:100]}' is not a valid project name.")
        return value


class OwnersOnly(owners.OwnersOnly):
    owned_things = "trusted publishers"


class ProjectPublishers(OwnersOnly, generics.GenericAPIView):
    """The project's trusted publishers (its Owners): CI workloads that upload with short-lived tokens."""

    serializer_class = PublisherSerializer

    def get(self, request, name: str):
        project = self.owned_project(request, name)
        publishers = TrustedPublisher.objects.filter(project=project).select_related("project")
        return Response({"results": PublisherSerializer(publishers, many=True).data})

    @extend_schema(request=NewPublisherSerializer, responses={201: PublisherSerializer})
    def post(self, request, name: str):
        """Add a trusted publisher to the project (Owners)."""
        project = self.owned_project(request, name)
        given = NewPublisherSerializer(data=request.data)
        given.is_valid(raise_exception=True)
        data = given.validated_data
        publisher = service.add_publisher(
            data["kind"], data["issuer"], data["claims"], project=project, user=request.user
        )
        return Response(PublisherSerializer(publisher).data, status=status.HTTP_201_CREATED)


class ProjectPublisher(OwnersOnly, generics.GenericAPIView):
    serializer_class = PublisherSerializer

    @extend_schema(operation_id="projects_publisher_retrieve")
    def get(self, request, name: str, pk: int):
        return Response(PublisherSerializer(self._publisher(request, name, pk)).data)

    def delete(self, request, name: str, pk: int):
        """Remove the publisher (Owners): tokens minted with it stop working at once."""
        service.remove_publisher(self._publisher(request, name, pk), user=request.user)
        return Response(status=status.HTTP_204_NO_CONTENT)

    def _publisher(self, request, name: str, pk: int) -> TrustedPublisher:
        project = self.owned_project(request, name)
        publisher = TrustedPublisher.objects.filter(project=project, pk=pk).select_related("project").first()
        if publisher is None:
            raise NotFound(f"Project '{project.name}' has no trusted publisher {pk}.")
        return publisher


class _Signed(ApiMixin):
    permission_classes = [WritesNeedAnApiToken]

    def caller(self, request):
        if request.auth is None or request.auth.publisher is not None:
            raise NotAuthenticated("Pending publishers are a user's own: sign in with an API token.")
        return request.auth


class PendingPublishers(_Signed, generics.GenericAPIView):
    """The caller's pending publishers: each may create one named project, with the caller as its Owner."""

    serializer_class = PublisherSerializer

    def get(self, request):
        self.caller(request)
        mine = TrustedPublisher.objects.filter(project__isnull=True, pending_owner=request.user)
        return Response({"results": PublisherSerializer(mine, many=True).data})

    @extend_schema(request=NewPendingPublisherSerializer, responses={201: PublisherSerializer})
    def post(self, request):
        """Add a pending publisher for a project that does not exist yet (anyone who may create projects)."""
        identity = self.caller(request)
        given = NewPendingPublisherSerializer(data=request.data)
        given.is_valid(raise_exception=True)
        data = given.validated_data
        name = data["project"]
        # Whoever could create the project by uploading may let a workflow create it.
        refusal = upload_refusal(identity, None, name)
        if refusal is not None:
            raise PermissionDenied(refusal)
        publisher = service.add_publisher(
            data["kind"],
            data["issuer"],
            data["claims"],
            pending_name=name,
            pending_owner=identity.user,
            user=request.user,
        )
        return Response(PublisherSerializer(publisher).data, status=status.HTTP_201_CREATED)


class PendingPublisher(_Signed, generics.GenericAPIView):
    serializer_class = PublisherSerializer

    def delete(self, request, pk: int):
        """Remove one of the caller's pending publishers."""
        self.caller(request)
        mine = TrustedPublisher.objects.filter(project__isnull=True, pending_owner=request.user, pk=pk).first()
        if mine is None:
            raise NotFound(f"You have no pending trusted publisher {pk}.")
        service.remove_publisher(mine, user=request.user)
        return Response(status=status.HTTP_204_NO_CONTENT)
