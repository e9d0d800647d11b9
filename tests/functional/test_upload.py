"""The upload endpoint over HTTP: what is accepted, what is refused and with
which words, and that a refusal leaves no row and no file."""

from __future__ import annotations

import hashlib
import io
import os
from datetime import timedelta

import pytest
from django.utils import timezone

from harness.dists import build_sdist, build_wheel
from packages_app.models import File, JournalEntry, Project, Release, Role
from packages_app.services import files as file_services
from packages_app.services import projects, roles
from packages_app.services import tokens as token_services
from packages_app.storage import package_storage
from tests.factories import UserFactory
from tests.functional.upload_client import basic_auth, post_upload, stored_files, twine_fields

PASSWORD = "correct horse battery staple"  # the factories' password


@pytest.fixture
def owner(db):
    return UserFactory(username="owner")


@pytest.fixture
def owner_auth(owner):
    return basic_auth("owner", PASSWORD)


@pytest.fixture
def wheel(tmp_path):
    return build_wheel(tmp_path, "Demo_Pkg", "1.0", requires_python=">=3.9")


def assert_refused(response, status: int, message: str) -> None:
    assert response.status_code == status, response.content
    assert message in response.reason_phrase
    assert message in response.content.decode()


def test_wheel_upload_creates_project_release_file_and_metadata(client, owner, owner_auth, wheel):
    response = post_upload(client, twine_fields(wheel, "Demo_Pkg", "1.0", requires_python=">=3.9"), owner_auth)
    assert response.status_code == 200, response.content
    project = Project.objects.get()
    assert (project.name, project.normalized_name) == ("Demo_Pkg", "demo-pkg")
    assert Role.objects.get(project=project).role_name == "Owner"
    release = Release.objects.get()
    assert (release.version, release.summary, release.requires_python) == ("1.0", "A test package", ">=3.9")
    file = File.objects.get()
    data = wheel.read_bytes()
    assert file.sha256_digest == hashlib.sha256(data).hexdigest()
    assert file.md5_digest == hashlib.md5(data).hexdigest()  # noqa: S324 - the digest PyPI records
    assert file.size == len(data)
    assert file.uploaded_by == owner
    storage = package_storage()
    with storage.open(file.path) as stored:
        assert stored.read() == data
    with storage.open(file.metadata_path) as metadata:
        core_metadata = metadata.read()
    assert b"Name: Demo_Pkg" in core_metadata
    assert file.metadata_sha256 == hashlib.sha256(core_metadata).hexdigest()
    b2 = file.blake2_256_digest
    assert file.path == f"{b2[:2]}/{b2[2:4]}/{b2[4:]}/{wheel.name}"
    actions = list(JournalEntry.objects.values_list("action", flat=True))
    assert actions == ["create", "add Owner owner", "new release", f"add py3 file {wheel.name}"]


def test_sdist_then_wheel_share_one_release(client, owner_auth, tmp_path):
    sdist = build_sdist(tmp_path, "demo", "1.0")
    wheel = build_wheel(tmp_path, "demo", "1.0")
    assert post_upload(client, twine_fields(sdist, "demo", "1.0"), owner_auth).status_code == 200
    assert post_upload(client, twine_fields(wheel, "demo", "1.0"), owner_auth).status_code == 200
    assert Release.objects.count() == 1
    sdist_row = File.objects.get(packagetype="sdist")
    assert sdist_row.python_version == "source"
    assert sdist_row.metadata_sha256 is None  # PEP 658 metadata is served for wheels only, as on PyPI


def test_identical_reupload_is_a_no_op_success(client, owner_auth, wheel):
    fields = twine_fields(wheel, "Demo_Pkg", "1.0")
    assert post_upload(client, fields, owner_auth).status_code == 200
    serial = Project.objects.get().last_serial
    files = stored_files()
    again = post_upload(client, twine_fields(wheel, "Demo_Pkg", "1.0"), owner_auth)
    assert again.status_code == 200
    assert File.objects.count() == 1
    assert Project.objects.get().last_serial == serial
    assert stored_files() == files


def test_same_name_other_bytes_is_file_already_exists(client, owner_auth, tmp_path):
    first = build_wheel(tmp_path / "a", "demo", "1.0")
    second = build_wheel(tmp_path / "b", "demo", "1.0", module_body="changed = True\n")
    assert post_upload(client, twine_fields(first, "demo", "1.0"), owner_auth).status_code == 200
    files = stored_files()
    response = post_upload(client, twine_fields(second, "demo", "1.0"), owner_auth)
    assert_refused(response, 400, f"File already exists ('{second.name}', with blake2_256 hash")
    assert File.objects.count() == 1
    assert stored_files() == files


