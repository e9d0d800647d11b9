"""PyPI's XML-RPC API at ``/pypi`` and ``/RPC2``, for the scripts that still call it.

The mirror methods PyPI still answers, the read methods it has switched off
(a private index can afford them), and the role methods. Parameters are
checked by type before a method runs (a wrong one is fault -32602 naming
it); bodies are parsed by defusedxml's expat parser, which refuses entity
declarations (no "billion laughs", no external entities), and are limited in
size. Faults never carry internal exception text.
"""

from __future__ import annotations

import re
import xmlrpc.client
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any
from xml.parsers.expat import ExpatError

from defusedxml import DefusedXmlException
from defusedxml.xmlrpc import monkey_patch
from django.contrib.auth import get_user_model
from django.db.models import Q

from legacy_api import json_pages
from packages_app import core_metadata
from packages_app.access import ANONYMOUS, Viewer
from packages_app.links import AbsoluteUrls
from packages_app.models import JournalEntry, Project, Release, Role

# xmlrpc.client.loads goes through expat; this swaps in defusedxml's parser, which
# forbids entity declarations, and bounds gzip-decoded bodies.
monkey_patch()

MAX_BODY = 1024 * 1024  # a method call is a few hundred bytes; this is plenty
CHANGELOG_LIMIT = 50_000
SEARCH_LIMIT = 1_000
# Every search value is a case-insensitive substring match, a scan of its column: unbounded, a
# few thousand of them kept the database busy for minutes. Real searches name a word or two in a
# field or two (PyPI's old search form had one box per field).
SEARCH_MAX_VALUES_PER_FIELD = 10
SEARCH_MAX_VALUES = 20
SEARCH_MAX_VALUE_LENGTH = 200
PARSE_ERROR, METHOD_NOT_FOUND, INVALID_PARAMS, SERVER_ERROR = -32700, -32601, -32602, -32500
# Characters XML 1.0 cannot carry, even escaped; journal text is cleaned of them.
_XML_ILLEGAL = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ufffe\uffff]")


class Fault(xmlrpc.client.Fault):
    pass


@dataclass(frozen=True)
class Param:
    name: str
    kind: type
    default: Any = ...

    def check(self, value: Any) -> Any:
        # bool is an int subclass in Python; XML-RPC keeps them apart, and so do we.
        is_kind = isinstance(value, self.kind) and not (self.kind is int and isinstance(value, bool))
        if self.kind is list and is_kind and not all(isinstance(item, str) for item in value):
            raise Fault(INVALID_PARAMS, f"client error; {self.name}: must be an array of strings")
        if not is_kind:
            raise Fault(INVALID_PARAMS, f"client error; {self.name}: must be {_TYPE_NAMES[self.kind]}")
        return value


_TYPE_NAMES = {int: "an int", str: "a string", bool: "a boolean", list: "an array", dict: "a struct"}


@dataclass(frozen=True)
class Method:
    function: Callable[..., Any]
    params: tuple[Param, ...]
    help: str

    def call(self, context: Context, args: tuple) -> Any:
        required = [param for param in self.params if param.default is ...]
        if not len(required) <= len(args) <= len(self.params):
            expected = ", ".join(param.name for param in self.params) or "no arguments"
            raise Fault(INVALID_PARAMS, f"client error; expected {expected}, got {len(args)} arguments")
        values = [param.check(value) for param, value in zip(self.params, args, strict=False)]
        values += [param.default for param in self.params[len(args) :]]
        return self.function(context, *values)


@dataclass(frozen=True)
class Context:
    urls: AbsoluteUrls
    # Who is calling: restricted projects it may not see are absent from every answer.
    viewer: Viewer = ANONYMOUS

    def projects(self):
        return Project.objects.offering_files().visible_to(self.viewer)


METHODS: dict[str, Method] = {}


def method(*params: Param):
    def register(function):
        METHODS[function.__name__] = Method(function, params, (function.__doc__ or "").strip())
        return function

    return register


def dispatch(body: bytes, context: Context) -> bytes:
    """One XML-RPC call: the marshalled answer, or a fault."""
    try:
        try:
            args, name = xmlrpc.client.loads(body, use_builtin_types=True)
        except DefusedXmlException as error:
            raise Fault(PARSE_ERROR, "parse error; XML with entity declarations is not accepted") from error
        except (ExpatError, xmlrpc.client.ResponseError, ValueError, TypeError, IndexError, KeyError) as error:
            # The stdlib unmarshaller raises these for well-formed XML of the wrong shape.
            raise Fault(PARSE_ERROR, "parse error; the body is not an XML-RPC method call") from error
        if name == "system.multicall":
            raise Fault(SERVER_ERROR, "RuntimeError: MultiCall requests are not supported; make one call per request")
        handler = METHODS.get(name or "")
        if handler is None:
            raise Fault(METHOD_NOT_FOUND, f"method not found; no method {name!r} (see system.listMethods)")
        result = _xml_safe(handler.call(context, args))
        return xmlrpc.client.dumps((result,), methodresponse=True, allow_none=True, encoding="utf-8").encode()
    except Fault as fault:
        return xmlrpc.client.dumps(fault, allow_none=True, encoding="utf-8").encode()


