"""The operator's admin. Every write calls a service, so it is journaled.

Pages stay bounded on big projects: no inline lists releases, foreign keys use
raw ids, and counts and "latest" lists are single bounded queries.
"""

from __future__ import annotations

from datetime import timedelta

from django import forms
from django.conf import settings
from django.contrib import admin, messages
from django.contrib.admin.helpers import ActionForm
from django.contrib.auth import get_user_model
from django.db.models import Count, OuterRef, Subquery, Sum
from django.db.models.functions import Coalesce
from django.http import HttpResponseRedirect
from django.template.defaultfilters import filesizeformat
from django.template.loader import render_to_string
from django.template.response import TemplateResponse
from django.urls import reverse
from django.utils import timezone
from django.utils.html import format_html, format_html_join

from packages_app import naming, quotas_admin
from packages_app.models import (
    ApiToken,
    DownloadCount,
    File,
    FilenameRegistry,
    JournalEntry,
    Project,
    ProjectStatus,
    Release,
    Role,
    TrustedPublisher,
)
from packages_app.services import files as file_services
from packages_app.services import journal
from packages_app.services import projects as project_services
from packages_app.services import quotas as quota_services
from packages_app.services import releases as release_services
from packages_app.services import retention as retention_services
from packages_app.services import roles as role_services
from packages_app.services import tokens as token_services
from packages_app.services.errors import ServiceError
from packages_app.upload.errors import UploadError
from packages_app.upload.metadata import validate_raw
from packages_app.web import metadata as web_metadata
from packages_app.web import readmes

LATEST_RELEASES_SHOWN = 20
FILES_SHOWN = 50
DELETE_FILES_CONFIRMATION = "admin/packages_app/delete_files_confirmation.html"


def plural(count: int, noun: str) -> str:
    """'1 release', '2 releases': counts in the admin's words."""
    return f"{count} {noun}" if count == 1 else f"{count} {noun}s"


def admin_datetime(value) -> str:
    """Every date the admin shows, in one format with its time zone: 2026-12-06 07:00:00 UTC."""
    if value is None:
        return "—"
    return timezone.localtime(value).strftime("%Y-%m-%d %H:%M:%S %Z")


def _confirmed_delete(modeladmin, request, queryset, kind: str, delete) -> TemplateResponse | None:
    """Ask first (the filenames can never be used again); delete once confirmed."""
    if request.POST.get("confirm") != "yes":
        context = {
            **modeladmin.admin_site.each_context(request),
            "title": f"Delete {kind}?",
            "kind": kind,
            "items": list(queryset),
            "action": request.POST.get("action", ""),
        }
        return TemplateResponse(request, "admin/packages_app/confirm_delete.html", context)
    count = 0
    for item in queryset:
        delete(item, user=request.user)
        count += 1
    modeladmin.message_user(request, f"Deleted {plural(count, kind.removesuffix('(s)'))}.", messages.SUCCESS)
    return None


class ReasonActionForm(ActionForm):
    reason = forms.CharField(required=False, label="Reason", help_text="Used by yank and status actions.")


def _changelist_url(model, **filters) -> str:
    url = reverse(f"admin:packages_app_{model._meta.model_name}_changelist")
    query = "&".join(f"{key}={value}" for key, value in filters.items())
    return f"{url}?{query}" if query else url


def _report(modeladmin, request, done: int, errors: list[str], verb: str) -> None:
    if done:
        modeladmin.message_user(request, f"{verb} {plural(done, 'item')}.", messages.SUCCESS)
    for error in errors:
        modeladmin.message_user(request, error, messages.ERROR)


class ServiceDeleteMixin:
    """Route every admin delete through a service instead of the ORM."""

    delete_service = None  # set by subclasses: callable(obj, user=...)

    def get_actions(self, request):
        actions = super().get_actions(request)
        actions.pop("delete_selected", None)
        return actions

    def delete_model(self, request, obj):
        type(self).delete_service(obj, user=request.user)

    def delete_queryset(self, request, queryset):
        for obj in queryset:
            type(self).delete_service(obj, user=request.user)


