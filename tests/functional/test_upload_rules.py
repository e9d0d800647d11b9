"""Upload rules a private index needs to relax or add (issue 18): private classifiers,
direct URL dependencies, classifiers newer than the index's list, platform tags.

Each relaxation is a setting whose default is PyPI's behaviour, so every test here
checks both sides: the default refuses (or accepts, for platform tags) and the
setting changes exactly that.
"""

from __future__ import annotations

from datetime import timedelta
from io import StringIO

import pytest
from django.utils import timezone

from harness.dists import build_sdist, build_wheel
from packages_app.models import File, Project, Release
from tests.factories import UserFactory
from tests.functional.upload_client import basic_auth, post_upload, stored_files, twine_fields

PASSWORD = "correct horse battery staple"  # the factories' password


@pytest.fixture
def owner_auth(db):
    UserFactory(username="owner")
    return basic_auth("owner", PASSWORD)


def upload(client, auth, path, name, version, **overrides):
    return post_upload(client, twine_fields(path, name, version, **overrides), auth)


def assert_refused(response, message: str) -> None:
    assert response.status_code == 400, response.content
    assert message in response.content.decode()
    assert message in response.reason_phrase
    assert stored_files() == []


# ---------------------------------------------------------------- private classifiers


@pytest.mark.parametrize("classifier", ["Private :: Do Not Upload", "Private :: Acme Corp :: Internal"])
def test_private_classifiers_are_accepted(client, owner_auth, tmp_path, classifier):
    """The packaging guide tells internal packages to carry one, so that PyPI refuses them."""
    wheel = build_wheel(tmp_path, "internal-tool", "1.0", extra_metadata=[("Classifier", classifier)])
    classifiers = ["Programming Language :: Python :: 3", classifier]
    response = upload(client, owner_auth, wheel, "internal-tool", "1.0", classifiers=classifiers)
    assert response.status_code == 200, response.content
    assert Release.objects.get().classifiers == classifiers


def test_private_classifiers_are_accepted_even_when_unknown_ones_are_not(client, owner_auth, tmp_path, settings):
    settings.ALLOW_UNKNOWN_CLASSIFIERS = False
    wheel = build_wheel(tmp_path, "internal-tool", "1.0")
    response = upload(client, owner_auth, wheel, "internal-tool", "1.0", classifiers=["Private :: Do Not Upload"])
    assert response.status_code == 200, response.content


def test_a_classifier_that_only_looks_private_is_still_checked(client, owner_auth, tmp_path):
    wheel = build_wheel(tmp_path, "internal-tool", "1.0")
    response = upload(client, owner_auth, wheel, "internal-tool", "1.0", classifiers=["Private:: Do Not Upload"])
    assert_refused(response, "Classifier 'Private:: Do Not Upload' is not a valid classifier.")


# ---------------------------------------------------------------- unknown classifiers


def test_unknown_classifiers_are_refused_by_default_with_the_setting_named(client, owner_auth, tmp_path):
    wheel = build_wheel(tmp_path, "demo", "1.0")
    response = upload(client, owner_auth, wheel, "demo", "1.0", classifiers=["Framework :: Brand New :: 1"])
    assert_refused(response, "Classifier 'Framework :: Brand New :: 1' is not a valid classifier.")
    assert "ALLOW_UNKNOWN_CLASSIFIERS" in response.content.decode()


def test_unknown_classifiers_are_accepted_when_allowed(client, owner_auth, tmp_path, settings):
    settings.ALLOW_UNKNOWN_CLASSIFIERS = True
    wheel = build_wheel(tmp_path, "demo", "1.0")
    response = upload(client, owner_auth, wheel, "demo", "1.0", classifiers=["Framework :: Brand New :: 1"])
    assert response.status_code == 200, response.content
    assert Release.objects.get().classifiers == ["Framework :: Brand New :: 1"]


def test_deprecated_classifiers_stay_refused_when_unknown_ones_are_allowed(client, owner_auth, tmp_path, settings):
    """A deprecated classifier is known, and its replacement is known too: nothing is lagging."""
    from trove_classifiers import deprecated_classifiers

    settings.ALLOW_UNKNOWN_CLASSIFIERS = True
    deprecated = sorted(deprecated_classifiers)[0]
    wheel = build_wheel(tmp_path, "demo", "1.0")
    response = upload(client, owner_auth, wheel, "demo", "1.0", classifiers=[deprecated])
    assert_refused(response, f"Classifier {deprecated!r} has been deprecated.")


# ---------------------------------------------------------------- direct URL dependencies

DIRECT = "helper @ git+https://git.example.invalid/acme/helper.git@v1.2"


