"""Views of the metadata API: thin, read-mostly, same answer for every caller.

Each read fetches what its serializer needs in a fixed number of queries and
gets an ETag (304 on revalidation) and ``Cache-Control: public``: the project, its
release list and its releases are stored pages kept by the project's serial
(``pages.serve``), answered with one query; the other lists get an ETag from their
body; writes go through the same services as the admin, after a role check, and are
never cached.
"""

from __future__ import annotations

import hashlib

from django.contrib.auth import get_user_model
from django.db.models import Exists, F, OuterRef, Prefetch, Q
from django.urls import reverse
from django.utils.cache import get_conditional_response, patch_vary_headers
from drf_spectacular.utils import OpenApiParameter
from rest_framework import generics, status
from rest_framework.exceptions import NotFound, ParseError, PermissionDenied, ValidationError
from rest_framework.permissions import SAFE_METHODS, AllowAny, BasePermission
from rest_framework.renderers import BrowsableAPIRenderer, JSONRenderer
from rest_framework.response import Response
from rest_framework.views import APIView

from packages_app import namespaces, naming, read_access, upstream
from packages_app.access import is_staff, manage_refusal, status_refusal, upload_refusal, yank_refusal
from packages_app.api import serializers
from packages_app.api.annotations import extend_schema
from packages_app.api.authentication import IndexAuthentication, WritesNeedAnApiToken
from packages_app.api.pagination import (
    NamespacePagination,
    ProjectPagination,
    ReleasePagination,
    RolePagination,
    SerialPagination,
    links_of,
)
from packages_app.api.problems import problem_exception_handler
from packages_app.links import url_layout, url_template
from packages_app.models import File, JournalEntry, NamespaceGrant, Project, Release, Role, Visibility
from packages_app.pages import store
from packages_app.pages.serve import CachePolicy, serve_page
from packages_app.querysets import count_of
from packages_app.services import journal, projects, releases
from packages_app.services import namespaces as namespace_services
from packages_app.upload.errors import UploadError
from packages_app.upload.metadata import validate_raw


class ApiMixin:
    authentication_classes = [IndexAuthentication]
    permission_classes = [AllowAny]
    renderer_classes = [JSONRenderer]

    def get_exception_handler(self):
        return problem_exception_handler

    def dispatch(self, request, *args, **kwargs):
        # Writes journal the API token they were made with (set once the caller is known).
        with journal.acting_token(None):
            return super().dispatch(request, *args, **kwargs)

    def initial(self, request, *args, **kwargs):
        super().initial(request, *args, **kwargs)
        identity = request.auth
        journal.set_acting_token(identity.token if identity is not None else None)

    def finalize_response(self, request, response, *args, **kwargs):
        response = super().finalize_response(request, response, *args, **kwargs)
        if response.has_header("ETag"):  # a stored page: serve_page made its ETag, 304 and caching
            return response
        if request.method not in ("GET", "HEAD") or response.status_code != 200:
            response["Cache-Control"] = "no-store"
            return response
        if hasattr(response, "render"):
            response.render()
        etag = '"' + hashlib.blake2b(response.content, digest_size=16).hexdigest() + '"'
        response["ETag"] = etag
        # A caller who sees restricted projects may have been shown one: no shared cache keeps it.
        restricted = bool(read_access.viewer(request).restricted_ids)
        response["Cache-Control"] = CachePolicy.API.cache_control(restricted=restricted)
        return get_conditional_response(request, etag=etag, response=response)


def no_project(name: str) -> NotFound:
    """The 404 for a name this index does not hold (or the caller may not see)."""
    note = upstream.local_only_note(naming.normalize_name(name))
    return NotFound(f"There is no project named '{name}'." + (f" {note}" if note else ""))


def find_project(request, name: str) -> Project:
    """The project, if the caller may see it: a restricted one is a 404 to anyone else."""
    project = Project.objects.visible_to(read_access.viewer(request)).by_name(name).first()
    if project is None:
        raise no_project(name)
    return project