def _set_status_action(status: str):
    @admin.action(permissions=["change"], description=f"Set status: {status} (with the reason above)")
    def action(modeladmin, request, queryset):
        reason = request.POST.get("reason", "")
        for project in queryset:
            project_services.set_status(project, status, reason, user=request.user)
        modeladmin.message_user(request, f"Set {plural(queryset.count(), 'project')} to {status}.", messages.SUCCESS)

    action.__name__ = f"set_status_{status}"
    return action


class ProjectAddForm(forms.ModelForm):
    class Meta:
        model = Project
        fields = ["name", "visibility"]

    def clean_name(self):
        name = self.cleaned_data["name"].strip()
        if not naming.is_valid_project_name(name):
            raise forms.ValidationError(
                "Start and end with a letter or digit, and use only ASCII letters, digits, '.', '_' and '-'."
            )
        existing = Project.objects.by_name(name).first()
        if existing is not None:
            raise forms.ValidationError(f"The name conflicts with the existing project '{existing.name}'.")
        return name


@admin.register(Project)
class ProjectAdmin(ServiceDeleteMixin, admin.ModelAdmin):
    delete_service = project_services.delete_project
    list_display = [
        "name", "status", "visibility", "release_count", "latest_version", "stored_size", "last_upload", "created_at",
    ]  # fmt: skip
    list_filter = ["status", "visibility"]
    search_fields = ["normalized_name", "name"]
    show_full_result_count = False
    action_form = ReasonActionForm
    actions = [_set_status_action(status) for status in ProjectStatus.values]
    delete_confirmation_template = DELETE_FILES_CONFIRMATION
    readonly_fields = [
        "name", "normalized_name", "created", "last_serial",
        "totals", "storage", "downloads", "latest_releases", "project_roles", "pages",
    ]  # fmt: skip
    # Editable on an existing project's page; saved through the status, visibility and quota services.
    status_fields = ["status", "status_reason", "visibility", "quota"]

    def get_form(self, request, obj=None, **kwargs):
        if obj is None:
            kwargs["form"] = ProjectAddForm
        form = super().get_form(request, obj, **kwargs)
        # Left out, a new project takes NEW_PROJECT_VISIBILITY and an existing one keeps its own.
        form.base_fields["visibility"].required = False
        if obj is not None:
            form.base_fields["quota"] = quotas_admin.SizeField(
                required=False,
                label="Quota",
                help_text="The most the project's files may hold (10GiB, 500MB); empty: the index's MAX_PROJECT_SIZE.",
            )
        if obj is None:
            form.base_fields["visibility"].initial = settings.NEW_PROJECT_VISIBILITY
        return form

    def get_readonly_fields(self, request, obj=None):
        return self.readonly_fields if obj is not None else []

    def get_fields(self, request, obj=None):
        if obj is None:
            return ["name", "visibility"]
        return [*self.readonly_fields[:4], *self.status_fields, *self.readonly_fields[4:]]

    def save_model(self, request, obj, form, change):
        if not change:
            obj.pk = project_services.create_project(obj.name, user=request.user, visibility=obj.visibility or None).pk
            return
        if {"status", "status_reason"} & set(form.changed_data):
            project_services.set_status(obj, obj.status, obj.status_reason, user=request.user)
        if "visibility" in form.changed_data and obj.visibility:
            project_services.set_visibility(obj, obj.visibility, user=request.user)
        if "quota" in form.changed_data:
            quota_services.set_project_quota(obj, form.cleaned_data["quota"], user=request.user)

    def get_queryset(self, request):
        # The list's figures, one correlated subquery each: a single query however many projects.
        releases = Release.objects.filter(project=OuterRef("pk")).order_by()
        files = File.objects.filter(release__project=OuterRef("pk")).order_by()
        return (
            super()
            .get_queryset(request)
            .annotate(
                releases_total=Coalesce(Subquery(releases.values("project").annotate(n=Count("pk")).values("n")), 0),
                newest_version=Subquery(releases.order_by("-sort_key").values("version")[:1]),
                last_upload_time=Subquery(files.order_by("-upload_time").values("upload_time")[:1]),
            )
        )

    @admin.display(description="Releases", ordering="releases_total")
    def release_count(self, obj):
        return plural(obj.releases_total, "release")

    @admin.display(description="Latest version", ordering="newest_version")
    def latest_version(self, obj):
        return obj.newest_version or "—"

    # Not named total_size: the admin would show that model field's raw bytes instead of this.
    @admin.display(description="Size", ordering="total_size")
    def stored_size(self, obj):
        return filesizeformat(obj.total_size)  # the running total the file services keep

    @admin.display(description="Last upload", ordering="last_upload_time")
    def last_upload(self, obj):
        return admin_datetime(obj.last_upload_time)

    @admin.display(description="Created", ordering="created")
    def created_at(self, obj):
        return admin_datetime(obj.created)

    @admin.display(description="Downloads")
    def downloads(self, obj):
        counts = DownloadCount.objects.filter(project=obj)
        since = timezone.now().date() - timedelta(days=29)
        recent = counts.filter(day__gte=since).aggregate(total=Sum("count"))["total"] or 0
        total = counts.aggregate(total=Sum("count"))["total"] or 0
        return f"{recent:,} in the last 30 days, {total:,} in all"

    @admin.display(description="Storage used")
    def storage(self, obj):
        return quotas_admin.storage_display(obj)

    @admin.display(description="Totals")
    def totals(self, obj):
        releases = obj.releases.count()
        files = File.objects.filter(release__project=obj).count()
        return format_html(
            '<a href="{}">{}</a>, <a href="{}">{}</a>',
            _changelist_url(Release, project__id__exact=obj.pk),
            plural(releases, "release"),
            _changelist_url(File, release__project__id__exact=obj.pk),
            plural(files, "file"),
        )

    @admin.display(description=f"Newest {LATEST_RELEASES_SHOWN} releases")
    def latest_releases(self, obj):
        rows = obj.releases.newest_first().annotate(file_count=Count("files"))[:LATEST_RELEASES_SHOWN]
        return (
            format_html_join(
                "",
                '<div><a href="{}">{}</a> — {}{}</div>',
                (
                    (
                        reverse("admin:packages_app_release_change", args=[r.pk]),
                        r.version,
                        plural(r.file_count, "file"),
                        " (yanked)" if r.yanked else "",
                    )
                    for r in rows
                ),
            )
            or "No releases yet."
        )

    @admin.display(description="Pages")
    def pages(self, obj):
        name = obj.normalized_name
        return format_html(
            '<a href="{}">simple page</a> · <a href="{}">legacy JSON</a> · <a href="{}">metadata API</a>',
            reverse("simple-project", args=[name]),
            reverse("legacy-json", args=[name]),
            reverse("api:project", args=[name]),
        )

    @admin.display(description="Roles")
    def project_roles(self, obj):
        roles = obj.roles.select_related("user", "team").owners_first()
        listing = format_html_join("", "<div>{}: {}</div>", ((r.role_name, r.holder_name) for r in roles))
        return format_html(
            '{}<a href="{}">Add an owner or maintainer</a> · <a href="{}">Manage or remove roles</a>',
            listing,
            reverse("admin:packages_app_role_add") + f"?project={obj.pk}",
            _changelist_url(Role, project__id__exact=obj.pk),
        )


