from django.contrib import admin
from django.urls import include, path

from packages_app.trusted_publishing import views as trusted_publishing
from packages_app.upload.views import legacy_upload, legacy_upload_without_slash

urlpatterns = [
    path("admin/", admin.site.urls),
    path("legacy/", legacy_upload, name="legacy-upload"),
    path("legacy", legacy_upload_without_slash),
    # PEP 807 (draft): the discovery document an uploading client reads before the exchange.
    path(".well-known/pytp", trusted_publishing.discovery, name="pytp-discovery"),
    path("_/oidc/audience", trusted_publishing.audience, name="oidc-audience"),
    path("_/oidc/mint-token", trusted_publishing.mint_token, name="oidc-mint-token"),
    # The standard publish action posts here (the public index's older path): the same exchange.
    path("_/oidc/github/mint-token", trusted_publishing.mint_token, name="oidc-github-mint-token"),
    path("api/v1/", include("packages_app.api.urls")),
    path("", include("legacy_api.urls")),
    path("", include("packages_app.simple.urls")),
    # The web UI for people (packages_app/web/): the landing page at /, search, project pages, sign-in.
    path("", include("packages_app.web.urls")),
]
