"""A project's Owners manage it from its page: roles (users or teams), archiving, visibility.

The rules are the API's: ``manage_refusal`` (the project's Owners, superusers), and for the
status ``status_refusal`` (a quarantine is staff's); the writes are the services', which keep
the last Owner (a refusal shown as the page's error) and journal each change. A project the
viewer may not see is a 404; one it sees but may not manage, a 403 with the reason.
"""

from __future__ import annotations

from django import forms
from django.contrib import messages
from django.contrib.auth import get_user_model
from django.contrib.auth.decorators import login_required
from django.contrib.auth.models import Group
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render

from packages_app.access import manage_refusal, status_refusal
from packages_app.authentication import Identity
from packages_app.models import ProjectStatus, RoleName, Visibility
from packages_app.services import projects, roles
from packages_app.services.errors import ServiceError
from packages_app.web.lookups import find_project, not_found_page


class AddRoleForm(forms.Form):
    holder = forms.CharField(
        max_length=160,
        label="User or team",
        help_text='A user name, or "team:<name>" for a team.',
    )
    role = forms.ChoiceField(choices=RoleName.choices, initial=RoleName.MAINTAINER, label="Role")

    def clean_holder(self):
        text = self.cleaned_data["holder"].strip()
        if text.startswith("team:"):
            team = Group.objects.filter(name=text.removeprefix("team:")).first()
            if team is None:
                raise forms.ValidationError(f"There is no team named '{text.removeprefix('team:')}'.")
            return team
        user = get_user_model().objects.filter(username=text, is_active=True).first()
        if user is None:
            raise forms.ValidationError(f"There is no active user named '{text}'.")
        return user


def may_manage(request: HttpRequest, project) -> bool:
    """Whether the signed-in user may manage this project (one query): its Owners, superusers."""
    user = request.user
    return bool(user.is_authenticated) and manage_refusal(Identity(user=user), project) is None


def _holder(text: str):
    if text.startswith("team:"):
        return Group.objects.filter(name=text.removeprefix("team:")).first()
    return get_user_model().objects.filter(username=text).first()


@login_required
@not_found_page
def manage_project(request: HttpRequest, name: str) -> HttpResponse:
    project = find_project(request, name)
    identity = Identity(user=request.user)
    refusal = manage_refusal(identity, project)
    if refusal is not None:
        return render(request, "web/refused.html", {"refusal": refusal, "project": project}, status=403)
    form = AddRoleForm()
    if request.method == "POST":
        action = request.POST.get("action")
        try:
            if action == "add-role":
                form = AddRoleForm(request.POST)
                if form.is_valid():
                    holder, role = form.cleaned_data["holder"], form.cleaned_data["role"]
                    roles.grant_role(project, holder, role, user=request.user)
                    messages.success(request, f"{roles.holder_name(holder)} is now {role} of {project.name}.")
                    return redirect("web:manage", project.normalized_name)
            elif action == "remove-role":
                holder = _holder(request.POST.get("holder", ""))
                if holder is None:
                    messages.error(request, "No such user or team.")
                else:
                    roles.revoke_role(project, holder, user=request.user)
                    messages.success(request, f"{roles.holder_name(holder)} no longer has a role on {project.name}.")
                return redirect("web:manage", project.normalized_name)
            elif action == "set-status":
                status = request.POST.get("status", "")
                if status not in (ProjectStatus.ACTIVE, ProjectStatus.ARCHIVED, ProjectStatus.DEPRECATED):
                    messages.error(request, "Choose active, archived or deprecated.")
                else:
                    refused = status_refusal(identity, project, status)
                    if refused is not None:
                        messages.error(request, refused)
                    else:
                        reason = request.POST.get("reason", "")[:10_000]
                        projects.set_status(project, status, reason, user=request.user, expected_status=project.status)
                        messages.success(request, f"{project.name} is now {status}.")
                return redirect("web:manage", project.normalized_name)
            elif action == "set-visibility":
                visibility = request.POST.get("visibility", "")
                if visibility not in Visibility.values:
                    messages.error(request, "Choose who may see the project.")
                else:
                    projects.set_visibility(project, visibility, user=request.user)
                    messages.success(request, f"{project.name} is now visible to: {Visibility(visibility).label}.")
                return redirect("web:manage", project.normalized_name)
        except ServiceError as refused_by_service:
            messages.error(request, str(refused_by_service))
            return redirect("web:manage", project.normalized_name)
    context = {
        "project": project,
        "roles": project.roles.select_related("user", "team").owners_first(),
        "form": form,
        "statuses": [ProjectStatus.ACTIVE, ProjectStatus.ARCHIVED, ProjectStatus.DEPRECATED],
        "visibilities": Visibility.choices,
    }
    return render(request, "web/manage.html", context)
