"""Stage 2: core metadata from the form, validated by ``packaging.metadata``.

PyPI's own rules come on top of the spec's: a supported metadata version, no
local versions, known classifiers, valid URLs, no direct URL dependencies, and
License / License-Expression not both. A private index relaxes three of them:
``Private ::`` classifiers are always accepted (the packaging guide's advice for
internal packages, which PyPI refuses on purpose), and the operator may allow
local versions, direct URL dependencies and classifiers newer than the index's
list (``ALLOW_*`` settings).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit

from django.conf import settings
from django.db.models import Field
from packaging.metadata import InvalidMetadata, Metadata, RawMetadata
from packaging.requirements import InvalidRequirement, Requirement
from trove_classifiers import all_classifiers, deprecated_classifiers

from packages_app import core_metadata
from packages_app.core_metadata import Shape
from packages_app.models import Release
from packages_app.naming import is_valid_project_name
from packages_app.upload.errors import bad_request
from packages_app.upload.form import UploadForm

SPEC_URL = "https://packaging.python.org/specifications/core-metadata"
# Which metadata versions (and which fields in each) are valid is packaging's to say:
# upgrading it is how the index learns a new version (2.5 and 2.6 came that way).
# The packaging guide's marker for packages that must never reach a public index.
PRIVATE_CLASSIFIER_PREFIX = "Private ::"
MAX_SUMMARY = 512
MAX_URL_LABEL = 32
# Report the field a person most needs to fix first, as PyPI does.
_FIRST_FIELDS = ("metadata_version", "name", "version")

# Upload form key -> RawMetadata key, for the single-use fields.
_SINGLE = {field.form_key: field.raw_key for field in core_metadata.FIELDS if field.shape is Shape.TEXT}
# Multiple-use fields: form key -> RawMetadata key.
_MULTI = {field.form_key: field.raw_key for field in core_metadata.FIELDS if field.shape is Shape.LIST}


# Valid metadata can still be longer than the columns that keep it (a requires_python
# of many clauses, a description_content_type with long parameters); PostgreSQL would
# refuse the row after the file was stored. The file's own requires_python has the same length.
def _column_limits() -> dict[str, int]:
    limits = {}
    for field in Release._meta.get_fields():
        if isinstance(field, Field) and field.name in _SINGLE.values() and field.max_length:
            limits[field.name] = field.max_length
    return limits


_COLUMN_LIMITS = _column_limits()


@dataclass(frozen=True)
class ValidatedMetadata:
    name: str
    version: str
    release_fields: dict[str, Any]


def _error(message: str):
    return bad_request(f"{message} See {SPEC_URL} for more information.")


def raw_from_form(form: UploadForm) -> RawMetadata:
    raw: dict[str, Any] = {}
    for key, raw_key in _SINGLE.items():
        if form.get(key):
            raw[raw_key] = form.get(key)
    for key, raw_key in _MULTI.items():
        if form.getlist(key):
            raw[raw_key] = form.getlist(key)
    keywords = form.get("keywords")
    if keywords:
        raw["keywords"] = [word.strip() for word in keywords.split(",") if word.strip()]
    urls = {}
    for entry in form.getlist("project_urls"):
        label, _, url = entry.partition(",")
        urls[label.strip()] = url.strip()
    if urls:
        raw["project_urls"] = urls
    return raw  # type: ignore[return-value]


def _first_error(group: BaseExceptionGroup) -> InvalidMetadata:
    errors = [exc for exc in group.exceptions if isinstance(exc, InvalidMetadata)]

    def priority(exc: InvalidMetadata) -> tuple[int, str]:
        field = exc.field
        return (_FIRST_FIELDS.index(field) if field in _FIRST_FIELDS else len(_FIRST_FIELDS), field)

    return min(errors, key=priority)


def _display(value: str) -> str:
    return value if len(value) <= 60 else f"{value[:30]}...{value[-30:]}"


def validate(form: UploadForm, *, allow_local_versions: bool | None = None) -> ValidatedMetadata:
    return validate_raw(raw_from_form(form), allow_local_versions=allow_local_versions)


def validate_raw(raw: RawMetadata, *, allow_local_versions: bool | None = None) -> ValidatedMetadata:
    """Core metadata checks shared by uploads and releases registered without files."""
    _check_required(raw)
    try:
        metadata = Metadata.from_raw(raw, validate=True)
    except BaseExceptionGroup as group:
        exc = _first_error(group)
        if exc.field == "name":
            raise _name_error(raw.get("name", "")) from None
        raise _error(f"{exc}.".replace("..", ".")) from None
    allow_local = settings.ALLOW_LOCAL_VERSIONS if allow_local_versions is None else allow_local_versions
    if metadata.version.local and not allow_local:
        raise bad_request(
            f"The use of local versions in '{metadata.version}' is not allowed. "
            "See https://packaging.python.org/specifications/version-specifiers/#local-version-identifiers "
            "for more information."
        )
    _check_index_rules(raw)
    return ValidatedMetadata(name=raw["name"], version=raw["version"], release_fields=release_fields(raw))


def _name_error(name: str):
    return _error(
        f"'{_display(name)}' is an invalid value for Name. Error: Start and end with a letter or numeral "
        "containing only ASCII numeric and '.', '_' and '-'."
    )


def _check_required(raw: RawMetadata) -> None:
    if "metadata_version" not in raw:
        raise _error("'metadata_version' is a required field.")
    if "name" not in raw:
        raise _error("'name' is a required field.")
    if "version" not in raw:
        raise _error("'version' is a required field.")
    if not is_valid_project_name(raw["name"]):
        raise _name_error(raw["name"])


def _check_index_rules(raw: RawMetadata) -> None:
    by_key: Mapping[str, Any] = raw  # looked up by keys held in variables below
    if len(raw.get("summary", "")) > MAX_SUMMARY:
        raise _error(f"'summary' must be {MAX_SUMMARY} characters or less.")
    for key, limit in _COLUMN_LIMITS.items():
        if len(by_key.get(key, "")) > limit:
            raise _error(f"'{key}' must be {limit} characters or less.")
    for classifier in raw.get("classifiers", []):
        _check_classifier(classifier)
    for key in ("home_page", "download_url"):
        if key in raw and not _is_url(by_key[key]):
            raise _error(f"{key.replace('_', '-').title()} {by_key[key]!r} is not a valid URL.")
    for label, url in raw.get("project_urls", {}).items():
        if not label or len(label) > MAX_URL_LABEL:
            raise _error(f"Project-URL label {label!r} must be between 1 and {MAX_URL_LABEL} characters.")
        if not _is_url(url):
            raise _error(f"Project-URL {url!r} is not a valid URL.")
    for key in ("requires_dist", "provides_dist", "obsoletes_dist"):
        for value in by_key.get(key, []):
            _check_no_direct_reference(key, value)
    _check_import_names(raw)
    if raw.get("license") and raw.get("license_expression"):
        raise _error("License and License-Expression are mutually exclusive; use License-Expression.")


def _import_name(entry: str) -> str:
    return entry.partition(";")[0].strip()


def _check_import_names(raw: RawMetadata) -> None:
    """PEP 794: a name listed as both is ambiguous, and tools MUST refuse it (packaging does not check)."""
    namespaces = {_import_name(entry) for entry in raw.get("import_namespaces", [])}
    for entry in raw.get("import_names", []):
        if _import_name(entry) in namespaces:
            raise _error(f"{_import_name(entry)!r} is both an Import-Name and an Import-Namespace; list it once.")


def _check_classifier(classifier: str) -> None:
    if classifier.startswith(PRIVATE_CLASSIFIER_PREFIX):
        return
    if classifier in deprecated_classifiers:
        raise _error(f"Classifier {classifier!r} has been deprecated.")
    if classifier not in all_classifiers and not settings.ALLOW_UNKNOWN_CLASSIFIERS:
        raise _error(
            f"Classifier {classifier!r} is not a valid classifier. If it is newer than this index's list, "
            "its operator can set ALLOW_UNKNOWN_CLASSIFIERS=true."
        )


def _check_no_direct_reference(key: str, value: str) -> None:
    try:
        requirement = Requirement(value)
    except InvalidRequirement as exc:
        raise _error(f"{value!r} is an invalid value for {key}: {exc}.") from None
    if not requirement.url:
        return
    if key == "requires_dist" and settings.ALLOW_DIRECT_URL_DEPENDENCIES:
        return
    hint = " This index's operator can set ALLOW_DIRECT_URL_DEPENDENCIES=true." if key == "requires_dist" else ""
    raise _error(f"Can't have direct dependency: {value!r}.{hint}")


def _is_url(value: str) -> bool:
    parts = urlsplit(value)
    return parts.scheme in ("http", "https") and bool(parts.netloc)


def release_fields(raw: RawMetadata) -> dict[str, Any]:
    """Release model fields from raw metadata (the first upload's form, as on PyPI)."""
    by_key: Mapping[str, Any] = raw
    fields: dict[str, Any] = {}
    for field in core_metadata.KEPT:
        assert field.column is not None  # KEPT holds only the fields with a column
        value = by_key.get(field.raw_key, core_metadata.empty_value(field))
        fields[field.column] = ",".join(value) if field.shape is Shape.KEYWORDS else value
    return fields
