"""PEP 752 namespaces, one test per sentence of the PEP a repository must (or should) honour.

Each test is named after the sentence it checks; the sentence is quoted in its docstring.
"""

from __future__ import annotations

import json

import pytest
from django.contrib.auth.models import Group

from harness.dists import build_wheel
from harness.upstream_index import UpstreamIndex
from packages_app.models import Project
from packages_app.services import namespaces as namespace_services
from packages_app.services import roles
from packages_app.services.errors import Conflict, ServiceError
from tests.factories import UserFactory
from tests.functional.simple_pages import HTML_V1, JSON_V1
from tests.functional.test_time_travel import between, snapshot  # noqa: F401 - a fixture
from tests.functional.upload_client import basic_auth, post_upload, publish, twine_fields

PASSWORD = "correct horse battery staple"


@pytest.fixture
def alice(db):
    return UserFactory(username="alice")


@pytest.fixture
def bob(db):
    return UserFactory(username="bob")


@pytest.fixture
def platform(db, alice):
    team = Group.objects.create(name="platform")
    alice.groups.add(team)
    return team


def upload(client, tmp_path, name: str, version: str, username: str):
    path = build_wheel(tmp_path / f"{name}-{version}-{username}", name, version)
    return post_upload(client, twine_fields(path, name, version), basic_auth(username, PASSWORD))


def json_page(client, url: str) -> dict:
    response = client.get(url, HTTP_ACCEPT=JSON_V1)
    assert response.status_code == 200, response.content
    return json.loads(response.content)


# ---------------------------------------------------------------- Naming


def test_a_namespace_must_be_a_valid_project_name_and_normalized_internally(alice):
    """ "A namespace MUST be a valid project name and normalized internally e.g. foo.bar would become foo-bar." """
    assert namespace_services.grant_namespace("Foo.Bar", alice).namespace == "foo-bar"
    for invalid in ["-foo", "foo-", "foo bar", "", "foo/bar"]:
        with pytest.raises(ServiceError, match="not a valid namespace"):
            namespace_services.grant_namespace(invalid, alice)


# ---------------------------------------------------------------- Semantics


def test_a_grant_bestows_ownership_over_a_project_that_exactly_matches_the_namespace(client, tmp_path, alice, bob):
    """ "A namespace grant bestows ownership over ... a project that exactly matches the namespace itself." """
    namespace_services.grant_namespace("foo", alice)
    assert upload(client, tmp_path, "Foo", "1.0", "bob").status_code == 409
    assert upload(client, tmp_path, "foo", "1.0", "alice").status_code == 200


def test_a_grant_covers_projects_that_start_with_the_namespace_followed_by_a_hyphen_not_foobar(
    client, tmp_path, alice, bob
):
    """ "the namespace foo would match the normalized project name foo-bar but not the project name foobar." """
    namespace_services.grant_namespace("foo", alice)
    assert upload(client, tmp_path, "foo.bar", "1.0", "bob").status_code == 409  # normalised: foo-bar
    assert upload(client, tmp_path, "foo_baz", "1.0", "bob").status_code == 409
    assert upload(client, tmp_path, "foobar", "1.0", "bob").status_code == 200


def test_grants_must_not_overlap_ownership(alice, bob):
    """ "if there is an existing grant for foo-bar then a new grant for foo would only be possible for the
    owner of the former." """
    namespace_services.grant_namespace("foo-bar", alice)
    with pytest.raises(Conflict, match="overlap the namespace 'foo-bar' of alice"):
        namespace_services.grant_namespace("foo", bob)
    assert namespace_services.grant_namespace("foo", alice).namespace == "foo"


def test_an_overlap_is_detected_when_an_existing_namespace_starts_with_the_proposed_one_hyphens_appended(alice, bob):
    """ "Every comparison must append a hyphen to the end of the proposed and existing namespace. An overlap is
    detected when any existing namespace starts with the proposed namespace." """
    namespace_services.grant_namespace("foobar", alice)
    assert namespace_services.grant_namespace("foo", bob).namespace == "foo"  # "foobar-" does not start "foo-"
    with pytest.raises(Conflict, match="already granted"):
        namespace_services.grant_namespace("foo", alice)


def test_a_child_namespace_may_be_granted_inside_a_root_grant(alice, bob, platform):
    """Overlaps are checked against root grants: a child of an existing grant (``foo-bar`` in ``foo``) is not
    one, and its holder decides who creates projects in it."""
    namespace_services.grant_namespace("foo", platform)
    assert namespace_services.grant_namespace("foo-bar", bob).namespace == "foo-bar"