def test_deleted_filename_cannot_be_reused(client, owner_auth, wheel):
    assert post_upload(client, twine_fields(wheel, "Demo_Pkg", "1.0"), owner_auth).status_code == 200
    file_services.delete_file(File.objects.get())
    response = post_upload(client, twine_fields(wheel, "Demo_Pkg", "1.0"), owner_auth)
    assert_refused(response, 400, "This filename was previously used by a file that has since been deleted")
    assert not File.objects.exists()


def test_only_one_sdist_per_release(client, owner_auth, tmp_path):
    sdist = build_sdist(tmp_path, "demo", "1.0")
    assert post_upload(client, twine_fields(sdist, "demo", "1.0"), owner_auth).status_code == 200
    other = tmp_path / "other"
    other.mkdir()
    # A second sdist can only differ by name if the version is spelled differently.
    second = build_sdist(other, "demo", "1.0.0")
    response = post_upload(client, twine_fields(second, "demo", "1.0.0"), owner_auth)
    assert_refused(response, 400, "Only one sdist may be uploaded per release.")


def test_missing_credentials_get_401_with_basic_challenge(client, owner, wheel):
    response = post_upload(client, twine_fields(wheel, "Demo_Pkg", "1.0"), None)
    assert_refused(response, 401, "Invalid or non-existent authentication information.")
    assert response["WWW-Authenticate"].startswith("Basic ")
    assert not Project.objects.exists()


def test_wrong_password_gets_401(client, owner, wheel):
    response = post_upload(client, twine_fields(wheel, "Demo_Pkg", "1.0"), basic_auth("owner", "wrong"))
    assert_refused(response, 401, "Invalid or non-existent authentication information.")
    assert not Project.objects.exists()
    assert stored_files() == []


def head_only_upload(client, auth: str | None):
    """An upload whose Content-Length promises 40 MiB of which a few bytes ever come.

    Read, such a body is refused as one that ended early: a refusal that names the
    credentials was made before reading it.
    """
    extra = {"CONTENT_LENGTH": str(40 * 1024**2), "wsgi.input": io.BytesIO(b"--boundary\r\n")}
    if auth:
        extra["HTTP_AUTHORIZATION"] = auth
    return client.generic("POST", "/legacy/", b"", content_type="multipart/form-data; boundary=boundary", **extra)


@pytest.mark.parametrize(
    ("auth", "message"),
    [
        (None, "Invalid or non-existent authentication information."),
        (basic_auth("owner", "wrong"), "Invalid or non-existent authentication information."),
        (basic_auth("__token__", "pyidx_0000_unknown"), "Invalid API Token: the token is not recognised."),
    ],
    ids=["none", "wrong password", "unknown token"],
)
def test_credentials_are_refused_before_the_body_is_read(client, owner, auth, message):
    response = head_only_upload(client, auth)
    assert_refused(response, 401, message)
    # The server must not wait for (or drain) a body nobody will read.
    assert response["Connection"] == "close"


def test_a_locked_out_client_is_refused_before_the_body_is_read(client, owner, owner_auth):
    for _ in range(10):  # AUTH_FAILURE_LIMIT
        assert head_only_upload(client, basic_auth("owner", "wrong")).status_code == 401
    response = head_only_upload(client, owner_auth)
    assert_refused(response, 429, "Too many failed authentication attempts")
    assert response["Connection"] == "close"


def test_a_refusal_after_the_body_keeps_the_connection(client, owner_auth, wheel):
    response = post_upload(client, twine_fields(wheel, "Demo_Pkg", "1.0", sha256_digest="0" * 64), owner_auth)
    assert response.status_code == 400
    assert "Connection" not in response


def test_password_uploads_can_be_disabled(client, owner, owner_auth, wheel, settings):
    settings.ALLOW_PASSWORD_UPLOADS = False
    response = post_upload(client, twine_fields(wheel, "Demo_Pkg", "1.0"), owner_auth)
    assert_refused(response, 401, "use an API token with the user name __token__")


def test_token_upload_and_last_used(client, owner, wheel):
    token, plaintext = token_services.create_token(owner, name="ci")
    response = post_upload(client, twine_fields(wheel, "Demo_Pkg", "1.0"), basic_auth("__token__", plaintext))
    assert response.status_code == 200
    token.refresh_from_db()
    assert token.last_used is not None