def find_release(project: Project, version: str, queryset=None) -> Release:
    queryset = (queryset if queryset is not None else Release.objects).filter(project=project)
    release = queryset.by_version(version).first()
    if release is None:
        raise NotFound(f"Project '{project.name}' has no release '{version}'.")
    release.project = project
    return release


def files_offered(project: Project):
    """PEP 792: a quarantined project offers no files, here as on the simple pages.

    For a release's prefetch: each file's ``release`` is set to that release, so it is not
    joined again (with its README and metadata lists) for every file."""
    files = File.objects.order_by("filename")
    return files if project.offers_files else files.none()


def serve_stored_resource(request, key: store.PageKey, build, visibility: str, *, compress: bool = True):
    """A JSON resource kept in the page store by its project's serial (``serve_page``)."""
    return serve_page(
        request,
        key,
        build,
        content_type="application/json",
        policy=CachePolicy.API,
        compress=compress,
        restricted=visibility == Visibility.RESTRICTED,
    )


# ---------------------------------------------------------------- the root

_TEMPLATES = {
    "project": ("api:project", ["{name}"]),
    "releases": ("api:releases", ["{name}"]),
    "release": ("api:release", ["{name}", "{version}"]),
    "file": ("api:file", ["{sha256}"]),
    "user_projects": ("api:user-projects", ["{username}"]),
    "namespace": ("api:namespace", ["{namespace}"]),
    "publishers": ("api:publishers", ["{name}"]),
}


class ApiRoot(ApiMixin, APIView):
    """Links to every collection of the API, resource templates (RFC 6570 level 1), the schema and the docs.

    JSON for clients; a browser (``Accept: text/html``) gets the same links as a browsable page.
    """

    renderer_classes = [JSONRenderer, BrowsableAPIRenderer]

    @extend_schema(
        responses={200: {"type": "object", "additionalProperties": {"type": "string", "format": "uri-template"}}}
    )
    def get(self, request):
        links = {
            name: request.build_absolute_uri(reverse(route))
            for name, route in (
                ("projects", "api:projects"),
                ("events", "api:events"),
                ("namespaces", "api:namespaces"),
                ("schema", "api:schema"),
                ("docs", "api:docs"),
                ("redoc", "api:redoc"),
            )
        }
        # Joined by hand: the braces of the templates must reach the client unquoted.
        base = request.build_absolute_uri("/").rstrip("/")
        links.update({name: base + url_template(route, *slots) for name, (route, slots) in _TEMPLATES.items()})
        return Response(links)

    def finalize_response(self, request, response, *args, **kwargs):
        response = super().finalize_response(request, response, *args, **kwargs)
        patch_vary_headers(response, ["Accept"])  # JSON or the browsable page, from one URL
        return response


# ---------------------------------------------------------------- projects


@extend_schema(
    parameters=[
        OpenApiParameter("prefix", str, description="Only projects whose normalised name starts with this."),
        OpenApiParameter("q", str, description="Text to find in project names and release summaries."),
    ]
)
class ProjectList(ApiMixin, generics.ListAPIView):
    """Every project, ordered by normalised name."""

    serializer_class = serializers.LinkedProjectSerializer
    pagination_class = ProjectPagination

    def get_queryset(self):
        queryset = Project.objects.visible_to(read_access.viewer(self.request))
        prefix = self.request.query_params.get("prefix", "").strip()
        if prefix:
            queryset = queryset.filter(normalized_name__startswith=naming.normalize_name(prefix))
        text = self.request.query_params.get("q", "").strip()
        if text:
            in_summaries = Release.objects.filter(project=OuterRef("pk"), summary__icontains=text)
            queryset = queryset.filter(Q(name__icontains=text) | Exists(in_summaries))
        return queryset


def project_with_details(name: str) -> Project:
    """For a caller already shown to see the project."""
    project = Project.objects.by_name(name).with_details().first()
    if project is None:
        raise no_project(name)
    return project


