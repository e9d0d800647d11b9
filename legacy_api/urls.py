"""Routes of PyPI's legacy APIs: the JSON pages and XML-RPC."""

from django.urls import path, re_path

from legacy_api import views

urlpatterns = [
    re_path(r"^pypi/(?P<name>[^/]+)/json/?$", views.project_json, name="legacy-json"),
    re_path(r"^pypi/(?P<name>[^/]+)/(?P<version>[^/]+)/json/?$", views.release_json, name="legacy-release-json"),
    path("pypi", views.xmlrpc_endpoint, name="xmlrpc"),
    path("pypi/", views.xmlrpc_endpoint),
    path("RPC2", views.xmlrpc_endpoint),
]