def test_direct_url_dependencies_are_refused_by_default_with_the_setting_named(client, owner_auth, tmp_path):
    wheel = build_wheel(tmp_path, "demo", "1.0", requires_dist=[DIRECT])
    response = upload(client, owner_auth, wheel, "demo", "1.0", requires_dist=[DIRECT])
    assert_refused(response, f"Can't have direct dependency: {DIRECT!r}.")
    assert "ALLOW_DIRECT_URL_DEPENDENCIES" in response.content.decode()


def test_direct_url_dependencies_are_accepted_when_allowed(client, owner_auth, tmp_path, settings):
    settings.ALLOW_DIRECT_URL_DEPENDENCIES = True
    wheel = build_wheel(tmp_path, "demo", "1.0", requires_dist=[DIRECT, "requests>=2"])
    response = upload(client, owner_auth, wheel, "demo", "1.0", requires_dist=[DIRECT, "requests>=2"])
    assert response.status_code == 200, response.content
    assert Release.objects.get().requires_dist == [DIRECT, "requests>=2"]
    # The simple page serves the wheel's metadata (PEP 658) with the dependency as written.
    file = File.objects.get()
    page = client.get("/simple/demo/", HTTP_ACCEPT="application/vnd.pypi.simple.v1+json").json()
    assert page["files"][0]["filename"] == file.filename


def test_allowing_direct_dependencies_still_refuses_malformed_requirements(client, owner_auth, tmp_path, settings):
    settings.ALLOW_DIRECT_URL_DEPENDENCIES = True
    wheel = build_wheel(tmp_path, "demo", "1.0")
    response = upload(client, owner_auth, wheel, "demo", "1.0", requires_dist=["helper @ "])
    assert response.status_code == 400, response.content
    assert not Project.objects.exists()


def test_the_api_registers_releases_with_direct_dependencies_only_when_allowed(client, db, settings):
    from packages_app.services import projects, roles
    from packages_app.services import tokens as token_services

    owner = UserFactory(username="api-owner")
    project = projects.create_project("demo")
    roles.grant_role(project, owner, "Owner")
    _token, secret = token_services.create_token(owner)
    headers = {"HTTP_AUTHORIZATION": f"Bearer {secret}"}
    body = {"version": "1.0", "requires_dist": [DIRECT]}
    refused = client.post("/api/v1/projects/demo/releases/", body, content_type="application/json", **headers)
    assert refused.status_code == 400, refused.content
    assert "ALLOW_DIRECT_URL_DEPENDENCIES" in refused.content.decode()
    settings.ALLOW_DIRECT_URL_DEPENDENCIES = True
    accepted = client.post("/api/v1/projects/demo/releases/", body, content_type="application/json", **headers)
    assert accepted.status_code == 201, accepted.content
    assert accepted.json()["requires_dist"] == [DIRECT]


# ---------------------------------------------------------------- platform tags


def upload_tagged(client, auth, tmp_path, tag: str):
    wheel = build_wheel(tmp_path / tag, "native", "1.0", tag=tag)
    return wheel, upload(client, auth, wheel, "native", "1.0", pyversion=tag.split("-")[0])


def test_plain_linux_wheels_are_accepted_by_default(client, owner_auth, tmp_path, settings):
    """A private index holds wheels built for its own machines; the default keeps that."""
    assert settings.ALLOW_UNSUPPORTED_PLATFORM_TAGS is True
    wheel, response = upload_tagged(client, owner_auth, tmp_path, "cp311-cp311-linux_x86_64")
    assert response.status_code == 200, response.content
    assert File.objects.get().filename == wheel.name


def test_unsupported_platform_tags_are_refused_when_not_allowed(client, owner_auth, tmp_path, settings):
    settings.ALLOW_UNSUPPORTED_PLATFORM_TAGS = False
    wheel, response = upload_tagged(client, owner_auth, tmp_path, "cp311-cp311-linux_x86_64")
    assert_refused(response, f"Binary wheel '{wheel.name}' has an unsupported platform tag 'linux_x86_64'.")
    assert "ALLOW_UNSUPPORTED_PLATFORM_TAGS" in response.content.decode()


@pytest.mark.parametrize(
    "tag",
    [
        "py3-none-any",
        "cp311-cp311-manylinux_2_17_x86_64.manylinux2014_x86_64",
        "cp312-cp312-musllinux_1_2_aarch64",
        "cp311-abi3-macosx_11_0_arm64",
        "cp310-cp310-macosx_10_9_universal2",
        "cp313-cp313-win_amd64",
        "cp313-cp313-ios_13_0_arm64_iphoneos",
        "cp313-cp313-android_24_arm64_v8a",
    ],
)
def test_the_platform_tags_the_public_index_takes_are_accepted_when_checking(
    client, owner_auth, tmp_path, settings, tag
):
    settings.ALLOW_UNSUPPORTED_PLATFORM_TAGS = False
    _wheel, response = upload_tagged(client, owner_auth, tmp_path, tag)
    assert response.status_code == 200, response.content