class ReleaseAddForm(forms.ModelForm):
    class Meta:
        model = Release
        fields = ["project", "version", "summary", "requires_python"]

    def clean(self):
        cleaned = super().clean()
        project, version = cleaned.get("project"), cleaned.get("version")
        if not (project and version):
            return cleaned
        # The rules of an upload and of the API's new release: a version no installer could
        # use (or one like "1/0" that breaks the release's URLs) never gets in this way either.
        given = {field: cleaned[field] for field in ("summary", "requires_python") if cleaned.get(field)}
        try:
            validate_raw({"metadata_version": "2.4", "name": project.name, "version": version, **given})
        except UploadError as error:
            raise forms.ValidationError(error.message) from error
        if release_services.find_release(project, version):
            raise forms.ValidationError(f"{project.name} already has a release {version}.")
        return cleaned


@admin.register(Release)
class ReleaseAdmin(ServiceDeleteMixin, admin.ModelAdmin):
    delete_service = release_services.delete_release
    list_display = ["__str__", "version", "created", "yanked", "is_prerelease", "keep"]
    list_filter = ["yanked", "is_prerelease", "keep"]
    list_select_related = ["project"]
    search_fields = ["project__normalized_name", "version"]
    raw_id_fields = ["project"]
    show_full_result_count = False
    ordering = ["project", "-sort_key"]
    action_form = ReasonActionForm
    actions = ["yank", "unyank", "pin", "unpin", "delete_releases"]
    delete_confirmation_template = DELETE_FILES_CONFIRMATION

    def get_fields(self, request, obj=None):
        if obj is None:
            return ReleaseAddForm.Meta.fields
        # The metadata as a person reads it (empty fields left out), not its 25 raw columns.
        return ["project", "version", "canonical_version", "created", "created_by", "yanked", "yanked_reason",
                "keep", "file_listing", "metadata", "readme"]  # fmt: skip

    def get_readonly_fields(self, request, obj=None):
        # On a release's page only the yank can be changed (saved through the yank services);
        # everything else came from uploads.
        editable = {"yanked", "yanked_reason"}
        return [] if obj is None else [name for name in self.get_fields(request, obj) if name not in editable]

    def get_form(self, request, obj=None, **kwargs):
        if obj is None:
            kwargs["form"] = ReleaseAddForm
        return super().get_form(request, obj, **kwargs)

    def save_model(self, request, obj, form, change):
        if change:
            if obj.yanked and {"yanked", "yanked_reason"} & set(form.changed_data):
                release_services.yank_release(obj, obj.yanked_reason, user=request.user)
            elif not obj.yanked and "yanked" in form.changed_data:
                release_services.unyank_release(obj, user=request.user)
            return
        metadata = {"summary": obj.summary, "requires_python": obj.requires_python}
        created = release_services.create_release(obj.project, obj.version, metadata, user=request.user)
        obj.pk = created.pk

    def get_queryset(self, request):
        return super().get_queryset(request).select_related("project", "created_by")

    @admin.display(description="Metadata")
    def metadata(self, obj):
        return render_to_string(
            "admin/packages_app/release_metadata.html", {"release": obj, "shown": web_metadata.readable(obj)}
        )

    @admin.display(description="Description")
    def readme(self, obj):
        return readmes.render_readme(obj.description, obj.description_content_type) or "None."

    @admin.display(description="Files")
    def file_listing(self, obj):
        files = list(obj.files.select_related("uploaded_by").order_by("filename")[: FILES_SHOWN + 1])
        rows = format_html_join(
            "",
            '<div><a href="{}">{}</a> — {}, uploaded {} by {}<br>'
            "<small>sha256 {} · blake2b-256 {} · md5 {}</small></div>",
            (
                (reverse("admin:packages_app_file_change", args=[f.pk]), f.filename, filesizeformat(f.size),
                 admin_datetime(f.upload_time), _uploader(f),
                 f.sha256_digest, f.blake2_256_digest, f.md5_digest)
                for f in files[:FILES_SHOWN]
            ),
        )  # fmt: skip
        more = ""
        if len(files) > FILES_SHOWN:
            more = format_html('<a href="{}">All files</a>', _changelist_url(File, release__id__exact=obj.pk))
        return format_html("{}{}", rows, more) if files else "No files."

    @admin.action(permissions=["change"], description="Yank (with the reason above)")
    def yank(self, request, queryset):
        reason = request.POST.get("reason", "")
        for release in queryset:
            release_services.yank_release(release, reason, user=request.user)
        self.message_user(request, f"Yanked {plural(queryset.count(), 'release')}.", messages.SUCCESS)

    @admin.action(permissions=["change"], description="Unyank")
    def unyank(self, request, queryset):
        for release in queryset:
            release_services.unyank_release(release, user=request.user)
        self.message_user(request, f"Unyanked {plural(queryset.count(), 'release')}.", messages.SUCCESS)

    @admin.action(permissions=["change"], description="Pin: retention policies never delete them")
    def pin(self, request, queryset):
        for release in queryset:
            retention_services.set_keep(release, True, user=request.user)
        self.message_user(request, f"Pinned {plural(queryset.count(), 'release')}.", messages.SUCCESS)

    @admin.action(permissions=["change"], description="Unpin (retention policies apply again)")
    def unpin(self, request, queryset):
        for release in queryset:
            retention_services.set_keep(release, False, user=request.user)
        self.message_user(request, f"Unpinned {plural(queryset.count(), 'release')}.", messages.SUCCESS)

    @admin.action(
        permissions=["delete"], description="Delete releases and their files (their filenames can never be reused)"
    )
    def delete_releases(self, request, queryset):
        return _confirmed_delete(self, request, queryset, "release(s)", release_services.delete_release)


