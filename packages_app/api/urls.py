"""Routes of the metadata API, under /api/v1/."""

from django.urls import path
from drf_spectacular.views import SpectacularAPIView, SpectacularRedocView, SpectacularSwaggerView

from packages_app.api import views

app_name = "api"

urlpatterns = [
    path("", views.ApiRoot.as_view(), name="root"),
    path("projects/", views.ProjectList.as_view(), name="projects"),
    path("projects/<str:name>/", views.ProjectDetail.as_view(), name="project"),
    path("projects/<str:name>/status/", views.ProjectStatus.as_view(), name="project-status"),
    path("projects/<str:name>/releases/", views.ReleaseList.as_view(), name="releases"),
    path("projects/<str:name>/releases/<str:version>/", views.ReleaseDetail.as_view(), name="release"),
    path("projects/<str:name>/releases/<str:version>/yank/", views.YankRelease.as_view(), name="yank"),
    path("projects/<str:name>/releases/<str:version>/unyank/", views.UnyankRelease.as_view(), name="unyank"),
    path("files/<str:sha256>/", views.FileBySha256.as_view(), name="file"),
    path("events/", views.EventList.as_view(), name="events"),
    path("users/<str:username>/projects/", views.UserRoles.as_view(), name="user-projects"),
    path("schema/", SpectacularAPIView.as_view(), name="schema"),
    path("docs/", SpectacularSwaggerView.as_view(url_name="api:schema"), name="docs"),
    path("redoc/", SpectacularRedocView.as_view(url_name="api:schema"), name="redoc"),
]