@pytest.mark.parametrize(
    ("tag", "refused"),
    [
        ("cp311-cp311-manylinux_2_17_x86_64.linux_x86_64", "linux_x86_64"),
        ("cp311-cp311-macosx_11_3_arm64", "macosx_11_3_arm64"),  # after 10.x only "_0" minors exist
        ("cp311-cp311-manylinux_2_17_sparc", "manylinux_2_17_sparc"),
    ],
)
def test_any_unsupported_tag_in_a_compressed_tag_set_is_refused(client, owner_auth, tmp_path, settings, tag, refused):
    settings.ALLOW_UNSUPPORTED_PLATFORM_TAGS = False
    wheel, response = upload_tagged(client, owner_auth, tmp_path, tag)
    assert_refused(response, f"Binary wheel '{wheel.name}' has an unsupported platform tag '{refused}'.")


# ---------------------------------------------------------------- closed releases


def age_release(version: str, days: float) -> None:
    Release.objects.filter(version=version).update(created=timezone.now() - timedelta(days=days))


def test_releases_stay_open_by_default(client, owner_auth, tmp_path, settings):
    assert settings.CLOSE_RELEASES_AFTER_DAYS is None
    sdist = build_sdist(tmp_path, "demo", "1.0")
    assert upload(client, owner_auth, sdist, "demo", "1.0").status_code == 200
    age_release("1.0", 3650)
    wheel = build_wheel(tmp_path, "demo", "1.0")
    assert upload(client, owner_auth, wheel, "demo", "1.0").status_code == 200


def test_no_new_file_on_a_release_older_than_the_setting(client, owner_auth, tmp_path, settings):
    settings.CLOSE_RELEASES_AFTER_DAYS = 30
    sdist = build_sdist(tmp_path, "demo", "1.0")
    assert upload(client, owner_auth, sdist, "demo", "1.0").status_code == 200
    age_release("1.0", 45.5)
    before = stored_files()
    wheel = build_wheel(tmp_path, "demo", "1.0")
    response = upload(client, owner_auth, wheel, "demo", "1.0")
    message = (
        "Release 'demo 1.0' was created 45 days ago; this index takes no new files on a release "
        "older than 30 days (CLOSE_RELEASES_AFTER_DAYS). Upload a new version instead."
    )
    assert response.status_code == 400, response.content
    assert message in response.content.decode()
    assert message in response.reason_phrase
    assert File.objects.count() == 1
    assert stored_files() == before


def test_a_closed_release_still_answers_the_identical_file_with_200(client, owner_auth, tmp_path, settings):
    """A CI job re-run must not fail because the release has closed since its first run."""
    settings.CLOSE_RELEASES_AFTER_DAYS = 30
    wheel = build_wheel(tmp_path, "demo", "1.0")
    assert upload(client, owner_auth, wheel, "demo", "1.0").status_code == 200
    age_release("1.0", 31)
    assert upload(client, owner_auth, wheel, "demo", "1.0").status_code == 200


def test_a_young_release_and_a_new_version_take_files(client, owner_auth, tmp_path, settings):
    settings.CLOSE_RELEASES_AFTER_DAYS = 30
    assert upload(client, owner_auth, build_sdist(tmp_path, "demo", "1.0"), "demo", "1.0").status_code == 200
    age_release("1.0", 29)
    assert upload(client, owner_auth, build_wheel(tmp_path, "demo", "1.0"), "demo", "1.0").status_code == 200
    age_release("1.0", 400)
    assert upload(client, owner_auth, build_wheel(tmp_path, "demo", "2.0"), "demo", "2.0").status_code == 200


def test_a_release_registered_long_ago_without_files_is_closed_too(client, owner_auth, tmp_path, settings):
    from packages_app.services import releases

    assert upload(client, owner_auth, build_wheel(tmp_path, "demo", "1.0"), "demo", "1.0").status_code == 200
    releases.create_release(Project.objects.get(), "2.0", created=timezone.now() - timedelta(days=60))
    settings.CLOSE_RELEASES_AFTER_DAYS = 7
    response = upload(client, owner_auth, build_wheel(tmp_path, "demo", "2.0"), "demo", "2.0")
    assert response.status_code == 400
    assert "Release 'demo 2.0' was created 60 days ago" in response.content.decode()


def test_import_dists_brings_history_into_closed_releases(tmp_path, settings, db):
    """The operator's import restores files that were there before; it is not a new upload."""
    from django.core.management import call_command

    settings.CLOSE_RELEASES_AFTER_DAYS = 1
    folder = tmp_path / "export"
    build_sdist(folder, "demo", "1.0")
    call_command("import_dists", str(folder), stdout=StringIO())
    age_release("1.0", 100)
    build_wheel(folder, "demo", "1.0")
    out = StringIO()
    call_command("import_dists", str(folder), stdout=out)
    assert "Imported 1, skipped 1" in out.getvalue()