def _uploader(file: File) -> str:
    if file.uploaded_by is not None:
        return file.uploaded_by.get_username()
    return f"trusted publisher {file.uploaded_by_publisher}" if file.uploaded_by_publisher else "—"


@admin.register(File)
class FileAdmin(ServiceDeleteMixin, admin.ModelAdmin):
    delete_service = file_services.delete_file
    list_display = ["filename", "release", "packagetype", "human_size", "upload_date"]
    list_filter = ["packagetype"]
    list_select_related = ["release__project"]
    search_fields = ["filename", "sha256_digest"]
    raw_id_fields = ["release"]
    show_full_result_count = False
    actions = ["delete_files"]
    delete_confirmation_template = DELETE_FILES_CONFIRMATION

    def get_readonly_fields(self, request, obj=None):
        fields = [field.name for field in File._meta.fields]
        # Which token made the upload is told to superusers only, as in the journal.
        credential = ["uploaded_with_token"] if request.user.is_superuser else []
        return ["human_size", "uploaded", *credential, *fields]

    def get_fields(self, request, obj=None):
        return self.get_readonly_fields(request, obj)

    def has_add_permission(self, request):
        return False

    @admin.display(description="Upload time", ordering="upload_time")
    def upload_date(self, obj):
        return admin_datetime(obj.upload_time)

    @staticmethod
    def _added_entry(obj: File) -> JournalEntry | None:
        """The journal entry of the upload (one query, through journal_project_idx), kept on the file."""
        if not hasattr(obj, "_added_entry"):
            obj._added_entry = (
                JournalEntry.objects.filter(
                    normalized_name=obj.release.project.normalized_name,
                    filename=obj.filename,
                    kind__in=[journal.FILE_ADDED, journal.FILE_RESTORED],
                )
                .select_related("submitted_by")
                .order_by("-id")
                .first()
            )
        return obj._added_entry

    @admin.display(description="Size", ordering="size")
    def human_size(self, obj):
        return filesizeformat(obj.size)

    @admin.display(description="Uploaded")
    def uploaded(self, obj):
        entry = self._added_entry(obj)
        by = _uploader(obj)
        if entry is not None and entry.publisher and not obj.uploaded_by_publisher:
            by = f"trusted publisher {entry.publisher}"
        when = admin_datetime(obj.upload_time)
        if entry is None:
            return f"{when} by {by}"
        link = _changelist_url(JournalEntry, normalized_name=entry.normalized_name) + f"&q={entry.filename}"
        return format_html('{} by {} (<a href="{}">journal entry #{}</a>)', when, by, link, entry.pk)

    @admin.display(description="With token")
    def uploaded_with_token(self, obj):
        entry = self._added_entry(obj)
        if entry is None or not entry.token_key_id:
            return "— (no API token recorded: the upload came before tokens were journaled, or without one)"
        return f"{entry.token_name or '(unnamed)'} (key id {entry.token_key_id})"

    def lookup_allowed(self, lookup, value, request=None):
        # The project page links to "all files of this project".
        return lookup == "release__project__id__exact" or super().lookup_allowed(lookup, value, request)

    @admin.action(permissions=["delete"], description="Delete files (their filenames can never be reused)")
    def delete_files(self, request, queryset):
        return _confirmed_delete(self, request, queryset, "file(s)", file_services.delete_file)