class ProjectDetail(ApiMixin, generics.RetrieveAPIView):
    """A project: status, latest version (non-yanked, final releases first), counts, roles and links."""

    serializer_class = serializers.ProjectSerializer

    def retrieve(self, request, name: str):
        # Counting a big project's files costs more than the rest of the request; the
        # answer depends only on the project's serial (roles and status changes move it
        # too), so it is kept in the simple pages' serial-keyed store.
        visible = Project.objects.visible_to(read_access.viewer(request))
        found = visible.by_name(name).values_list("pk", "last_serial", "visibility").first()
        if found is None:
            raise no_project(name)
        pk, serial, visibility = found
        key = store.page_key("api-project", pk, url_layout().tag, serial=serial)

        def build() -> store.Page:
            data = self.get_serializer(project_with_details(name)).data
            return store.make_page(JSONRenderer().render(data), None)

        # A few hundred bytes: not worth a gzip form.
        return serve_stored_resource(request, key, build, visibility, compress=False)


class _ProjectAction(ApiMixin, generics.GenericAPIView):
    """A change to a project by its Owners (``manage_refusal``): ``act`` makes it."""

    permission_classes = [WritesNeedAnApiToken]

    @extend_schema(responses=serializers.ProjectSerializer)
    def post(self, request, name: str):
        project = find_project(request, name)
        _refuse(manage_refusal(request.auth, project))
        given = self.get_serializer(data=request.data)
        given.is_valid(raise_exception=True)
        self.act(request, project, given.validated_data)
        return Response(serializers.ProjectSerializer(project_with_details(name)).data)


class ProjectStatus(_ProjectAction):
    """Set a project's PEP 792 status (owners; only staff set or lift a quarantine)."""

    serializer_class = serializers.StatusSerializer

    def act(self, request, project, data) -> None:
        _refuse(status_refusal(request.auth, project, data["status"]))
        projects.set_status(project, data["status"], data["reason"], user=request.user, expected_status=project.status)


class ProjectVisibility(_ProjectAction):
    """Restrict a project to its role holders, their teams and staff, or open it to every reader (owners)."""

    serializer_class = serializers.VisibilitySerializer

    def act(self, request, project, data) -> None:
        projects.set_visibility(project, data["visibility"], user=request.user)


def _refuse(reason: str | None) -> None:
    if reason is not None:
        raise PermissionDenied(reason)


# ---------------------------------------------------------------- releases


