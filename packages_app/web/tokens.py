"""A signed-in user's own API tokens: list, create (the secret shown once), revoke.

Through ``services.tokens`` as the admin's token form and ``manage.py create_token`` do, so
every token is journaled and only its hash is stored. The secret is in the answer to the
form's POST and nowhere else (no session, no table, ``Cache-Control: no-store``); the page's
script replaces its history entry so that a reload asks for the empty form instead of posting
again. A token may be limited to projects the user holds a role on, made read-only, and given
an expiry. Users see and revoke only their own tokens (another's is a 404).
"""

from __future__ import annotations

from datetime import timedelta

from django import forms
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils import timezone
from django.views.decorators.http import require_http_methods, require_POST

from packages_app.models import ApiToken, Project, Role
from packages_app.services import tokens as token_services
from packages_app.web import install

MAX_EXPIRY_DAYS = 3650


class TokenForm(forms.Form):
    name = forms.CharField(max_length=255, required=False, label="Name", help_text="What it is for: “laptop”, “CI”.")
    read_only = forms.BooleanField(
        required=False, initial=True, label="Read-only", help_text="It installs, and never uploads or changes anything."
    )
    projects = forms.ModelMultipleChoiceField(
        queryset=Project.objects.none(),
        required=False,
        label="Only these projects",
        help_text="None chosen: every project you may read or upload to.",
    )
    expires_in_days = forms.IntegerField(
        required=False, min_value=1, max_value=MAX_EXPIRY_DAYS, label="Expires in (days)", help_text="Empty: never."
    )

    def __init__(self, *args, user, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        held = Role.objects.held_by(user).values("project")
        projects = self.fields["projects"]
        assert isinstance(projects, forms.ModelMultipleChoiceField)
        projects.queryset = Project.objects.filter(pk__in=held).order_by("normalized_name")


def _own_tokens(user):
    return ApiToken.objects.filter(user=user).prefetch_related("projects").order_by("-created")


@login_required
@require_http_methods(["GET", "POST"])
def token_list(request: HttpRequest) -> HttpResponse:
    form = TokenForm(request.POST or None, user=request.user)
    if request.method == "POST" and form.is_valid():
        days = form.cleaned_data["expires_in_days"]
        token, plaintext = token_services.create_token(
            request.user,
            name=form.cleaned_data["name"],
            projects=list(form.cleaned_data["projects"]),
            expires=timezone.now() + timedelta(days=days) if days else None,
            read_only=form.cleaned_data["read_only"],
            user=request.user,
        )
        context = {"token": token, "plaintext": plaintext, "index_host": install.index_host(request)}
        response = render(request, "web/token_created.html", context)
        response["Cache-Control"] = "no-store"
        return response
    context = {"form": form, "tokens": _own_tokens(request.user), "now": timezone.now()}
    return render(request, "web/tokens.html", context, status=400 if form.errors else 200)


@login_required
@require_POST
def revoke(request: HttpRequest, key_id: str) -> HttpResponse:
    token = ApiToken.objects.filter(user=request.user.pk, key_id=key_id).first()
    if token is None:
        raise Http404("No such token of yours.")
    token_services.revoke_token(token, user=request.user)
    messages.success(request, f"The token {token.name or token.key_id} is revoked: it stops working at once.")
    return redirect("web:tokens")