class RoleForm(forms.ModelForm):
    class Meta:
        model = Role
        fields = ["project", "user", "team", "role_name"]

    def clean(self):
        cleaned = super().clean()
        if self.instance.pk is None and bool(cleaned.get("user")) == bool(cleaned.get("team")):
            raise forms.ValidationError("Give the role to a user or to a team (one of the two).")
        return cleaned


@admin.register(Role)
class RoleAdmin(ServiceDeleteMixin, admin.ModelAdmin):
    form = RoleForm
    list_display = ["project", "user", "team", "role_name"]
    list_select_related = ["project", "user", "team"]
    list_filter = ["role_name"]
    search_fields = ["project__normalized_name", "user__username", "team__name"]
    raw_id_fields = ["project", "user"]
    actions = ["revoke_roles"]

    @staticmethod
    def delete_service(role, *, user):
        role_services.revoke_role(role.project, role.user or role.team, user=user)

    def get_readonly_fields(self, request, obj=None):
        # Another holder or project makes another role: add that one and remove this one.
        return ["project", "user", "team"] if obj is not None else []

    def save_model(self, request, obj, form, change):
        if change and "role_name" not in form.changed_data:
            return
        role = role_services.grant_role(obj.project, obj.user or obj.team, obj.role_name, user=request.user)
        obj.pk = role.pk

    def changeform_view(self, request, object_id=None, form_url="", extra_context=None):
        try:
            return super().changeform_view(request, object_id, form_url, extra_context)
        except ServiceError as refusal:
            return self._refused(request, refusal, object_id)

    def delete_view(self, request, object_id, extra_context=None):
        try:
            return super().delete_view(request, object_id, extra_context)
        except ServiceError as refusal:
            return self._refused(request, refusal, object_id)

    def _refused(self, request, refusal: ServiceError, object_id) -> HttpResponseRedirect:
        """The service's reason (such as keeping a project's last Owner), back on the role's page."""
        self.message_user(request, str(refusal), messages.ERROR)
        if object_id is None:
            return HttpResponseRedirect(reverse("admin:packages_app_role_add"))
        return HttpResponseRedirect(reverse("admin:packages_app_role_change", args=[object_id]))

    @admin.action(permissions=["delete"], description="Revoke selected roles")
    def revoke_roles(self, request, queryset):
        revoked = 0
        for role in queryset.select_related("project", "user", "team"):
            try:
                self.delete_service(role, user=request.user)
            except ServiceError as refusal:
                self.message_user(request, str(refusal), messages.ERROR)
            else:
                revoked += 1
        if revoked:
            self.message_user(request, f"Revoked {plural(revoked, 'role')}.", messages.SUCCESS)


