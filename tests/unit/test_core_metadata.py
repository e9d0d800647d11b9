"""The core metadata table (packages_app.core_metadata) against what it describes."""

from packages_app import core_metadata
from packages_app.models import Release


def test_every_kept_field_has_its_release_column():
    columns = {field.name for field in Release._meta.get_fields()}
    assert set(core_metadata.COLUMNS) <= columns


def test_a_form_key_and_a_raw_key_name_one_field_each():
    for key in ("form_key", "raw_key"):
        names = [getattr(field, key) for field in core_metadata.FIELDS]
        assert len(names) == len(set(names)), key


def test_repeatable_and_single_form_keys_do_not_overlap():
    assert not core_metadata.SINGLE_FORM_KEYS & core_metadata.MULTIPLE_USE_FORM_KEYS
    assert {"classifiers", "project_urls", "license_file"} <= core_metadata.MULTIPLE_USE_FORM_KEYS
    assert {"name", "version", "keywords", "summary"} <= core_metadata.SINGLE_FORM_KEYS


def test_an_absent_list_field_is_a_fresh_list_each_time():
    classifiers = next(field for field in core_metadata.KEPT if field.column == "classifiers")
    first = core_metadata.empty_value(classifiers)
    first.append("changed")
    assert core_metadata.empty_value(classifiers) == []
