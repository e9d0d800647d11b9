"""Properties over inputs hypothesis draws: any text or bytes in any form field,
any file name, any damage to a sound wheel. The upload is never a 5xx; a
refusal is a 4xx that says why and keeps nothing; what is accepted is exactly
what was sent.

The example counts live in tests/hostile/catalogue.py (they are the figures
docs/reliability.md reports); runs are derandomized, so a failure repeats.
"""

from __future__ import annotations

import contextlib
import hashlib

from django.db import transaction
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from packaging.utils import parse_wheel_filename

from harness.upload_form import Upload, twine_form
from packages_app.models import File
from packages_app.pages import store
from packages_app.storage import package_storage
from packages_app.upload import form
from tests.caches import empty_own_cache
from tests.functional.upload_client import empty_storage
from tests.hostile import catalogue, checks, payloads


def _settings(examples: int):
    return settings(
        max_examples=examples,
        deadline=None,
        derandomize=True,
        database=None,
        suppress_health_check=[HealthCheck.too_slow],
    )


@contextlib.contextmanager
def rolled_back():
    """Each example starts from the test's own state: rows, stored files and built pages."""
    try:
        with transaction.atomic():
            yield
            transaction.set_rollback(True)
    finally:
        empty_storage()
        store.forget_everything()
        empty_own_cache()


def assert_refused_cleanly(response, before, upload_temp_dir) -> None:
    body = response.content.decode("utf-8", "replace")
    assert 400 <= response.status_code < 500, (response.status_code, body[:300])
    message = body.removesuffix("\n")
    assert message.strip(), "a refusal must say why"
    assert checks.as_reason_phrase(message) == response.reason_phrase
    checks.assert_nothing_kept(before, upload_temp_dir)


def assert_kept_as_sent(filename: str, data: bytes) -> None:
    (file,) = File.objects.all()
    assert file.filename == filename
    assert file.sha256_digest == hashlib.sha256(data).hexdigest()
    with package_storage().open(file.path) as stored:
        assert stored.read() == data


FIELDS = sorted((form.SINGLE_FIELDS | form.REPEATABLE_FIELDS) - {":action"}) + ["x-unknown-field"]
VALUES = st.one_of(st.text(max_size=300), st.binary(max_size=300))


def test_any_value_in_any_field(client, owner_auth, upload_temp_dir, tmp_path):
    @_settings(catalogue.FORM_EXAMPLES)
    @given(field=st.sampled_from(FIELDS), value=VALUES)
    def example(field, value):
        with rolled_back():
            before = checks.index_state()
            response = checks.send(client, Upload.of(catalogue.sound_form().with_value(field, value)), owner_auth)
            if response.status_code == 200:
                assert_kept_as_sent(payloads.WHEEL, payloads.wheel())
            else:
                assert_refused_cleanly(response, before, upload_temp_dir)

    example()
    checks.assert_index_healthy(client, tmp_path, owner_auth)


def _near_misses(name: str):
    """The real name with one character added, changed or removed somewhere."""
    position = st.integers(min_value=0, max_value=len(name))
    character = st.characters(codec="utf-8", exclude_characters='"\r\n')
    return st.one_of(
        st.builds(lambda at, char: name[:at] + char + name[at:], position, character),
        st.builds(lambda at, char: name[:at] + char + name[at + 1 :], position, character),
        st.builds(lambda at: name[:at] + name[at + 1 :], position),
    )


FILENAMES = st.one_of(
    st.text(max_size=120),
    st.from_regex(r"[A-Za-z0-9._/\\ -]{1,60}\.(whl|WHL|tar\.gz|zip)", fullmatch=True),
    _near_misses(payloads.WHEEL),
)


def test_any_filename(client, owner_auth, upload_temp_dir, tmp_path):
    @_settings(catalogue.FILENAME_EXAMPLES)
    @given(filename=FILENAMES)
    def example(filename):
        with rolled_back():
            before = checks.index_state()
            upload = Upload.of(catalogue.sound_form().with_content(filename=filename))
            response = checks.send(client, upload, owner_auth)
            if response.status_code == 200:
                # Taken under the name sent, never a rewritten one, and only a wheel name of demo 1.0.
                # (Tags are not checked against the wheel's WHEEL file: 'demo-1.0-A-0-0.whl' is taken.)
                name, version, _build, _tags = parse_wheel_filename(filename)
                assert (name, str(version), filename.split("-")[0]) == ("demo", "1.0", "demo")
                assert_kept_as_sent(filename, payloads.wheel())
            else:
                assert_refused_cleanly(response, before, upload_temp_dir)

    example()
    checks.assert_index_healthy(client, tmp_path, owner_auth)


def _damaged(sound: bytes):
    size = len(sound)
    flips = st.lists(st.tuples(st.integers(0, size - 1), st.integers(0, 255)), min_size=1, max_size=8)

    def flip(changes):
        data = bytearray(sound)
        for at, value in changes:
            data[at] = value
        return bytes(data)

    return st.one_of(st.builds(lambda at: sound[:at], st.integers(0, size - 1)), st.builds(flip, flips))


def test_any_damage_to_a_wheel(client, owner_auth, upload_temp_dir, tmp_path):
    @_settings(catalogue.ARCHIVE_EXAMPLES)
    @given(data=_damaged(payloads.wheel()))
    def example(data):
        with rolled_back():
            before = checks.index_state()
            upload = Upload.of(twine_form(data, payloads.WHEEL, payloads.NAME, payloads.VERSION))
            response = checks.send(client, upload, owner_auth)
            if response.status_code == 200:
                # A flip inside a member the index does not read (the module's bytes) is still a valid zip.
                assert_kept_as_sent(payloads.WHEEL, data)
            else:
                assert_refused_cleanly(response, before, upload_temp_dir)

    example()
    checks.assert_index_healthy(client, tmp_path, owner_auth)