def token_snippets(request, plaintext: str) -> dict[str, str]:
    """Ready-to-paste settings for a new token: twine's .pypirc, uv's environment, an index URL.

    The index's address is PUBLIC_BASE_URL, or else the host the admin was reached at.
    """
    base = settings.PUBLIC_BASE_URL or request.build_absolute_uri("/").rstrip("/")
    upload_url = base + reverse("legacy-upload")
    simple_url = base + reverse("simple-index")
    scheme, _, rest = simple_url.partition("://")
    return {
        "pypirc": (
            "[distutils]\nindex-servers =\n    private\n\n"
            f"[private]\nrepository = {upload_url}\nusername = __token__\npassword = {plaintext}\n"
        ),
        "uv": f"export UV_PUBLISH_URL={upload_url}\nexport UV_PUBLISH_TOKEN={plaintext}\n",
        "index_url": f"{scheme}://__token__:{plaintext}@{rest}",
    }


class TokenAddForm(forms.ModelForm):
    expires_in_days = forms.IntegerField(required=False, min_value=1, help_text="Leave empty for no expiry.")

    class Meta:
        model = ApiToken
        fields = ["user", "name", "read_only", "projects"]

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        # Optional on the model only for trusted publishers' tokens, which are minted, never added here.
        self.fields["user"].required = True