@pytest.mark.parametrize(
    ("mutate", "message"),
    [
        ("revoke", "Invalid API Token: the token has been revoked."),
        ("expire", "Invalid API Token: the token has expired."),
        ("garble", "Invalid API Token: the token is not recognised."),
    ],
)
def test_bad_tokens_get_401(client, owner, wheel, mutate, message):
    token, plaintext = token_services.create_token(owner)
    if mutate == "revoke":
        token_services.revoke_token(token)
    elif mutate == "expire":
        type(token).objects.filter(pk=token.pk).update(expires=timezone.now() - timedelta(seconds=1))
    else:
        plaintext = plaintext[:-3] + "xyz"
    response = post_upload(client, twine_fields(wheel, "Demo_Pkg", "1.0"), basic_auth("__token__", plaintext))
    assert_refused(response, 401, message)
    assert not Project.objects.exists()


def test_token_limited_to_another_project_gets_403(client, owner, tmp_path):
    other = projects.create_project("other")
    demo = projects.create_project("demo")
    roles.grant_role(demo, owner, "Owner")
    _, plaintext = token_services.create_token(owner, projects=[other])
    wheel = build_wheel(tmp_path, "demo", "1.0")
    response = post_upload(client, twine_fields(wheel, "demo", "1.0"), basic_auth("__token__", plaintext))
    assert_refused(response, 403, "The given token isn't allowed to upload to project 'demo'.")
    new = build_wheel(tmp_path, "brand-new", "1.0")
    response = post_upload(client, twine_fields(new, "brand-new", "1.0"), basic_auth("__token__", plaintext))
    assert_refused(response, 403, "The given token isn't allowed to create the new project 'brand-new'.")
    assert not File.objects.exists()


def test_user_without_role_gets_403_naming_the_project(client, tmp_path, db):
    projects.create_project("demo")
    UserFactory(username="stranger")
    wheel = build_wheel(tmp_path, "demo", "1.0")
    response = post_upload(client, twine_fields(wheel, "demo", "1.0"), basic_auth("stranger", PASSWORD))
    assert_refused(response, 403, "The user 'stranger' isn't allowed to upload to project 'demo'.")


def test_maintainer_may_upload(client, tmp_path, db):
    demo = projects.create_project("demo")
    roles.grant_role(demo, UserFactory(username="helper"), "Maintainer")
    wheel = build_wheel(tmp_path, "demo", "1.0")
    response = post_upload(client, twine_fields(wheel, "demo", "1.0"), basic_auth("helper", PASSWORD))
    assert response.status_code == 200


@pytest.mark.parametrize("status", ["archived", "quarantined"])
def test_archived_and_quarantined_projects_accept_no_uploads(client, owner, owner_auth, tmp_path, status):
    demo = projects.create_project("demo")
    roles.grant_role(demo, owner, "Owner")
    projects.set_status(demo, status)
    wheel = build_wheel(tmp_path, "demo", "1.0")
    response = post_upload(client, twine_fields(wheel, "demo", "1.0"), owner_auth)
    assert_refused(response, 403, f"Project 'demo' is {status} and accepts no new uploads.")


def test_project_creation_can_be_limited_to_staff(client, owner_auth, wheel, settings):
    settings.PROJECT_CREATION = "staff"
    response = post_upload(client, twine_fields(wheel, "Demo_Pkg", "1.0"), owner_auth)
    assert_refused(response, 403, "Only staff may create new projects on this index")


def test_upload_updates_display_name_spelling(client, owner_auth, tmp_path):
    first = build_wheel(tmp_path, "demo-pkg", "1.0")
    assert post_upload(client, twine_fields(first, "demo-pkg", "1.0"), owner_auth).status_code == 200
    second = build_wheel(tmp_path, "Demo.Pkg", "2.0")
    assert post_upload(client, twine_fields(second, "Demo.Pkg", "2.0"), owner_auth).status_code == 200
    assert Project.objects.get().name == "Demo.Pkg"


def test_release_metadata_comes_from_the_first_upload(client, owner_auth, tmp_path):
    sdist = build_sdist(tmp_path, "demo", "1.0")
    wheel = build_wheel(tmp_path, "demo", "1.0")
    post_upload(client, twine_fields(sdist, "demo", "1.0", summary="first"), owner_auth)
    post_upload(client, twine_fields(wheel, "demo", "1.0", summary="second"), owner_auth)
    assert Release.objects.get().summary == "first"


