"""Routes of the metadata API, under /api/v1/."""

import functools

from csp.constants import SELF
from csp.decorators import csp_update
from django.urls import path
from django.views.decorators.csrf import csrf_exempt

from packages_app.api import downloads, publishers, retention, views, webhooks

app_name = "api"

# What Redoc needs beyond the docs' policy (indexsite/settings.py): its bundle adds one
# stylesheet (perfect-scrollbar's) and an empty <style> as it loads, before the page can
# hand it the nonce, so those two are allowed by their sha256 (a new Redoc in
# drf-spectacular-sidecar may change the first: tests/browser/test_content_security_policy.py
# reports it); and its search runs in a worker that it builds from a blob: URL.
REDOC_POLICY = {
    "style-src": [
        "'sha256-QMIg+bpjm3JdElJ388KYke01izlUW0UoNOeKjpMxdgc='",
        "'sha256-47DEQpj8HBSa+/TImW+5JCeuQeRkm5NMpJWZG3hSuFU='",
    ],
    "worker-src": [SELF, "blob:"],
}


def schema_view(name: str, **initkwargs):
    """drf-spectacular's view ``name``, imported by its first request: its module and its
    renderers (PyYAML among them) stay out of the workers that never serve the schema."""

    @functools.cache
    def view():
        from drf_spectacular import views as spectacular

        return getattr(spectacular, name).as_view(**initkwargs)

    # As DRF's own views are: a POST is answered 405 (by the view), not refused by the CSRF check.
    @csrf_exempt
    def lazy(request, *args, **kwargs):
        return view()(request, *args, **kwargs)

    return lazy


urlpatterns = [
    path("", views.ApiRoot.as_view(), name="root"),
    path("projects/", views.ProjectList.as_view(), name="projects"),
    path("projects/<str:name>/", views.ProjectDetail.as_view(), name="project"),
    path("projects/<str:name>/status/", views.ProjectStatus.as_view(), name="project-status"),
    path("projects/<str:name>/visibility/", views.ProjectVisibility.as_view(), name="project-visibility"),
    path("projects/<str:name>/releases/", views.ReleaseList.as_view(), name="releases"),
    path("projects/<str:name>/releases/<str:version>/", views.ReleaseDetail.as_view(), name="release"),
    path("projects/<str:name>/releases/<str:version>/yank/", views.YankRelease.as_view(), name="yank"),
    path("projects/<str:name>/releases/<str:version>/unyank/", views.UnyankRelease.as_view(), name="unyank"),
    path("projects/<str:name>/publishers/", publishers.ProjectPublishers.as_view(), name="publishers"),
    path("projects/<str:name>/publishers/<int:pk>/", publishers.ProjectPublisher.as_view(), name="publisher"),
    path("projects/<str:name>/webhooks/", webhooks.ProjectWebhooks.as_view(), name="webhooks"),
    path("projects/<str:name>/webhooks/<int:pk>/", webhooks.ProjectWebhook.as_view(), name="webhook"),
    path("webhooks/", webhooks.IndexWebhooks.as_view(), name="index-webhooks"),
    path("webhooks/<int:pk>/", webhooks.IndexWebhook.as_view(), name="index-webhook"),
    path("pending-publishers/", publishers.PendingPublishers.as_view(), name="pending-publishers"),
    path("pending-publishers/<int:pk>/", publishers.PendingPublisher.as_view(), name="pending-publisher"),
    path("projects/<str:name>/retention/", retention.ProjectPolicies.as_view(), name="retention"),
    path("projects/<str:name>/retention/preview/", retention.RetentionPreview.as_view(), name="retention-preview"),
    path("projects/<str:name>/retention/<int:pk>/", retention.ProjectPolicy.as_view(), name="retention-policy"),
    path("projects/<str:name>/releases/<str:version>/keep/", retention.PinRelease.as_view(), name="keep"),
    path("retention/", retention.IndexPolicies.as_view(), name="index-retention"),
    path("retention/<int:pk>/", retention.IndexPolicy.as_view(), name="index-retention-policy"),
    path("projects/<str:name>/downloads/", downloads.ProjectDownloads.as_view(), name="downloads"),
    path("files/<str:sha256>/", views.FileBySha256.as_view(), name="file"),
    path("events/", views.EventList.as_view(), name="events"),
    path("users/<str:username>/projects/", views.UserRoles.as_view(), name="user-projects"),
    path("namespaces/", views.NamespaceList.as_view(), name="namespaces"),
    path("namespaces/<str:namespace>/", views.NamespaceDetail.as_view(), name="namespace"),
    path("namespaces/<str:namespace>/revoke/", views.RevokeNamespace.as_view(), name="namespace-revoke"),
    path("schema/", schema_view("SpectacularAPIView"), name="schema"),
    path("docs/", schema_view("SpectacularSwaggerView", url_name="api:schema"), name="docs"),
    path("redoc/", csp_update(REDOC_POLICY)(schema_view("SpectacularRedocView", url_name="api:schema")), name="redoc"),
]