@admin.register(ApiToken)
class ApiTokenAdmin(admin.ModelAdmin):
    list_display = [
        "name", "key_id", "user", "read_only", "limited_to_projects", "created_at", "expires_at", "last_used_at",
        "revoked_at",
    ]  # fmt: skip
    list_select_related = ["user"]
    search_fields = ["name", "key_id", "user__username"]
    raw_id_fields = ["user"]
    filter_horizontal = ["projects"]
    actions = ["revoke"]

    def get_queryset(self, request):
        queryset = super().get_queryset(request)
        return queryset if request.user.is_superuser else queryset.filter(user=request.user)

    def get_form(self, request, obj=None, **kwargs):
        if obj is None:
            kwargs["form"] = TokenAddForm
        return super().get_form(request, obj, **kwargs)

    def get_changeform_initial_data(self, request):
        # Most tokens are the requester's own; a superuser may still name another user.
        return {"user": request.user.pk, **super().get_changeform_initial_data(request)}

    def get_fields(self, request, obj=None):
        if obj is None:
            return ["user", "name", "read_only", "projects", "expires_in_days"]
        return [
            "user",
            "trusted_publisher",
            "name",
            "key_id",
            "read_only",
            "limited_to_projects",
            "projects",
            "created",
            "expires",
            "last_used",
            "revoked",
        ]

    def get_readonly_fields(self, request, obj=None):
        return [] if obj is None else self.get_fields(request, obj)

    def get_actions(self, request):
        actions = super().get_actions(request)
        actions.pop("delete_selected", None)
        return actions

    def has_delete_permission(self, request, obj=None):
        return False

    def save_model(self, request, obj, form, change):
        if change:
            return
        days = form.cleaned_data.get("expires_in_days")
        owner = obj.user if request.user.is_superuser else request.user
        token, plaintext = token_services.create_token(
            owner,
            name=obj.name,
            projects=list(form.cleaned_data.get("projects") or []),
            expires=timezone.now() + timedelta(days=days) if days else None,
            read_only=obj.read_only,
            user=request.user,
        )
        obj.pk = token.pk
        request._new_token_plaintext = plaintext

    def save_related(self, request, form, formsets, change):
        if change:
            super().save_related(request, form, formsets, change)

    def response_add(self, request, obj, post_url_continue=None):
        plaintext = getattr(request, "_new_token_plaintext", None)
        if plaintext is None:
            return super().response_add(request, obj, post_url_continue)
        # The secret goes out in this answer and nowhere else: not to a session or a table
        # where it would wait for a later page. The page's script turns a reload into a GET
        # of the empty form, so a reload cannot make a second token; no-store keeps the
        # secret out of the browser's cache.
        context = {
            **self.admin_site.each_context(request),
            "title": "Token created",
            # The saved row: a non-superuser's token is theirs, whoever the form named.
            "token": ApiToken.objects.select_related("user").get(pk=obj.pk),
            "plaintext": plaintext,
            "snippets": token_snippets(request, plaintext),
            "opts": self.model._meta,
        }
        response = TemplateResponse(request, "admin/packages_app/token_created.html", context)
        response["Cache-Control"] = "no-store"
        return response

    @admin.display(description="Created", ordering="created")
    def created_at(self, obj):
        return admin_datetime(obj.created)

    @admin.display(description="Expires", ordering="expires")
    def expires_at(self, obj):
        return admin_datetime(obj.expires)

    @admin.display(description="Last used", ordering="last_used")
    def last_used_at(self, obj):
        return admin_datetime(obj.last_used)

    @admin.display(description="Revoked", ordering="revoked")
    def revoked_at(self, obj):
        return admin_datetime(obj.revoked)

    @admin.action(permissions=["change"], description="Revoke selected tokens")
    def revoke(self, request, queryset):
        for token in queryset:
            token_services.revoke_token(token, user=request.user)
        self.message_user(request, f"Revoked {plural(queryset.count(), 'token')}.", messages.SUCCESS)


class RecordAdmin(admin.ModelAdmin):
    """Records of what happened: read, never written, in the admin."""

    show_full_result_count = False

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


class JournalKindFilter(admin.SimpleListFilter):
    """What happened: the journal's action kinds, listed without a query."""

    title = "action"
    parameter_name = "kind"

    def lookups(self, request, model_admin):
        return [(kind, kind) for kind in sorted(journal.ACTIONS)]

    def queryset(self, request, queryset):
        return queryset.filter(kind=self.value()) if self.value() else queryset


class JournalPublisherFilter(admin.SimpleListFilter):
    """Changes made by a trusted publisher (a CI workload), or by none."""

    title = "trusted publisher"
    parameter_name = "publisher"

    def lookups(self, request, model_admin):
        # From the publishers table, not a DISTINCT over the whole journal; a removed
        # publisher's entries are still found with ?publisher=<its description>.
        publishers = {publisher.description for publisher in TrustedPublisher.objects.select_related("project")}
        return [("-", "None (a user)"), *((name, name) for name in sorted(publishers))]

    def queryset(self, request, queryset):
        if self.value() == "-":
            return queryset.filter(publisher="")
        return queryset.filter(publisher=self.value()) if self.value() else queryset


