"""What drf-spectacular needs only to make the OpenAPI schema, imported only when one is made.

``SPECTACULAR_SETTINGS["DEFAULT_GENERATOR_CLASS"]`` names ``SchemaGenerator``, so the schema
view, ``manage.py spectacular`` and the deploy check all go through it: it loads every view
(the URL configuration) and applies their deferred ``extend_schema`` annotations
(``packages_app/api/annotations.py``) before it starts. This module also registers how the
schema describes the index's authentication (an extension registers itself when its class is
defined). Keeping both out of the modules that serve requests keeps drf-spectacular's
generator out of the workers' memory (issue #25).
"""

from __future__ import annotations

from django.conf import settings
from django.urls import get_resolver
from drf_spectacular.extensions import OpenApiAuthenticationExtension
from drf_spectacular.generators import SchemaGenerator as SpectacularSchemaGenerator
from rest_framework.permissions import SAFE_METHODS

from packages_app.api import annotations
from packages_app.api.authentication import IndexAuthentication, WritesNeedAnApiToken


class SchemaGenerator(SpectacularSchemaGenerator):
    def __init__(self, *args, **kwargs):
        # Every view module imported first, so that every annotation is recorded.
        get_resolver(kwargs.get("urlconf")).url_patterns  # noqa: B018
        annotations.apply()
        super().__init__(*args, **kwargs)


class IndexAuthenticationScheme(OpenApiAuthenticationExtension):
    """How the OpenAPI schema describes :class:`IndexAuthentication`."""

    target_class = IndexAuthentication
    name = "apiToken"

    def get_security_requirement(self, auto_schema):
        token = {self.name: []}
        # drf-spectacular marks anonymous access ({}) only for its own permission classes.
        # Anonymous reads only where the operator opened them (READ_ACCESS=public).
        open_read = (
            settings.READ_ACCESS == "public"
            and auto_schema.method in SAFE_METHODS
            and any(isinstance(permission, WritesNeedAnApiToken) for permission in auto_schema.view.get_permissions())
        )
        return [token, {}] if open_read else token

    def get_security_definition(self, auto_schema):
        return {"type": "http", "scheme": "bearer", "description": "An API token: Bearer pyidx_..."}