def test_repositories_should_impose_a_depth_limit_on_the_number_of_hyphens(settings, alice):
    """ "if the depth limit is 1 then the namespace foo-bar would be allowed but foo-bar-baz could not be granted." """
    settings.NAMESPACE_MAX_DEPTH = 1
    assert namespace_services.grant_namespace("foo-bar", alice).namespace == "foo-bar"
    with pytest.raises(Conflict, match="NAMESPACE_MAX_DEPTH"):
        namespace_services.grant_namespace("foo-bar-baz", alice)


# ---------------------------------------------------------------- Uploads


def test_uploads_must_fail_with_409_if_the_name_matches_a_reserved_namespace_without_an_active_grant(
    client, tmp_path, bob, platform
):
    """ "Uploads MUST fail with a 409 Conflict HTTP status code if the name of a package being uploaded matches
    a reserved namespace and the project owner does not have an active grant for the namespace." """
    namespace_services.grant_namespace("acme", platform)
    refused = upload(client, tmp_path, "acme-tool", "1.0", "bob")
    assert refused.status_code == 409
    # twine prints the reason phrase: it names the namespace and its holder.
    assert "namespace 'acme'" in refused.reason_phrase
    assert "team:platform" in refused.reason_phrase
    assert not Project.objects.filter(normalized_name="acme-tool").exists()
    assert upload(client, tmp_path, "acme-tool", "1.0", "alice").status_code == 200  # a member of the team


def test_a_revoked_grant_reserves_nothing(client, tmp_path, alice, bob):
    """An *active* grant: once revoked, anyone may create projects in the namespace again."""
    namespace_services.grant_namespace("acme", alice)
    namespace_services.revoke_namespace("acme")
    assert upload(client, tmp_path, "acme-tool", "1.0", "bob").status_code == 200


def test_the_deepest_grant_decides_inside_a_child_namespace(client, tmp_path, alice, bob, platform):
    namespace_services.grant_namespace("acme", platform)
    namespace_services.grant_namespace("acme-data", bob)
    assert upload(client, tmp_path, "acme-data-tool", "1.0", "bob").status_code == 200
    assert upload(client, tmp_path, "acme-data-other", "1.0", "alice").status_code == 409
    assert upload(client, tmp_path, "acme-web", "1.0", "alice").status_code == 200


def test_an_open_namespace_lets_anyone_create_projects_in_it(client, tmp_path, alice, bob):
    namespace_services.grant_namespace("acme-oss", alice, open=True)
    assert upload(client, tmp_path, "acme-oss-tool", "1.0", "bob").status_code == 200


def test_repositories_should_exempt_projects_that_existed_before_the_namespace_was_reserved(
    client, tmp_path, alice, bob
):
    """ "Repositories SHOULD have an exception to this rule for projects that existed before the namespace was
    reserved." """
    assert upload(client, tmp_path, "acme-old", "1.0", "bob").status_code == 200
    namespace_services.grant_namespace("acme", alice)
    assert upload(client, tmp_path, "acme-old", "2.0", "bob").status_code == 200
    page = json_page(client, "/simple/acme-old/")
    assert page["namespaces"] == [{"name": "acme", "owned": False}]


# ---------------------------------------------------------------- Repository metadata


def test_the_json_api_version_is_incremented_to_1_5_and_html_stays_1_4(client, tmp_path, alice):
    """ "The JSON API version will be incremented from 1.4 to 1.5." (HTML stays 1.4: PEP 833.)"""
    publish(client, tmp_path, "demo", "1.0", auth=basic_auth("alice", PASSWORD))
    assert json_page(client, "/simple/demo/")["meta"]["api-version"] == "1.5"
    assert json_page(client, "/simple/")["meta"]["api-version"] == "1.5"
    html = client.get("/simple/demo/", HTTP_ACCEPT=HTML_V1).content.decode()
    assert '<meta name="pypi:repository-version" content="1.4">' in html
    assert "namespace" not in html


def test_the_namespaces_key_must_be_null_if_the_project_does_not_match_an_active_grant(client, tmp_path, alice):
    """ "The namespaces key MUST be null if the project does not match an active namespace grant." """
    publish(client, tmp_path, "foobar", "1.0", auth=basic_auth("alice", PASSWORD))
    namespace_services.grant_namespace("foo", alice)
    page = json_page(client, "/simple/foobar/")
    assert "namespaces" in page
    assert page["namespaces"] is None