class JournalUserFilter(admin.SimpleListFilter):
    """Changes made by one user: the users table (bounded), not a DISTINCT over the journal."""

    title = "user"
    parameter_name = "submitted_by__id__exact"
    shown = 100

    def lookups(self, request, model_admin):
        users = get_user_model().objects.order_by("username").values_list("pk", "username")[: self.shown]
        return [(str(pk), username) for pk, username in users]

    def queryset(self, request, queryset):
        return queryset.filter(submitted_by_id=self.value()) if self.value() else queryset


@admin.register(JournalEntry)
class JournalEntryAdmin(RecordAdmin):
    list_display = ["id", "date", "name", "version", "action", "yank_reason", "actor"]
    list_select_related = ["submitted_by"]
    # Django's date filter (today, past 7 days, this month, this year; any range with
    # ?submitted_date__gte=&submitted_date__lt=) rather than date_hierarchy, whose year
    # links cost a DISTINCT over the whole journal on every page.
    list_filter = [JournalKindFilter, ("submitted_date", admin.DateFieldListFilter), JournalUserFilter,
                   JournalPublisherFilter]  # fmt: skip
    search_fields = ["=normalized_name", "name", "action", "filename"]
    search_help_text = "A project's name (exactly, any spelling), or words of its action or filename."
    ordering = ["-id"]

    def get_search_results(self, request, queryset, search_term):
        # A project's name in any spelling finds its entries, through journal_project_idx.
        term = search_term.strip()
        results, may_have_duplicates = super().get_search_results(request, queryset, search_term)
        if term and naming.normalize_name(term) != term:
            results |= queryset.filter(normalized_name=naming.normalize_name(term))
        return results, may_have_duplicates

    def lookup_allowed(self, lookup, value, request=None):
        # Links to one project's journal: ?normalized_name=...
        return lookup == "normalized_name" or super().lookup_allowed(lookup, value, request)

    def get_queryset(self, request):
        queryset = super().get_queryset(request)
        # The yanked release's reason, in the same query (no query per row).
        reason = Release.objects.filter(
            project__normalized_name=OuterRef("normalized_name"), version=OuterRef("version")
        ).values("yanked_reason")[:1]
        queryset = queryset.annotate(release_yanked_reason=Subquery(reason))
        if request.user.is_superuser:
            return queryset
        return queryset.exclude(token_services.journal_entries_about_tokens())

    def get_exclude(self, request, obj=None):
        # Which token made a change is told to superusers only, as everywhere else.
        return [] if request.user.is_superuser else ["token_key_id", "token_name"]

    def get_list_display(self, request):
        columns = super().get_list_display(request)
        return [*columns, "token"] if request.user.is_superuser else columns

    def get_search_fields(self, request):
        # A superuser finds what one token did by its key id.
        fields = super().get_search_fields(request)
        return [*fields, "=token_key_id"] if request.user.is_superuser else fields

    @admin.display(description="API token")
    def token(self, obj):
        if not obj.token_key_id:
            return ""
        return f"{obj.token_name or '(unnamed)'} ({obj.token_key_id})"

    @admin.display(description="Date", ordering="submitted_date")
    def date(self, obj):
        return admin_datetime(obj.submitted_date)

    @admin.display(description="Yank reason")
    def yank_reason(self, obj):
        if obj.kind != journal.RELEASE_YANKED:
            return ""
        return getattr(obj, "release_yanked_reason", None) or "—"

    @admin.display(description="By", ordering="submitted_by__username")
    def actor(self, obj):
        if obj.publisher:
            return f"trusted publisher {obj.publisher}"
        return obj.submitted_by.get_username() if obj.submitted_by else "—"


@admin.register(FilenameRegistry)
class FilenameRegistryAdmin(RecordAdmin):
    list_display = ["filename", "created"]
    search_fields = ["filename"]
    ordering = ["filename"]


# Registered in their own modules (the admin's autodiscovery looks here): the upstream
# proxy's models, the PEP 752 namespace grants, the trusted publishers, retention policies and
# webhooks (team quotas: packages_app.quotas_admin, imported above).
from packages_app import namespaces_admin, publishers_admin, retention_admin  # noqa: E402, F401
from packages_app.upstream import admin as upstream_admin  # noqa: E402, F401
from packages_app.webhooks import admin as webhooks_admin  # noqa: E402, F401