# ---------------------------------------------------------------- helpers


def _clean(text: str | None) -> str | None:
    return _XML_ILLEGAL.sub("", text) if text else None


def _xml_safe(value: Any) -> Any:
    """The answer without characters XML 1.0 cannot carry (stored metadata may hold them)."""
    if isinstance(value, str):
        return _XML_ILLEGAL.sub("", value)
    if isinstance(value, list):
        return [_xml_safe(item) for item in value]
    if isinstance(value, dict):
        return {_xml_safe(key): _xml_safe(item) for key, item in value.items()}
    return value


def _timestamp(moment) -> int:
    return int(moment.astimezone(UTC).timestamp())


def _project(context: Context, name: str) -> Project | None:
    return context.projects().by_name(name).first()


def _release(context: Context, name: str, version: str) -> Release | None:
    project = _project(context, name)
    if project is None:
        return None
    release = project.releases.by_version(version).first()
    if release is not None:
        release.project = project
    return release


def _changelog_rows(context: Context, queryset):
    return (
        queryset.published()
        .seen_by(context.viewer)
        .order_by("id")
        .values_list("name", "version", "submitted_date", "action", "id")
    )


# ---------------------------------------------------------------- mirror methods


@method()
def changelog_last_serial(context: Context) -> int:
    """The newest serial of the journal."""
    return JournalEntry.objects.last_serial()


@method(Param("since_serial", int))
def changelog_since_serial(context: Context, since_serial: int) -> list:
    """[name, version, timestamp, action, serial] for every change after a serial, ascending, at most 50,000."""
    rows = _changelog_rows(context, JournalEntry.objects.filter(id__gt=since_serial))[:CHANGELOG_LIMIT]
    return [
        [name, version or None, _timestamp(at), _clean(action), serial] for name, version, at, action, serial in rows
    ]


@method(Param("since", int), Param("with_ids", bool, False))
def changelog(context: Context, since: int, with_ids: bool) -> list:
    """Changes at or after a POSIX time, ascending, at most 50,000 (prefer changelog_since_serial)."""
    try:
        moment = datetime.fromtimestamp(max(since, 0), tz=UTC)
    except (OverflowError, OSError, ValueError) as error:
        raise Fault(INVALID_PARAMS, "client error; since: must be a POSIX time in seconds") from error
    rows = _changelog_rows(context, JournalEntry.objects.filter(submitted_date__gte=moment))[:CHANGELOG_LIMIT]
    entries = []
    for name, version, at, action, serial in rows:
        entry = [name, version or None, _timestamp(at), _clean(action)]
        entries.append([*entry, serial] if with_ids else entry)
    return entries


@method()
def list_packages_with_serial(context: Context) -> dict:
    """{project name: last serial} for every project that offers files."""
    return dict(context.projects().order_by("normalized_name").values_list("name", "last_serial"))


@method()
def list_packages(context: Context) -> list:
    """Every project's name."""
    return list(context.projects().order_by("normalized_name").values_list("name", flat=True))


# ---------------------------------------------------------------- read methods


@method(Param("package_name", str), Param("show_hidden", bool, False))
def package_releases(context: Context, package_name: str, show_hidden: bool) -> list:
    """The latest version; with show_hidden, every version, newest first (yanked and file-less too)."""
    project = _project(context, package_name)
    if project is None:
        return []
    if not show_hidden:
        latest = project.releases.latest()
        return [latest.version] if latest is not None else []
    return list(project.releases.newest_first().values_list("version", flat=True))


@method(Param("package_name", str), Param("version", str))
def release_urls(context: Context, package_name: str, version: str) -> list:
    """The files of a release, with their digests and upload times."""
    release = _release(context, package_name, version)
    if release is None:
        return []
    page = json_pages.project_page(release.project, release, context.urls, with_releases=False)
    return [_with_datetime(entry) for entry in page["urls"]]


def _with_datetime(entry: dict) -> dict:
    # PyPI's XML-RPC sent upload_time as an XML-RPC dateTime, not a string.
    return {**entry, "upload_time": xmlrpc.client.DateTime(entry["upload_time"].replace("-", ""))}