def test_a_matching_project_has_a_mapping_per_matching_namespace_with_name_and_owned(client, tmp_path, alice, bob):
    """ "the value MUST be an array of mappings representing each matching namespace. Every mapping MUST have the
    following keys: name ... owned" """
    namespace_services.grant_namespace("foo", alice)
    namespace_services.grant_namespace("foo-bar", bob)
    assert upload(client, tmp_path, "foo-bar-baz", "1.0", "bob").status_code == 200
    page = json_page(client, "/simple/foo-bar-baz/")
    assert page["namespaces"] == [{"name": "foo", "owned": False}, {"name": "foo-bar", "owned": True}]


def test_owned_is_true_when_a_project_owner_is_one_of_the_grants_owners(client, tmp_path, alice, bob, platform):
    """ "owned: ... true if the project owner is one of the current owners of the grant." A team's members are
    its owners, and a project owned by the team itself is owned too."""
    namespace_services.grant_namespace("acme", platform)
    assert upload(client, tmp_path, "acme-tool", "1.0", "alice").status_code == 200
    assert json_page(client, "/simple/acme-tool/")["namespaces"] == [{"name": "acme", "owned": True}]
    project = Project.objects.get(normalized_name="acme-tool")
    roles.grant_role(project, platform, "Owner")
    roles.revoke_role(project, project.roles.get(user__username="alice").user)
    assert json_page(client, "/simple/acme-tool/")["namespaces"] == [{"name": "acme", "owned": True}]


def test_when_a_reserved_namespace_becomes_unclaimed_namespaces_must_be_null(client, tmp_path, alice):
    """ "When a reserved namespace becomes unclaimed, repositories MUST set the namespaces key to null." """
    publish(client, tmp_path, "acme-tool", "1.0", auth=basic_auth("alice", PASSWORD))
    namespace_services.grant_namespace("acme", alice)
    before = client.get("/simple/acme-tool/", HTTP_ACCEPT=JSON_V1)
    assert json.loads(before.content)["namespaces"] == [{"name": "acme", "owned": True}]
    namespace_services.revoke_namespace("acme")
    after = client.get("/simple/acme-tool/", HTTP_ACCEPT=JSON_V1, HTTP_IF_NONE_MATCH=before["ETag"])
    assert after.status_code == 200  # the stored page was built again: a new ETag
    assert json.loads(after.content)["namespaces"] is None


def test_the_namespace_list_must_be_an_array_of_mappings_with_a_name(client, alice, bob):
    """ "The format of this URL is /namespaces. The response MUST be an array of mappings representing each
    reserved namespace. Every mapping MUST have a name key." """
    namespace_services.grant_namespace("Foo.Bar", alice)
    namespace_services.grant_namespace("acme", bob)
    namespace_services.grant_namespace("gone", bob)
    namespace_services.revoke_namespace("gone")
    assert json_page(client, "/simple/namespaces") == [{"name": "acme"}, {"name": "foo-bar"}]


def test_the_namespace_detail_must_have_name_parent_and_direct_children(client, alice, bob):
    """ "if the namespace is foo and there are active grants for foo-bar and foo-bar-baz then [children] would
    be ["foo-bar"]" and the parent of foo-bar is foo; "MAY have an owner key"."""
    namespace_services.grant_namespace("foo", alice)
    namespace_services.grant_namespace("foo-bar", bob)
    namespace_services.grant_namespace("foo-bar-baz", bob)
    assert json_page(client, "/simple/namespace/foo") == {
        "name": "foo",
        "parent": None,
        "children": ["foo-bar"],
        "owner": "alice",
    }
    assert json_page(client, "/simple/namespace/foo-bar") == {
        "name": "foo-bar",
        "parent": "foo",
        "children": ["foo-bar-baz"],
        "owner": "bob",
    }


def test_the_namespace_detail_url_takes_the_normalized_namespace(client, alice):
    """ "The format of this URL is /namespace/<namespace> where <namespace> is the normalized namespace." """
    namespace_services.grant_namespace("foo-bar", alice)
    response = client.get("/simple/namespace/Foo.Bar", HTTP_ACCEPT=JSON_V1)
    assert response.status_code == 301
    assert response["Location"] == "/simple/namespace/foo-bar"
    assert client.get("/simple/namespace/nothing", HTTP_ACCEPT=JSON_V1).status_code == 404


def test_a_project_named_namespaces_keeps_its_page(client, tmp_path, alice):
    publish(client, tmp_path, "namespaces", "1.0", auth=basic_auth("alice", PASSWORD))
    assert json_page(client, "/simple/namespaces/")["name"] == "namespaces"
    assert json_page(client, "/simple/namespaces") == []


