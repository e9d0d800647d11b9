"""The one table of core metadata fields: how each is sent, read, kept and shown.

The upload form's keys, ``packaging``'s RawMetadata keys, the Release columns (also the
metadata API's names, PEP 566's JSON form), which fields may repeat, and which the legacy
XML-RPC search and JSON ``info`` carry are all read from ``FIELDS``; a new metadata field
is one new row here (and its column in ``models.Release``).
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import Enum


class Shape(Enum):
    """How a field's value travels from the upload form to its column."""

    TEXT = "text"  # one value, kept as sent
    LIST = "list"  # a repeated form key, kept as a list
    KEYWORDS = "keywords"  # one comma-separated value; packaging splits it, the column joins it again
    LABELLED_URLS = "labelled-urls"  # repeated "label, url" keys, kept as {label: url}


@dataclass(frozen=True)
class Field:
    form_key: str  # the upload form's key (twine and uv send these)
    raw_key: str  # packaging.metadata.RawMetadata's key
    shape: Shape
    column: str | None = None  # the Release column and the metadata API's key; None: not kept
    searchable: bool = False  # XML-RPC ``search`` may match it
    legacy_json: bool = False  # PyPI's legacy JSON ``info`` carries it

    @property
    def multiple_use(self) -> bool:
        """The form may send the key more than once."""
        return self.shape in (Shape.LIST, Shape.LABELLED_URLS)


def _kept(name: str, shape: Shape = Shape.TEXT, *, raw_key: str | None = None, form_key: str | None = None, **flags):
    return Field(form_key=form_key or name, raw_key=raw_key or name, shape=shape, column=name, **flags)


# In the metadata API's order (the order of the Release model's fields).
FIELDS: tuple[Field, ...] = (
    # Not kept on the release: the project and version are, and the 1.1 fields are read and dropped.
    Field("name", "name", Shape.TEXT),
    Field("version", "version", Shape.TEXT),
    Field("requires", "requires", Shape.LIST),
    Field("provides", "provides", Shape.LIST),
    Field("obsoletes", "obsoletes", Shape.LIST),
    _kept("metadata_version"),
    _kept("summary", searchable=True, legacy_json=True),
    _kept("description", searchable=True, legacy_json=True),
    _kept("description_content_type", legacy_json=True),
    _kept("author", searchable=True, legacy_json=True),
    _kept("author_email", searchable=True, legacy_json=True),
    _kept("maintainer", searchable=True, legacy_json=True),
    _kept("maintainer_email", searchable=True, legacy_json=True),
    _kept("license", searchable=True, legacy_json=True),
    _kept("license_expression", legacy_json=True),
    _kept("license_files", Shape.LIST, form_key="license_file", legacy_json=True),
    _kept("keywords", Shape.KEYWORDS, searchable=True, legacy_json=True),
    _kept("classifiers", Shape.LIST, legacy_json=True),
    _kept("platform", Shape.LIST, raw_key="platforms", legacy_json=True),
    _kept("supported_platform", Shape.LIST, raw_key="supported_platforms"),
    _kept("home_page", searchable=True, legacy_json=True),
    _kept("download_url", searchable=True, legacy_json=True),
    _kept("project_urls", Shape.LABELLED_URLS, legacy_json=True),
    _kept("requires_python", legacy_json=True),
    _kept("requires_dist", Shape.LIST, legacy_json=True),
    _kept("provides_extra", Shape.LIST, legacy_json=True),
    _kept("requires_external", Shape.LIST),
    _kept("provides_dist", Shape.LIST),
    _kept("obsoletes_dist", Shape.LIST),
    _kept("dynamic", Shape.LIST, legacy_json=True),
    # PEP 794, as uv publish sends them.
    _kept("import_names", Shape.LIST),
    _kept("import_namespaces", Shape.LIST),
)

KEPT: tuple[Field, ...] = tuple(field for field in FIELDS if field.column is not None)
# Release columns a caller may set from core metadata, in the metadata API's order.
COLUMNS: tuple[str, ...] = tuple(field.column for field in KEPT if field.column is not None)
SINGLE_FORM_KEYS = frozenset(field.form_key for field in FIELDS if not field.multiple_use)
MULTIPLE_USE_FORM_KEYS = frozenset(field.form_key for field in FIELDS if field.multiple_use)
# XML-RPC search: field -> the column it matches; the project's name and the version come first.
SEARCH_COLUMNS = {
    "name": "project__name",
    "version": "version",
    **{field.column: field.column for field in KEPT if field.searchable and field.column is not None},
}

_EMPTY = {Shape.TEXT: "", Shape.LIST: [], Shape.KEYWORDS: [], Shape.LABELLED_URLS: {}}


def empty_value(field: Field):
    """The column's value when the field was not sent (a fresh list or dict each time)."""
    value = _EMPTY[field.shape]
    return value.copy() if isinstance(value, list | dict) else value
