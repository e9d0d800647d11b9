"""What the admin's pages for Owners' settings share (trusted publishers, retention policies,
webhooks): which projects a staff user may manage there, and forms that know who asks."""

from __future__ import annotations

from packages_app.models import Project, Role, RoleName


def owned_projects(user):
    """The projects ``user`` manages settings of: all for a superuser, else those it Owns
    (its own role or its team's)."""
    if user.is_superuser:
        return Project.objects.all()
    owned = Role.objects.held_by(user).filter(role_name=RoleName.OWNER).values("project")
    return Project.objects.filter(pk__in=owned)


class FormForRequestUser:
    """A ModelAdmin mixin: the form is built with ``user=`` the requesting user."""

    def get_form(self, request, obj=None, change=False, **kwargs):
        form = super().get_form(request, obj, change=change, **kwargs)  # type: ignore[misc]

        class WithUser(form):  # type: ignore[valid-type, misc]
            def __init__(self, *args, **inner):
                super().__init__(*args, user=request.user, **inner)

        return WithUser