@method(Param("package_name", str), Param("version", str))
def release_data(context: Context, package_name: str, version: str) -> dict:
    """A release's metadata ({} when there is no such release)."""
    release = _release(context, package_name, version)
    if release is None:
        return {}
    data = json_pages.info(release, context.urls)
    data.pop("downloads")
    data["project_urls"] = [f"{label}, {url}" for label, url in (release.project_urls or {}).items()]
    data["stable_version"] = None
    return data


_SEARCH_FIELDS = core_metadata.SEARCH_COLUMNS


@method(Param("spec", dict), Param("operator", str, "and"))
def search(context: Context, spec: dict, operator: str) -> list:
    """Releases whose fields contain the given text: {field: text or [texts]}, 'and' or 'or'.

    At most 10 texts per field and 20 in all, each at most 200 characters long.
    """
    if operator not in ("and", "or"):
        raise Fault(INVALID_PARAMS, "client error; operator: must be 'and' or 'or'")
    conditions = []
    total = 0
    for field, wanted in spec.items():
        column = _SEARCH_FIELDS.get(field)
        if column is None:
            raise Fault(INVALID_PARAMS, f"client error; spec: unknown field {field!r}")
        values = wanted if isinstance(wanted, list) else [wanted]
        if not values or not all(isinstance(value, str) for value in values):
            raise Fault(INVALID_PARAMS, f"client error; spec: {field} must be a string or an array of strings")
        _check_search_values(field, values)
        total += len(values)
        if total > SEARCH_MAX_VALUES:
            raise Fault(
                INVALID_PARAMS, f"client error; spec: more than {SEARCH_MAX_VALUES} values in all; search for fewer"
            )
        field_query = Q()
        for value in values:
            field_query |= Q(**{f"{column}__icontains": value})
        conditions.append(field_query)
    if not conditions:
        return []
    combined = conditions[0]
    for condition in conditions[1:]:
        combined = (combined & condition) if operator == "and" else (combined | condition)
    rows = (
        Release.objects.filter(combined, project__in=context.projects())
        .order_by("project__normalized_name", "-sort_key")
        .values_list("project__name", "version", "summary")[:SEARCH_LIMIT]
    )
    return [
        {"name": name, "version": version, "summary": summary, "_pypi_ordering": 0} for name, version, summary in rows
    ]


def _check_search_values(field: str, values: list[str]) -> None:
    if len(values) > SEARCH_MAX_VALUES_PER_FIELD:
        raise Fault(
            INVALID_PARAMS,
            f"client error; spec: {field} has {len(values)} values; at most {SEARCH_MAX_VALUES_PER_FIELD} per field",
        )
    longest = max(len(value) for value in values)
    if longest > SEARCH_MAX_VALUE_LENGTH:
        raise Fault(
            INVALID_PARAMS,
            f"client error; spec: a {field} value is {longest} characters long; "
            f"at most {SEARCH_MAX_VALUE_LENGTH} per value",
        )


@method(Param("classifiers", list))
def browse(context: Context, classifiers: list) -> list:
    """[name, version] of every release that carries all of the given classifiers."""
    wanted = set(classifiers)
    if not wanted:
        return []
    rows = (
        Release.objects.filter(project__in=context.projects())
        .order_by("project__normalized_name", "-sort_key")
        .values_list("project__name", "version", "classifiers")
    )
    # JSON containment is not portable across databases; this legacy call reads the column.
    return [[name, version] for name, version, carried in rows.iterator() if wanted <= set(carried or ())]


# ---------------------------------------------------------------- roles


@method(Param("package_name", str))
def package_roles(context: Context, package_name: str) -> list:
    """[role, user name] for a project, Owners first."""
    project = _project(context, package_name)
    if project is None:
        return []
    return [[entry["role"], entry["user"]] for entry in json_pages.ownership(project)["roles"]]


@method(Param("user", str))
def user_packages(context: Context, user: str) -> list:
    """[role, project name] for a user."""
    if not get_user_model().objects.filter(username=user).exists():
        return []
    rows = (
        Role.objects.filter(user__username=user, project__in=context.projects())
        .owners_first("project__normalized_name")
        .values_list("role_name", "project__name")
    )
    return [list(row) for row in rows]


# ---------------------------------------------------------------- introspection


@method()
def system_listMethods(context: Context) -> list:  # noqa: N802 - the XML-RPC name
    """The methods this endpoint answers."""
    return sorted(METHODS)


@method(Param("method_name", str))
def system_methodHelp(context: Context, method_name: str) -> str:  # noqa: N802 - the XML-RPC name
    """A method's description."""
    found = METHODS.get(method_name)
    if found is None:
        raise Fault(INVALID_PARAMS, f"client error; method_name: no method {method_name!r}")
    return found.help


# Introspection methods live in the "system." namespace.
for _python_name in ("system_listMethods", "system_methodHelp"):
    METHODS[_python_name.replace("_", ".", 1)] = METHODS.pop(_python_name)