@extend_schema(
    parameters=[
        OpenApiParameter(
            "order", str, enum=["version", "created"], description="Newest first by version (default) or by date."
        ),
        OpenApiParameter("files", str, enum=["with", "without"], description="Only releases with, or without, files."),
    ]
)
class ReleaseList(ApiMixin, generics.ListCreateAPIView):
    """A project's releases, newest first, including releases without files."""

    pagination_class = ReleasePagination
    permission_classes = [WritesNeedAnApiToken]

    def get_serializer_class(self):
        return (
            serializers.NewReleaseSerializer if self.request.method == "POST" else serializers.ReleaseSummarySerializer
        )

    def get_serializer_context(self):
        return {**super().get_serializer_context(), "normalized_name": self.project.normalized_name}

    def initial(self, request, *args, **kwargs):
        super().initial(request, *args, **kwargs)
        if request.method not in ("GET", "HEAD"):  # a read finds its project in get()
            self.project = find_project(request, kwargs["name"])

    def get(self, request, name: str):
        # Kept by the project's serial, as the project and release resources: a repeat or a
        # revalidation is the project's row only. The page's links are absolute URLs of this
        # request, so the slot names them (scheme, host, path and query).
        visible = Project.objects.visible_to(read_access.viewer(request)).by_name(name)
        found = visible.values_list("pk", "normalized_name", "last_serial", "visibility").first()
        if found is None:
            raise no_project(name)
        pk, normalized, serial, visibility = found
        self.project = Project(pk=pk, normalized_name=normalized)  # what the page's query and links read
        address = hashlib.sha256(request.build_absolute_uri().encode()).hexdigest()[:32]
        key = store.page_key("api-releases", pk, url_layout().tag, address, serial=serial)
        # The first page of the name's own spelling goes to the shared store (a few per project);
        # any other, whose URL a client makes up, to the process's bounded memory (API_CURSOR).
        first_page = name == normalized and not request.META.get("QUERY_STRING")

        def build() -> store.Page:
            return store.make_page(JSONRenderer().render(self.list(request).data), None)

        return serve_page(
            request,
            key,
            build,
            content_type="application/json",
            policy=CachePolicy.API if first_page else CachePolicy.API_CURSOR,
            restricted=visibility == Visibility.RESTRICTED,
            headers=links_of,
        )

    def release_order(self) -> str:
        order = self.request.query_params.get("order", "version")
        if order not in ReleasePagination.orderings:
            raise ParseError("'order' must be 'version' or 'created'.")
        return order

    def get_queryset(self):
        # A correlated count, not a GROUP BY: only the page's rows are counted, so
        # page 1 of a 5,000-release project costs what page 1 of a small one does.
        # Only the columns a summary shows (ReleaseSummarySerializer) and the cursor reads, not
        # the README and the metadata lists (a dozen JSON columns decoded per row).
        shown = ("version", "created", "is_prerelease", "yanked", "yanked_reason", "requires_python", "summary")
        queryset = (
            Release.objects.filter(project=self.project)
            .only(*shown, "sort_key")
            .annotate(file_count=count_of(File.objects, release=OuterRef("pk")))
        )
        having = self.request.query_params.get("files")
        has_files = Exists(File.objects.filter(release=OuterRef("pk")))
        if having == "with":
            queryset = queryset.filter(has_files)
        elif having == "without":
            queryset = queryset.filter(~has_files)
        elif having is not None:
            raise ParseError("'files' must be 'with' or 'without'.")
        return queryset

    @extend_schema(request=serializers.NewReleaseSerializer, responses={201: serializers.ReleaseSerializer})
    def post(self, request, name: str):
        """Register a release without files (owners and maintainers)."""
        _refuse(upload_refusal(request.auth, self.project, self.project.name))
        given = self.get_serializer(data=request.data)
        given.is_valid(raise_exception=True)
        fields = dict(given.validated_data)
        raw = {"metadata_version": "2.4", "name": self.project.name, **fields}
        try:
            metadata = validate_raw(raw)
        except UploadError as error:
            raise ValidationError({"detail": [error.message]}) from error
        supplied = {key: value for key, value in metadata.release_fields.items() if key in fields}
        release = releases.create_release(self.project, metadata.version, supplied, user=request.user)
        return Response(_release_data(self.project, release.version), status=status.HTTP_201_CREATED)


def _release_data(project: Project, version: str) -> dict:
    files = files_offered(project)
    queryset = Release.objects.prefetch_related(Prefetch("files", queryset=files))
    return serializers.ReleaseSerializer(find_release(project, version, queryset)).data


class ReleaseDetail(ApiMixin, APIView):
    """A release: its complete core metadata and its files."""

    @extend_schema(responses=serializers.ReleaseSerializer)
    def get(self, request, name: str, version: str):
        # Kept by the project's serial, as the project resource: every change to a release
        # (a file, a yank, its metadata) moves it, and a revalidation is one query.
        visible = Project.objects.visible_to(read_access.viewer(request)).by_name(name)
        head = Release.objects.filter(project__in=visible).by_version(version)
        found = head.values_list("pk", "project_id", "project__last_serial", "project__visibility").first()
        if found is None:
            find_release(find_project(request, name), version)  # the 404 that says which is missing
        release_pk, project_pk, serial, visibility = found

        def build() -> store.Page:
            project = Project.objects.get(pk=project_pk)
            return store.make_page(JSONRenderer().render(_release_data(project, version)), None)

        key = store.page_key("api-release", release_pk, url_layout().tag, serial=serial)
        return serve_stored_resource(request, key, build, visibility)


class _ReleaseAction(ApiMixin, generics.GenericAPIView):
    permission_classes = [WritesNeedAnApiToken]

    @extend_schema(responses=serializers.ReleaseSerializer)
    def post(self, request, name: str, version: str):
        project = find_project(request, name)
        _refuse(yank_refusal(request.auth, project))
        release = find_release(project, version)
        given = self.get_serializer(data=request.data)
        given.is_valid(raise_exception=True)
        self.act(release, given.validated_data, request.user)
        return Response(_release_data(project, version))


