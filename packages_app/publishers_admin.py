"""The admin's trusted publishers: listed, added and removed through the services.

Real Django permissions decide who comes in (view, add and delete on "trusted publisher";
nobody edits one: other claims are another publisher). A superuser sees and manages every
publisher; anyone else only those of the projects they are an Owner of (their own or their
team's role) and the pending publishers that would make them Owner, as the API allows them.
"""

from __future__ import annotations

from django import forms
from django.contrib import admin, messages
from django.contrib.auth import get_user_model
from django.http import HttpResponseRedirect
from django.urls import reverse

from packages_app import naming
from packages_app.models import PublisherKind, TrustedPublisher
from packages_app.owners_admin import FormForRequestUser, owned_projects
from packages_app.services.errors import ServiceError
from packages_app.trusted_publishing import claims as claim_rules
from packages_app.trusted_publishing import service
from packages_app.trusted_publishing.verify import allowed_issuers


class PublisherAddForm(forms.ModelForm):
    issuer = forms.CharField(
        required=False,
        help_text="The issuer URL, as its tokens' 'iss' reads. Leave empty for GitHub's or GitLab's public one.",
    )
    claims_text = forms.CharField(
        label="Claims",
        widget=forms.Textarea(attrs={"rows": 5}),
        help_text="One NAME=VALUE per line. GitHub: repository, repository_owner_id, workflow, optionally "
        "environment. GitLab: project_path, ci_config_ref_uri, optionally environment. Any other issuer: "
        "the claims that must be equal, sub among them.",
    )

    class Meta:
        model = TrustedPublisher
        fields = ["kind", "issuer", "project", "pending_project_name", "pending_owner"]
        labels = {"pending_project_name": "Or a new project's name"}
        help_texts = {
            "project": "The project it uploads to; or leave empty and name a new project below (pending).",
            "pending_project_name": "A project that does not exist yet: the publisher's first upload creates it.",
            "pending_owner": "Made Owner of the new project.",
        }

    def __init__(self, *args, user=None, **kwargs):
        super().__init__(*args, **kwargs)
        self.user = user
        if "project" not in self.fields:
            return  # a publisher's own page, where every field is read-only
        self.fields["project"].required = False
        self.fields["project"].queryset = owned_projects(user).order_by("normalized_name")
        if "pending_owner" in self.fields:  # superusers choose; anyone else is the Owner-to-be
            self.fields["pending_owner"].queryset = get_user_model().objects.filter(is_active=True)

    def clean(self):
        cleaned = super().clean()
        kind = cleaned.get("kind")
        if not kind:
            return cleaned
        cleaned["issuer"] = (cleaned.get("issuer") or "").strip().rstrip("/") or claim_rules.default_issuer(kind)
        if not cleaned["issuer"]:
            self.add_error("issuer", "This kind of publisher needs its issuer's URL.")
        elif cleaned["issuer"] not in allowed_issuers():
            self.add_error("issuer", "This issuer is not allowed on this index (TRUSTED_PUBLISHING_ISSUERS).")
        claims: dict[str, str] = {}
        for line in (cleaned.get("claims_text") or "").splitlines():
            if line.strip():
                name, sep, value = line.partition("=")
                if not sep:
                    self.add_error("claims_text", f"{line.strip()!r} is not NAME=VALUE.")
                    return cleaned
                claims[name.strip()] = value.strip()
        try:
            cleaned["claims"] = claim_rules.normalize(kind, claims)
        except claim_rules.InvalidPublisher as refusal:
            self.add_error("claims_text", str(refusal))
        project, pending = cleaned.get("project"), (cleaned.get("pending_project_name") or "").strip()
        if bool(project) == bool(pending):
            raise forms.ValidationError("Choose the project, or name a new one (one of the two).")
        if pending:
            if not naming.is_valid_project_name(pending):
                self.add_error("pending_project_name", "That is not a valid project name.")
            owner = cleaned.get("pending_owner") if self.user.is_superuser else self.user
            if owner is None:
                self.add_error("pending_owner", "A pending publisher needs the user to make the new project's Owner.")
            cleaned["pending_owner"] = owner
        return cleaned


@admin.register(TrustedPublisher)
class TrustedPublisherAdmin(FormForRequestUser, admin.ModelAdmin):
    form = PublisherAddForm
    list_display = ["description", "project_name", "kind", "issuer", "created"]
    list_filter = ["kind"]
    list_select_related = ["project"]
    search_fields = ["lookup", "project__normalized_name", "pending_project_name"]
    readonly_fields = ["kind", "issuer", "claims", "project", "pending_project_name", "pending_owner", "created"]

    def get_queryset(self, request):
        publishers = super().get_queryset(request)
        if request.user.is_superuser:
            return publishers
        return publishers.filter(project__in=owned_projects(request.user)) | publishers.filter(
            project__isnull=True, pending_owner=request.user
        )

    def get_fields(self, request, obj=None):
        if obj is not None:
            return self.readonly_fields
        fields = ["kind", "issuer", "claims_text", "project", "pending_project_name", "pending_owner"]
        return fields if request.user.is_superuser else fields[:-1]

    def get_readonly_fields(self, request, obj=None):
        return [] if obj is None else self.readonly_fields

    def has_change_permission(self, request, obj=None):
        return False  # other claims are another publisher: add that one, remove this one

    def get_actions(self, request):
        actions = super().get_actions(request)
        actions.pop("delete_selected", None)
        return actions

    def save_model(self, request, obj, form, change):
        data = form.cleaned_data
        publisher = service.add_publisher(
            PublisherKind(data["kind"]),
            data["issuer"],
            data["claims"],
            project=data.get("project"),
            pending_name=data.get("pending_project_name") or "",
            pending_owner=data.get("pending_owner"),
            user=request.user,
        )
        obj.pk = publisher.pk

    def delete_model(self, request, obj):
        service.remove_publisher(obj, user=request.user)

    def changeform_view(self, request, object_id=None, form_url="", extra_context=None):
        try:
            return super().changeform_view(request, object_id, form_url, extra_context)
        except ServiceError as refusal:
            # Such as the same publisher added meanwhile: the service's reason, back on the form.
            self.message_user(request, str(refusal), messages.ERROR)
            return HttpResponseRedirect(reverse("admin:packages_app_trustedpublisher_add"))

    def get_deleted_objects(self, objs, request):
        # The minted tokens go with their publisher (listed on the confirmation page), though
        # tokens themselves are revoked, never deleted, in their own admin.
        deleted, counts, _, protected = super().get_deleted_objects(objs, request)
        return deleted, counts, set(), protected
