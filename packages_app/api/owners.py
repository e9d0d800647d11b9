"""What a project's Owners alone read and change in the API (its trusted publishers, retention
policies, webhooks): with an API token, past ``manage_refusal``; a project the caller may not
see is a 404 like everywhere."""

from __future__ import annotations

from rest_framework.exceptions import NotAuthenticated, PermissionDenied

from packages_app.access import manage_refusal
from packages_app.api.authentication import WritesNeedAnApiToken
from packages_app.api.views import ApiMixin, find_project
from packages_app.models import Project


class OwnersOnly(ApiMixin):
    permission_classes = [WritesNeedAnApiToken]
    owned_things = "settings"  # what the view serves, for the 401's words

    def owned_project(self, request, name: str) -> Project:
        if request.auth is None:
            raise NotAuthenticated(f"A project's {self.owned_things} are for its Owners: sign in with an API token.")
        project = find_project(request, name)
        refusal = manage_refusal(request.auth, project)
        if refusal is not None:
            raise PermissionDenied(refusal)
        return project