def test_repeated_metadata_fields_are_kept(client, owner_auth, wheel):
    fields = twine_fields(
        wheel,
        "Demo_Pkg",
        "1.0",
        classifiers=["Programming Language :: Python :: 3", "License :: OSI Approved :: MIT License"],
        requires_dist=["requests>=2", "click; extra == 'cli'"],
        provides_extra=["cli"],
        project_urls=["Source, https://example.invalid/src", "Docs, https://example.invalid/docs"],
        keywords="one,two",
    )
    assert post_upload(client, fields, owner_auth).status_code == 200
    release = Release.objects.get()
    assert release.classifiers == ["Programming Language :: Python :: 3", "License :: OSI Approved :: MIT License"]
    assert release.requires_dist == ["requests>=2", "click; extra == 'cli'"]
    assert release.project_urls == {"Source": "https://example.invalid/src", "Docs": "https://example.invalid/docs"}
    assert release.keywords == "one,two"


REFUSALS = [
    # (field overrides, status, message start)
    ({":action": "submit"}, 410, "Project pre-registration is no longer required or supported"),
    ({":action": "doc_upload"}, 410, "Uploading documentation is not supported"),
    ({":action": None}, 400, "Unknown or missing ':action'"),
    ({"protocol_version": "2"}, 400, "Unknown protocol version."),
    ({"filetype": "bdist_egg"}, 400, "Invalid value for filetype. Error: Use a known file type."),
    ({"filetype": None}, 400, "Invalid value for filetype. Error: This field is required."),
    ({"pyversion": None}, 400, "Python version is required for binary distribution uploads."),
    ({"sha256_digest": "abc"}, 400, "Use a valid, hex-encoded, SHA256 message digest."),
    ({"blake2_256_digest": "zz" * 32}, 400, "Use a valid, hex-encoded, BLAKE2 message digest."),
    ({"sha256_digest": None, "blake2_256_digest": None}, 400, "Include at least one message digest."),
    (
        {"sha256_digest": "0" * 64},
        400,
        "The digest supplied does not match a digest calculated from the uploaded file.",
    ),
    ({"md5_digest": "0" * 32}, 400, "The digest supplied does not match"),
    ({"metadata_version": "2.0"}, 400, "'2.0' is not a valid metadata version"),
    ({"metadata_version": None}, 400, "'metadata_version' is a required field."),
    ({"name": "-bad-"}, 400, "'-bad-' is an invalid value for Name."),
    ({"version": "not a version"}, 400, "'not a version' is invalid for 'version'."),
    ({"version": "1.0+local"}, 400, "The use of local versions in '1.0+local' is not allowed."),
    ({"summary": "x" * 513}, 400, "'summary' must be 512 characters or less."),
    ({"classifiers": ["Made Up :: Classifier"]}, 400, "Classifier 'Made Up :: Classifier' is not a valid classifier."),
    ({"home_page": "not a url"}, 400, "Home-Page 'not a url' is not a valid URL."),
    ({"project_urls": ["x" * 33 + ", https://example.invalid"]}, 400, "must be between 1 and 32 characters"),
    ({"requires_dist": ["pkg @ https://example.invalid/pkg.whl"]}, 400, "Can't have direct dependency"),
    ({"license": "MIT", "license_expression": "MIT", "metadata_version": "2.4"}, 400, "mutually exclusive"),
    ({"content": None}, 400, "Upload payload does not have a file."),
]


@pytest.mark.parametrize(("overrides", "status", "message"), REFUSALS)
def test_form_refusals(client, owner_auth, wheel, overrides, status, message):
    response = post_upload(client, twine_fields(wheel, "Demo_Pkg", "1.0", **overrides), owner_auth)
    assert response.status_code == status, response.content
    assert message.lower() in response.content.decode().lower()
    assert message.lower() in response.reason_phrase.lower()
    assert not Project.objects.exists()
    assert stored_files() == []


def test_name_mismatch_between_filename_and_metadata(client, owner_auth, tmp_path):
    wheel = build_wheel(tmp_path, "other", "1.0")
    response = post_upload(client, twine_fields(wheel, "demo", "1.0"), owner_auth)
    assert_refused(response, 400, "Start filename for 'demo' with 'demo'.")
    assert not Project.objects.exists()


def test_version_mismatch_between_filename_and_metadata(client, owner_auth, tmp_path):
    wheel = build_wheel(tmp_path, "demo", "1.0")
    response = post_upload(client, twine_fields(wheel, "demo", "2.0"), owner_auth)
    assert_refused(response, 400, "Version in filename should be '2.0' not '1.0'.")