class YankRelease(_ReleaseAction):
    """Yank a release (PEP 592) with a reason (Owners and Maintainers)."""

    serializer_class = serializers.YankSerializer

    def act(self, release, data, user) -> None:
        releases.yank_release(release, data["reason"], user=user)


class UnyankRelease(_ReleaseAction):
    """Undo a yank (Owners and Maintainers)."""

    serializer_class = serializers.YankSerializer

    def act(self, release, data, user) -> None:
        releases.unyank_release(release, user=user)


# ---------------------------------------------------------------- files, events, users


class FileBySha256(ApiMixin, generics.RetrieveAPIView):
    """The file with this sha256, with its project and version."""

    serializer_class = serializers.FileLookupSerializer

    def get_object(self):
        digest = self.kwargs["sha256"].lower()
        file = File.objects.select_related("release__project").filter(sha256_digest=digest).first()
        project = None if file is None else file.release.project
        if project is None or not project.offers_files or not read_access.viewer(self.request).may_read(project):
            raise NotFound(f"No file has the sha256 digest {digest}.")
        return file


@extend_schema(
    parameters=[
        OpenApiParameter("project", str, description="Only this project's events (any spelling of its name)."),
    ]
)
class EventList(ApiMixin, generics.ListAPIView):
    """The journal: every change after ``since``, ascending by serial, with the newest serial.

    What mirrors poll instead of ``changelog_since_serial``: keep the last
    serial you processed and ask for ``?since=<it>``; follow ``next`` until it is null.
    Each event's ``action`` is a word of a fixed vocabulary (docs/api.md) and
    its ``actor`` the user, or the user's API token, that made the change.
    """

    serializer_class = serializers.EventSerializer
    pagination_class = SerialPagination

    def get_queryset(self):
        entries = JournalEntry.objects.published().seen_by(read_access.viewer(self.request))
        entries = entries.select_related("submitted_by")
        project = self.request.query_params.get("project")
        if project is not None:
            if not naming.is_valid_project_name(project):
                raise ParseError(f"'project' must be a project name, not {project[:100]!r}.")
            entries = entries.of_project(project)
        return entries

    def finalize_response(self, request, response, *args, **kwargs):
        response = super().finalize_response(request, response, *args, **kwargs)
        # A signed-in caller may see their own tokens' details: never from, or into, a shared cache.
        patch_vary_headers(response, ["Authorization"])
        if request.auth is not None and response.status_code in (200, 304):
            response["Cache-Control"] = CachePolicy.PRIVATE.cache_control()
        return response

    def list(self, request, *args, **kwargs):
        last_serial = JournalEntry.objects.last_serial()
        page = self.paginate_queryset(self.get_queryset())
        return self.paginator.get_paginated_response(self.get_serializer(page, many=True).data, last_serial)


class UserRoles(ApiMixin, generics.ListAPIView):
    """The projects a user has a role on, and which role."""

    serializer_class = serializers.UserRoleSerializer
    pagination_class = RolePagination

    def get_queryset(self):
        username = self.kwargs["username"]
        if not get_user_model().objects.filter(username=username).exists():
            raise NotFound(f"There is no user named '{username}'.")
        return (
            Role.objects.filter(
                user__username=username, project__in=Project.objects.visible_to(read_access.viewer(self.request))
            )
            .select_related("project")
            .annotate(project_name=F("project__normalized_name"))
        )


# ---------------------------------------------------------------- namespaces (PEP 752)


class NamespaceWrites(BasePermission):
    """Granting and revoking are the operators': staff holding the model permission named by
    the view's ``write_permission``, with a token not limited to projects (a namespace
    covers projects that need not exist yet)."""

    def has_permission(self, request, view) -> bool:
        if request.method in SAFE_METHODS:
            return True
        identity = request.auth
        if not is_staff(identity):
            raise PermissionDenied("Only staff may grant or revoke namespaces; ask an administrator.")
        if not identity.user.has_perm(view.write_permission):
            raise PermissionDenied(f"This needs the permission {view.write_permission}; ask an administrator.")
        if identity.token is not None and identity.token.limited_to_projects:
            raise PermissionDenied("This token is limited to projects; namespaces need a token for every project.")
        return True


