"""Webhooks in the metadata API: a project's Owners list, add and remove its webhooks; staff
with the "add a webhook for every project" permission (and superusers) the index-wide ones.

A webhook's URL is its project's configuration: only those who manage it read it, with an API
token like any other write. The secret is in the answer that adds the webhook, and never again.
Adding and removing go through ``services.webhooks`` (journaled), as in the admin.
"""

from __future__ import annotations

from rest_framework import generics, serializers, status
from rest_framework.exceptions import NotAuthenticated, NotFound, PermissionDenied
from rest_framework.response import Response

from packages_app.api import owners
from packages_app.api.annotations import extend_schema
from packages_app.api.authentication import WritesNeedAnApiToken
from packages_app.api.serializers import UtcDateTimeField
from packages_app.api.views import ApiMixin
from packages_app.models import JournalEntry, Project, Webhook
from packages_app.services import webhooks as webhook_services
from packages_app.services.errors import ServiceError

INDEX_WIDE_PERMISSION = "packages_app.add_index_wide_webhook"


class WebhookSerializer(serializers.ModelSerializer):
    project = serializers.SerializerMethodField()
    lag = serializers.SerializerMethodField()
    created = UtcDateTimeField()
    next_attempt_at = UtcDateTimeField(allow_null=True)
    last_success_at = UtcDateTimeField(allow_null=True)

    class Meta:
        model = Webhook
        fields = [
            "id",
            "url",
            "project",
            "kinds",
            "active",
            "created",
            "last_delivered_serial",
            "lag",
            "failure_count",
            "next_attempt_at",
            "last_error",
            "last_success_at",
        ]

    def get_project(self, hook) -> str | None:
        """The project's normalised name; null for an index-wide webhook."""
        return hook.project_name or None

    def get_lag(self, hook) -> int:
        """Journal serials it is behind: the journal's last serial minus its last delivered one."""
        last = self.context.get("last_serial")
        last = JournalEntry.objects.last_serial() if last is None else last
        return max(last - hook.last_delivered_serial, 0)


class CreatedWebhookSerializer(WebhookSerializer):
    secret = serializers.CharField(help_text="Signs every delivery; shown in this answer only.")

    class Meta(WebhookSerializer.Meta):
        fields = [*WebhookSerializer.Meta.fields, "secret"]


class NewWebhookSerializer(serializers.Serializer):
    url = serializers.URLField(max_length=2000, help_text="Where the events are POSTed, signed (docs/webhooks.md).")
    kinds = serializers.ListField(
        child=serializers.ChoiceField(choices=sorted(webhook_services.DELIVERABLE_KINDS)),
        required=False,
        default=list,
        max_length=50,
        help_text="The actions to send; empty or absent sends every one.",
    )


def _listed(hooks) -> Response:
    context = {"last_serial": JournalEntry.objects.last_serial()}
    return Response({"results": WebhookSerializer(hooks, many=True, context=context).data})


def _added(request, project: Project | None) -> Response:
    given = NewWebhookSerializer(data=request.data)
    given.is_valid(raise_exception=True)
    try:
        hook, secret = webhook_services.add_webhook(
            given.validated_data["url"], project=project, kinds=given.validated_data["kinds"], user=request.user
        )
    except ServiceError as refusal:
        raise serializers.ValidationError({"url": [str(refusal)]}) from refusal
    hook.secret = secret
    return Response(CreatedWebhookSerializer(hook).data, status=status.HTTP_201_CREATED)


class _OwnersOnly(owners.OwnersOnly):
    owned_things = "webhooks"

    def hook(self, request, name: str, pk: int) -> Webhook:
        project = self.owned_project(request, name)
        hook = Webhook.objects.filter(project_name=project.normalized_name, pk=pk).first()
        if hook is None:
            raise NotFound(f"Project '{project.name}' has no webhook {pk}.")
        return hook


class ProjectWebhooks(_OwnersOnly, generics.GenericAPIView):
    """The project's webhooks (its Owners): receivers of its journal events, signed."""

    serializer_class = WebhookSerializer

    def get(self, request, name: str):
        project = self.owned_project(request, name)
        return _listed(Webhook.objects.filter(project_name=project.normalized_name))

    @extend_schema(request=NewWebhookSerializer, responses={201: CreatedWebhookSerializer})
    def post(self, request, name: str):
        """Add a webhook for the project's events from now on (Owners); the answer holds its secret, once."""
        return _added(request, self.owned_project(request, name))


class ProjectWebhook(_OwnersOnly, generics.GenericAPIView):
    serializer_class = WebhookSerializer

    @extend_schema(operation_id="projects_webhook_retrieve")
    def get(self, request, name: str, pk: int):
        return Response(WebhookSerializer(self.hook(request, name, pk)).data)

    def delete(self, request, name: str, pk: int):
        """Remove the webhook (Owners): nothing more is sent to it."""
        webhook_services.remove_webhook(self.hook(request, name, pk), user=request.user)
        return Response(status=status.HTTP_204_NO_CONTENT)


class _IndexWide(ApiMixin):
    permission_classes = [WritesNeedAnApiToken]

    def caller(self, request):
        identity = request.auth
        if identity is None or identity.publisher is not None:
            raise NotAuthenticated("Index-wide webhooks are for staff: sign in with an API token.")
        if identity.token is not None and identity.token.limited_to_projects:
            raise PermissionDenied("A token limited to projects cannot manage index-wide webhooks.")
        if not request.user.has_perm(INDEX_WIDE_PERMISSION):
            raise PermissionDenied(
                f"The user '{identity.username}' may not manage index-wide webhooks (a superuser, or staff with "
                "the permission 'Can add a webhook for every project')."
            )
        return identity

    def hooks(self, request):
        hooks = Webhook.objects.filter(project_name="")
        return hooks if request.user.is_superuser else hooks.filter(created_by=request.user)


class IndexWebhooks(_IndexWide, generics.GenericAPIView):
    """Index-wide webhooks: every project's events that their creator may read."""

    serializer_class = WebhookSerializer

    def get(self, request):
        self.caller(request)
        return _listed(self.hooks(request))

    @extend_schema(request=NewWebhookSerializer, responses={201: CreatedWebhookSerializer})
    def post(self, request):
        """Add an index-wide webhook; the answer holds its secret, once."""
        self.caller(request)
        return _added(request, None)


class IndexWebhook(_IndexWide, generics.GenericAPIView):
    serializer_class = WebhookSerializer

    @extend_schema(operation_id="webhook_retrieve")
    def get(self, request, pk: int):
        return Response(WebhookSerializer(self._hook(request, pk)).data)

    def delete(self, request, pk: int):
        """Remove the index-wide webhook."""
        webhook_services.remove_webhook(self._hook(request, pk), user=request.user)
        return Response(status=status.HTTP_204_NO_CONTENT)

    def _hook(self, request, pk: int) -> Webhook:
        self.caller(request)
        hook = self.hooks(request).filter(pk=pk).first()
        if hook is None:
            raise NotFound(f"There is no index-wide webhook {pk} of yours.")
        return hook