def test_the_namespace_endpoints_are_json_only_stored_and_revalidated(client, alice, django_assert_num_queries):
    namespace_services.grant_namespace("acme", alice)
    assert client.get("/simple/namespaces", HTTP_ACCEPT=HTML_V1).status_code == 406
    assert client.get("/simple/namespaces", HTTP_ACCEPT="text/html").status_code == 406
    first = client.get("/simple/namespaces", HTTP_ACCEPT=JSON_V1)
    assert first["Content-Type"] == JSON_V1
    with django_assert_num_queries(1):  # the serial of the last grant change; the page is stored
        again = client.get("/simple/namespaces", HTTP_ACCEPT=JSON_V1, HTTP_IF_NONE_MATCH=first["ETag"])
    assert again.status_code == 304
    namespace_services.grant_namespace("other", alice)
    assert client.get("/simple/namespaces", HTTP_ACCEPT=JSON_V1, HTTP_IF_NONE_MATCH=first["ETag"]).status_code == 200


def test_the_namespace_endpoints_need_credentials_on_a_private_index(client, settings, alice):
    settings.READ_ACCESS = "authenticated"
    namespace_services.grant_namespace("acme", alice)
    assert client.get("/simple/namespaces", HTTP_ACCEPT=JSON_V1).status_code == 401
    assert client.get("/simple/namespace/acme", HTTP_ACCEPT=JSON_V1).status_code == 401
    authorized = client.get("/simple/namespaces", HTTP_ACCEPT=JSON_V1, HTTP_AUTHORIZATION=basic_auth("bob", PASSWORD))
    assert authorized.status_code == 401  # bob does not exist yet: wrong credentials are a 401 too
    UserFactory(username="bob")
    authorized = client.get("/simple/namespaces", HTTP_ACCEPT=JSON_V1, HTTP_AUTHORIZATION=basic_auth("bob", PASSWORD))
    assert json.loads(authorized.content) == [{"name": "acme"}]


# ---------------------------------------------------------------- time travel and the upstream


def test_a_snapshot_shows_the_grants_of_its_moment(client, tmp_path, alice, between):  # noqa: F811
    publish(client, tmp_path, "acme-tool", "1.0", auth=basic_auth("alice", PASSWORD))
    before_grant = between()
    namespace_services.grant_namespace("acme", alice)
    granted = between()
    namespace_services.revoke_namespace("acme")
    assert json_page(client, snapshot(before_grant, "acme-tool/"))["namespaces"] is None
    assert json_page(client, snapshot(granted, "acme-tool/"))["namespaces"] == [{"name": "acme", "owned": True}]
    assert json_page(client, "/simple/acme-tool/")["namespaces"] is None
    assert json_page(client, snapshot(granted, "namespaces")) == [{"name": "acme"}]
    assert json_page(client, snapshot(before_grant, "namespaces")) == []
    assert json_page(client, snapshot(granted, "namespace/acme"))["owner"] == "alice"


def test_a_granted_namespace_is_never_taken_from_upstream(client, settings, tmp_path, alice):
    with UpstreamIndex() as upstream:
        settings.UPSTREAM_INDEX_URL = upstream.url
        settings.UPSTREAM_BLOCKED_PREFIXES = []
        settings.UPSTREAM_ALLOWED_PROJECTS = []
        upstream.add("acme-evil", build_wheel(tmp_path / "evil", "acme-evil", "6.6"))
        namespace_services.grant_namespace("acme", alice)
        response = client.get("/simple/acme-evil/", HTTP_ACCEPT=JSON_V1)
        assert response.status_code == 404
        assert "namespace 'acme' granted on this index" in response.content.decode()
        assert upstream.hits() == []


def test_namespaces_are_per_package_repository_and_not_shared_with_the_upstream(client, settings, tmp_path, alice):
    """ "Namespaces are per-package repository and SHALL NOT be shared between repositories." A proxied
    project's page never carries the upstream's grants, and the upstream's do not reserve names here."""
    with UpstreamIndex() as upstream:
        settings.UPSTREAM_INDEX_URL = upstream.url
        settings.UPSTREAM_BLOCKED_PREFIXES = []
        settings.UPSTREAM_ALLOWED_PROJECTS = []
        upstream.add("far-tool", build_wheel(tmp_path / "far", "far-tool", "1.0"))
        page = json_page(client, "/simple/far-tool/")
        assert page["meta"]["api-version"] == "1.5"
        assert page["namespaces"] is None
        assert json_page(client, "/simple/namespaces") == []