def _include_revoked(request) -> bool:
    value = request.query_params.get("include_revoked", "0")
    if value not in ("0", "1", "true", "false"):
        raise ParseError("'include_revoked' must be 1 or 0.")
    return value in ("1", "true")


def _namespace_context(view, include_revoked: bool = False) -> dict:
    """What a namespace's ``parent`` and ``children`` are worked out from: every active grant."""
    active = list(namespaces.active().values_list("namespace", flat=True))
    return {**view.get_serializer_context(), "active_names": active, "include_revoked": include_revoked}


@extend_schema(
    parameters=[
        OpenApiParameter("include_revoked", bool, description="Revoked grants too, each with its `revoked` time."),
    ]
)
class NamespaceList(ApiMixin, generics.ListCreateAPIView):
    """The PEP 752 namespaces granted on this index, by name: their holder, whether open, parent and children."""

    pagination_class = NamespacePagination
    permission_classes = [WritesNeedAnApiToken, NamespaceWrites]
    write_permission = "packages_app.add_namespacegrant"

    def get_serializer_class(self):
        return serializers.NewNamespaceSerializer if self.request.method == "POST" else serializers.NamespaceSerializer

    def get_queryset(self):
        grants = NamespaceGrant.objects.select_related("user", "team")
        return grants if _include_revoked(self.request) else grants.filter(revoked__isnull=True)

    def list(self, request, *args, **kwargs):
        page = self.paginate_queryset(self.get_queryset())
        context = _namespace_context(self, _include_revoked(request))
        return self.get_paginated_response(serializers.NamespaceSerializer(page, many=True, context=context).data)

    @extend_schema(request=serializers.NewNamespaceSerializer, responses={201: serializers.NamespaceSerializer})
    def post(self, request):
        """Grant a namespace to a user or a team (staff with packages_app.add_namespacegrant)."""
        given = self.get_serializer(data=request.data)
        given.is_valid(raise_exception=True)
        data = given.validated_data
        member, is_open = data["member"], data["open"]
        grant = namespace_services.grant_namespace(data["namespace"], member, open=is_open, user=request.user)
        grant = NamespaceGrant.objects.select_related("user", "team").get(pk=grant.pk)
        body = serializers.NamespaceSerializer(grant, context=_namespace_context(self)).data
        return Response(body, status=status.HTTP_201_CREATED)


def find_grant(namespace: str) -> NamespaceGrant:
    """The active grant of ``namespace`` (any spelling of it)."""
    grant = namespaces.active().filter(namespace=naming.normalize_name(namespace)).first()
    if grant is None:
        raise NotFound(f"The namespace '{namespace}' is not granted.")
    return grant


class NamespaceDetail(ApiMixin, generics.GenericAPIView):
    """An active namespace grant (any spelling of its name finds it)."""

    serializer_class = serializers.NamespaceSerializer

    def get(self, request, namespace: str):
        grant = find_grant(namespace)
        return Response(self.get_serializer(grant, context=_namespace_context(self)).data)


class RevokeNamespace(ApiMixin, generics.GenericAPIView):
    """Revoke a namespace (staff with packages_app.change_namespacegrant): the grant is kept, with `revoked`."""

    serializer_class = serializers.NamespaceSerializer
    permission_classes = [WritesNeedAnApiToken, NamespaceWrites]
    write_permission = "packages_app.change_namespacegrant"

    @extend_schema(request=None, responses=serializers.NamespaceSerializer)
    def post(self, request, namespace: str):
        grant = namespace_services.revoke_namespace(namespace, user=request.user)
        grant = NamespaceGrant.objects.select_related("user", "team").get(pk=grant.pk)
        context = _namespace_context(self, include_revoked=True)
        return Response(serializers.NamespaceSerializer(grant, context=context).data)
