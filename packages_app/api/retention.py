"""Retention policies in the metadata API: a project's Owners manage its policies, pin its
releases and preview what applying would delete; staff holding the model permissions manage
the index-wide policies. ``manage.py apply_retention`` applies them (docs/retention.md).
"""

from __future__ import annotations

from rest_framework import generics, serializers, status
from rest_framework.exceptions import NotFound, PermissionDenied
from rest_framework.response import Response

from packages_app.access import is_staff
from packages_app.api import owners
from packages_app.api.annotations import extend_schema
from packages_app.api.authentication import WritesNeedAnApiToken
from packages_app.api.views import ApiMixin, find_release
from packages_app.models import RetentionPolicy
from packages_app.services import retention as retention_services


class PolicySerializer(serializers.ModelSerializer):
    project = serializers.SerializerMethodField()
    description = serializers.CharField(source="__str__", read_only=True)

    class Meta:
        model = RetentionPolicy
        fields = [
            "id",
            "project",
            "dev",
            "pre",
            "post",
            "version_pattern",
            "keep_newest",
            "older_than_days",
            "description",
            "created",
        ]
        read_only_fields = ["id", "created"]

    def get_project(self, policy) -> str | None:
        """The project's name; null for an index-wide policy."""
        return policy.project.name if policy.project_id is not None else None


class NewPolicySerializer(serializers.Serializer):
    dev = serializers.BooleanField(default=True)
    pre = serializers.BooleanField(default=False)
    post = serializers.BooleanField(default=False)
    version_pattern = serializers.CharField(required=False, allow_blank=True, default="", max_length=255)
    keep_newest = serializers.IntegerField(required=False, allow_null=True, min_value=0, max_value=1_000_000)
    older_than_days = serializers.IntegerField(required=False, allow_null=True, min_value=0, max_value=100_000)


class DoomedSerializer(serializers.Serializer):
    version = serializers.CharField()
    files = serializers.IntegerField()
    size = serializers.IntegerField()
    policy = serializers.CharField()


class KeepSerializer(serializers.Serializer):
    keep = serializers.BooleanField()


def _add(project, data: dict, user) -> RetentionPolicy:
    policy = retention_services.add_policy(
        project,
        dev=data["dev"],
        pre=data["pre"],
        post=data["post"],
        version_pattern=data["version_pattern"],
        keep_newest=data.get("keep_newest"),
        older_than_days=data.get("older_than_days"),
        user=user,
    )
    return RetentionPolicy.objects.select_related("project").get(pk=policy.pk)


class OwnersOnly(owners.OwnersOnly):
    owned_things = "retention policies"


class ProjectPolicies(OwnersOnly, generics.GenericAPIView):
    """The project's retention policies (its Owners); without any, the index-wide ones apply."""

    serializer_class = PolicySerializer

    def get(self, request, name: str):
        project = self.owned_project(request, name)
        policies = RetentionPolicy.objects.filter(project=project).select_related("project")
        return Response({"results": PolicySerializer(policies, many=True).data})

    @extend_schema(request=NewPolicySerializer, responses={201: PolicySerializer})
    def post(self, request, name: str):
        """Add a retention policy to the project (Owners)."""
        project = self.owned_project(request, name)
        given = NewPolicySerializer(data=request.data)
        given.is_valid(raise_exception=True)
        return Response(PolicySerializer(_add(project, given.validated_data, request.user)).data, status=201)


class ProjectPolicy(OwnersOnly, generics.GenericAPIView):
    serializer_class = PolicySerializer

    def delete(self, request, name: str, pk: int):
        """Remove one of the project's policies (Owners)."""
        project = self.owned_project(request, name)
        policy = RetentionPolicy.objects.filter(project=project, pk=pk).first()
        if policy is None:
            raise NotFound(f"Project '{project.name}' has no retention policy {pk}.")
        retention_services.remove_policy(policy, user=request.user)
        return Response(status=status.HTTP_204_NO_CONTENT)


class RetentionPreview(OwnersOnly, generics.GenericAPIView):
    """What applying the policies now would delete from the project, oldest first (Owners)."""

    serializer_class = DoomedSerializer

    def get(self, request, name: str):
        project = self.owned_project(request, name)
        doomed = list(retention_services.plan(project))
        return Response({"results": DoomedSerializer(doomed, many=True).data})


class PinRelease(OwnersOnly, generics.GenericAPIView):
    """Pin a release so no retention policy deletes it, or unpin it (Owners)."""

    serializer_class = KeepSerializer

    @extend_schema(request=KeepSerializer, responses=KeepSerializer)
    def post(self, request, name: str, version: str):
        project = self.owned_project(request, name)
        release = find_release(project, version)
        given = KeepSerializer(data=request.data)
        given.is_valid(raise_exception=True)
        release = retention_services.set_keep(release, given.validated_data["keep"], user=request.user)
        return Response({"keep": release.keep})


class _IndexWideWrites(ApiMixin):
    permission_classes = [WritesNeedAnApiToken]

    def check_staff(self, request, permission: str) -> None:
        identity = request.auth
        if identity is None or not is_staff(identity):
            raise PermissionDenied("Index-wide retention policies are for staff; ask an administrator.")
        if not identity.user.has_perm(permission):
            raise PermissionDenied(f"This needs the permission {permission}; ask an administrator.")
        if identity.token is not None and identity.token.limited_to_projects:
            raise PermissionDenied("This token is limited to projects; index-wide policies need one for every project.")


class IndexPolicies(_IndexWideWrites, generics.GenericAPIView):
    """The index-wide retention policies: every project without policies of its own follows them."""

    serializer_class = PolicySerializer

    def get(self, request):
        self.check_staff(request, "packages_app.view_retentionpolicy")
        policies = RetentionPolicy.objects.filter(project__isnull=True)
        return Response({"results": PolicySerializer(policies, many=True).data})

    @extend_schema(request=NewPolicySerializer, responses={201: PolicySerializer})
    def post(self, request):
        """Add an index-wide policy (staff with packages_app.add_retentionpolicy)."""
        self.check_staff(request, "packages_app.add_retentionpolicy")
        given = NewPolicySerializer(data=request.data)
        given.is_valid(raise_exception=True)
        return Response(PolicySerializer(_add(None, given.validated_data, request.user)).data, status=201)


class IndexPolicy(_IndexWideWrites, generics.GenericAPIView):
    serializer_class = PolicySerializer

    def delete(self, request, pk: int):
        """Remove an index-wide policy (staff with packages_app.delete_retentionpolicy)."""
        self.check_staff(request, "packages_app.delete_retentionpolicy")
        policy = RetentionPolicy.objects.filter(project__isnull=True, pk=pk).first()
        if policy is None:
            raise NotFound(f"There is no index-wide retention policy {pk}.")
        retention_services.remove_policy(policy, user=request.user)
        return Response(status=status.HTTP_204_NO_CONTENT)