def test_wheel_name_must_be_normalised(client, owner_auth, tmp_path):
    wheel = build_wheel(tmp_path, "demo-pkg", "1.0", filename_name="Demo_Pkg")
    response = post_upload(client, twine_fields(wheel, "demo-pkg", "1.0"), owner_auth)
    assert_refused(response, 400, "should contain the normalized project name 'demo_pkg', not 'Demo_Pkg'.")


def test_sdist_must_follow_pep_625(client, owner_auth, tmp_path):
    sdist = build_sdist(tmp_path, "demo", "1.0")
    renamed = sdist.with_name("demo-1.0.0.tar.gz")
    sdist.rename(renamed)
    response = post_upload(client, twine_fields(renamed, "demo", "1.0"), owner_auth)
    assert_refused(response, 400, "Filename 'demo-1.0.0.tar.gz' is invalid, should be 'demo-1.0.tar.gz'.")


@pytest.mark.parametrize(
    ("filename", "message"),
    [
        ("demo-1.0.exe", "Invalid file extension: Use .tar.gz or .whl extension."),
        ("demo-1.0.zip", "Invalid file extension: Extension .zip is invalid for filetype bdist_wheel."),
    ],
)
def test_bad_filenames(client, owner_auth, wheel, tmp_path, filename, message):
    fields = twine_fields(wheel, "Demo_Pkg", "1.0")
    fields["content"].name = filename
    response = post_upload(client, fields, owner_auth)
    assert_refused(response, 400, message)
    assert stored_files() == []


@pytest.mark.parametrize("filename", ["../../demo_pkg-1.0-py3-none-any.whl", "demo\x01_pkg-1.0-py3-none-any.whl"])
def test_hostile_filenames_never_reach_storage(client, owner_auth, wheel, filename):
    """Django's parser keeps only the base name; whatever is left must still match the metadata."""
    fields = twine_fields(wheel, "Demo_Pkg", "1.0")
    fields["content"].name = filename
    response = post_upload(client, fields, owner_auth)
    if response.status_code == 200:
        assert File.objects.get().filename == "demo_pkg-1.0-py3-none-any.whl"
    else:
        assert response.status_code == 400
        assert stored_files() == []


def test_corrupt_wheel_is_refused(client, owner_auth, tmp_path):
    wheel = build_wheel(tmp_path, "demo", "1.0")
    wheel.write_bytes(b"this is not a zip file")
    response = post_upload(client, twine_fields(wheel, "demo", "1.0"), owner_auth)
    assert_refused(response, 400, "Invalid distribution file.")
    assert not Project.objects.exists()
    assert stored_files() == []


def test_part_without_content_type_is_accepted(client, owner_auth, wheel):
    fields = twine_fields(wheel, "Demo_Pkg", "1.0")
    fields["content"].content_type = ""
    assert post_upload(client, fields, owner_auth).status_code == 200


def test_image_content_type_is_refused(client, owner_auth, wheel):
    fields = twine_fields(wheel, "Demo_Pkg", "1.0")
    fields["content"].content_type = "image/png"
    assert_refused(post_upload(client, fields, owner_auth), 400, "Invalid distribution file.")


def test_file_over_the_size_limit_is_refused(client, owner_auth, tmp_path, settings):
    wheel = build_wheel(tmp_path, "demo", "1.0", module_body=f"x = '{os.urandom(4096).hex()}'\n")
    settings.MAX_FILE_SIZE = 4096
    response = post_upload(client, twine_fields(wheel, "demo", "1.0"), owner_auth)
    assert_refused(response, 400, "File too large. Limit for project 'demo' is 4 KB.")
    assert stored_files() == []


def test_project_over_its_total_size_is_refused(client, owner_auth, tmp_path, settings):
    first = build_wheel(tmp_path, "demo", "1.0")
    assert post_upload(client, twine_fields(first, "demo", "1.0"), owner_auth).status_code == 200
    settings.MAX_PROJECT_SIZE = first.stat().st_size + 10
    second = build_wheel(tmp_path, "demo", "2.0")
    response = post_upload(client, twine_fields(second, "demo", "2.0"), owner_auth)
    assert_refused(response, 400, "Project size too large. Limit for project 'demo' total size is")
    assert File.objects.count() == 1


def test_upload_without_trailing_slash_is_redirected(client):
    response = client.post("/legacy", {":action": "file_upload"})
    assert response.status_code == 308
    assert response["Location"].endswith("/legacy/")
    assert "expected upload URL is /legacy/" in response.reason_phrase


def test_get_is_not_allowed(client):
    response = client.get("/legacy/")
    assert response.status_code == 405
