"""The form's field rules agree with the metadata stage that reads the fields."""

from __future__ import annotations

from packages_app.upload import form, metadata


def test_every_multiple_use_field_may_repeat_and_no_single_one():
    assert set(metadata._MULTI) | {"project_urls"} == form.REPEATABLE_FIELDS
    assert set(metadata._SINGLE) | {"keywords"} <= form.SINGLE_FIELDS
    assert not form.SINGLE_FIELDS & form.REPEATABLE_FIELDS
