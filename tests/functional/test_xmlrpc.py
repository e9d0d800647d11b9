"""PyPI's XML-RPC API over HTTP: every method, typed parameters, faults, hostile bodies, a real client."""

from __future__ import annotations

import xmlrpc.client
from datetime import UTC, datetime, timedelta

import pytest

from legacy_api import xmlrpc as rpc
from packages_app.models import File, JournalEntry, Project, Release
from packages_app.services import projects, releases, roles, tokens
from tests.factories import UserFactory
from tests.functional.upload_client import publish
from tests.streaming import close_unread

ENDPOINTS = ["/pypi", "/pypi/", "/RPC2"]
METHODS = {
    "browse",
    "changelog",
    "changelog_last_serial",
    "changelog_since_serial",
    "list_packages",
    "list_packages_with_serial",
    "package_releases",
    "package_roles",
    "release_data",
    "release_urls",
    "search",
    "system.listMethods",
    "system.methodHelp",
    "user_packages",
}
DJANGO = "Framework :: Django"
PY3 = "Programming Language :: Python :: 3"


@pytest.fixture
def scene(client, tmp_path, auth):
    """Demo_Pkg (uploaded files, legacy/yanked/pre/file-less releases, roles), Other (classifiers),
    Hidden (quarantined) and a token event (a journal entry without a project name)."""
    publish(client, tmp_path, "Demo_Pkg", "1.0", auth=auth, requires_python=">=3.9")
    publish(client, tmp_path, "Demo_Pkg", "1.0", auth=auth, sdist=True)
    publish(client, tmp_path, "Demo_Pkg", "1.1", auth=auth)
    publish(client, tmp_path, "Demo_Pkg", "2.0", auth=auth)
    demo = Project.objects.get(normalized_name="demo-pkg")
    releases.create_release(demo, "3.0b1", {"summary": "Next one", "classifiers": [DJANGO]})
    releases.create_release(demo, "foo-bar")
    releases.yank_release(Release.objects.get(project=demo, version="2.0"), "broken")
    roles.grant_role(demo, UserFactory(username="zoe"), "Owner")
    roles.grant_role(demo, UserFactory(username="bob"), "Maintainer")
    amy = UserFactory(username="amy")
    roles.grant_role(demo, amy, "Owner")
    tokens.create_token(amy, name="ci")

    other = projects.create_project("Other")
    releases.create_release(
        other, "0.1", {"summary": "Other thing", "classifiers": [DJANGO, PY3], "author": "Ann Demo", "keywords": "x,y"}
    )
    releases.create_release(other, "0.2", {"summary": "Other again", "classifiers": [PY3], "author": "Ann"})
    roles.grant_role(other, amy, "Maintainer")

    hidden = projects.create_project("Hidden")
    releases.create_release(hidden, "1.0", {"summary": "Demo of a hidden thing", "classifiers": [DJANGO, PY3]})
    roles.grant_role(hidden, amy, "Owner")
    projects.set_status(hidden, "quarantined", "malware")
    return Project.objects.get(pk=demo.pk)


def post(client, body: bytes | str, url: str = "/pypi"):
    return client.post(url, body, content_type="text/xml")


def call(client, method: str, *params, url: str = "/pypi"):
    """One method call through the test client; a fault is raised as xmlrpc.client.Fault."""
    response = post(client, xmlrpc.client.dumps(params, method, allow_none=True), url)
    assert response.status_code == 200, response.content
    assert response["Content-Type"] == "text/xml; charset=utf-8"
    (result,), _ = xmlrpc.client.loads(response.content, use_builtin_types=True)
    return result


def fault_of(client, method: str, *params) -> xmlrpc.client.Fault:
    with pytest.raises(xmlrpc.client.Fault) as raised:
        call(client, method, *params)
    return raised.value


def outcome(content: bytes):
    """The result of an XML-RPC answer, or its Fault (returned, not raised)."""
    try:
        (result,), _ = xmlrpc.client.loads(content, use_builtin_types=True)
    except xmlrpc.client.Fault as fault:
        return fault
    return result


def journal_rows(**filters) -> list[list]:
    rows = JournalEntry.objects.filter(**filters).exclude(name="").order_by("id")
    return [[row.name, row.version or None, int(row.submitted_date.timestamp()), row.action, row.id] for row in rows]


# ---------------------------------------------------------------- endpoint


@pytest.mark.parametrize("url", ENDPOINTS)
def test_every_endpoint_answers(client, scene, url):
    assert call(client, "changelog_last_serial", url=url) == JournalEntry.objects.latest("id").id


@pytest.mark.parametrize("url", ENDPOINTS)
@pytest.mark.parametrize("method", ["get", "put", "delete"])
def test_only_post(client, db, url, method):
    response = getattr(client, method)(url)
    assert response.status_code == 405
    assert response["Allow"] == "POST"


def test_body_over_the_limit_is_413(client, db):
    body = xmlrpc.client.dumps(("x" * rpc.MAX_BODY,), "package_roles").encode()
    assert len(body) > rpc.MAX_BODY
    assert post(client, body).status_code == 413
    small = xmlrpc.client.dumps(("x" * (rpc.MAX_BODY - 1000),), "package_roles").encode()
    assert len(small) <= rpc.MAX_BODY
    assert post(client, small).status_code == 200


# ---------------------------------------------------------------- mirror methods


def test_changelog_last_serial_is_the_newest_journal_entry(client, scene):
    assert call(client, "changelog_last_serial") == JournalEntry.objects.order_by("-id").first().id
    releases.create_release(scene, "5.0")
    assert call(client, "changelog_last_serial") == Project.objects.get(pk=scene.pk).last_serial


def test_changelog_since_serial_lists_changes_ascending(client, scene):
    entries = call(client, "changelog_since_serial", 0)
    assert entries == journal_rows()
    assert [entry[4] for entry in entries] == sorted(entry[4] for entry in entries)
    for name, version, timestamp, action, serial in entries:
        assert isinstance(name, str)
        assert name
        assert version is None or isinstance(version, str)
        assert isinstance(timestamp, int)
        assert isinstance(action, str)
        assert isinstance(serial, int)
    actions = {(entry[0], entry[1], entry[3]) for entry in entries}
    assert ("Demo_Pkg", None, "create") in actions
    assert ("Demo_Pkg", "1.0", "new release") in actions
    assert ("Demo_Pkg", "1.0", "add py3 file demo_pkg-1.0-py3-none-any.whl") in actions
    assert ("Demo_Pkg", "2.0", "yank release") in actions
    assert ("Hidden", None, "set status quarantined") in actions


def test_changelog_since_serial_leaves_out_token_events(client, scene):
    token_events = JournalEntry.objects.filter(name="")
    assert token_events.exists()
    served = {entry[4] for entry in call(client, "changelog_since_serial", 0)}
    assert served.isdisjoint(token_events.values_list("id", flat=True))
    assert all("token" not in entry[3] for entry in call(client, "changelog_since_serial", 0))


def test_changelog_since_serial_starts_after_the_serial(client, scene):
    middle = JournalEntry.objects.order_by("id")[5].id
    entries = call(client, "changelog_since_serial", middle)
    assert entries == journal_rows(id__gt=middle)
    assert call(client, "changelog_since_serial", call(client, "changelog_last_serial")) == []
    assert call(client, "changelog_since_serial", -5) == journal_rows()


def test_changelog_since_serial_is_capped_oldest_first(client, scene, monkeypatch):
    monkeypatch.setattr(rpc, "CHANGELOG_LIMIT", 3)
    everything = journal_rows()
    assert call(client, "changelog_since_serial", 0) == everything[:3]
    # A mirror continues from the last serial it got, and sees everything in turn.
    seen, serial = [], 0
    while batch := call(client, "changelog_since_serial", serial):
        assert len(batch) <= 3
        seen += batch
        serial = batch[-1][4]
    assert seen == everything


def test_the_cap_is_50000(client, db):
    assert rpc.CHANGELOG_LIMIT == 50_000


def test_changelog_timestamps_are_utc_posix(client, scene):
    moment = datetime(2020, 5, 17, 12, 30, 45, 999999, tzinfo=UTC)
    first = JournalEntry.objects.filter(name="Other").order_by("id").first()
    JournalEntry.objects.filter(pk=first.pk).update(submitted_date=moment)
    entry = next(entry for entry in call(client, "changelog_since_serial", 0) if entry[4] == first.id)
    assert entry[2] == 1589718645


def test_changelog_action_is_cleaned_of_xml_illegal_characters(client, scene):
    JournalEntry.objects.create(name="Demo_Pkg", action="add Owner bad\x01na\x0bme\x1f")
    assert call(client, "changelog_since_serial", 0)[-1][3] == "add Owner badname"


def _dated_journal() -> tuple[datetime, list[int]]:
    """Spread the journal over days: entry n happened n days after 2024-01-01."""
    start = datetime(2024, 1, 1, tzinfo=UTC)
    ids = list(JournalEntry.objects.order_by("id").values_list("id", flat=True))
    for day, pk in enumerate(ids):
        JournalEntry.objects.filter(pk=pk).update(submitted_date=start + timedelta(days=day))
    return start, ids


@pytest.mark.parametrize("with_ids", [False, True])
def test_changelog_since_a_time(client, scene, with_ids):
    start, _ = _dated_journal()
    since = start + timedelta(days=4)
    expected = journal_rows(submitted_date__gte=since)
    assert expected
    assert expected != journal_rows()
    entries = call(client, "changelog", int(since.timestamp()), with_ids)
    assert entries == (expected if with_ids else [entry[:4] for entry in expected])
    if not with_ids:
        assert entries == call(client, "changelog", int(since.timestamp()))  # with_ids defaults to false


def test_changelog_since_the_future_is_empty(client, scene):
    assert call(client, "changelog", int(datetime.now(UTC).timestamp()) + 3600) == []
    assert len(call(client, "changelog", 0)) == len(journal_rows())


def test_changelog_is_capped(client, scene, monkeypatch):
    monkeypatch.setattr(rpc, "CHANGELOG_LIMIT", 2)
    assert call(client, "changelog", 0, True) == journal_rows()[:2]


def test_list_packages_with_serial(client, scene):
    assert call(client, "list_packages_with_serial") == {
        project.name: project.last_serial for project in Project.objects.exclude(name="Hidden")
    }
    assert set(call(client, "list_packages_with_serial")) == {"Demo_Pkg", "Other"}


def test_list_packages_leaves_out_quarantined(client, scene):
    assert call(client, "list_packages") == ["Demo_Pkg", "Other"]
    projects.set_status(Project.objects.get(name="Hidden"), "active")
    assert call(client, "list_packages") == ["Demo_Pkg", "Hidden", "Other"]
    projects.set_status(Project.objects.get(name="Other"), "archived")
    assert "Other" in call(client, "list_packages")


# ---------------------------------------------------------------- read methods


@pytest.mark.parametrize(
    ("args", "expected"),
    [
        (("Demo_Pkg",), ["1.1"]),
        (("demo-pkg", False), ["1.1"]),
        (("DEMO.PKG", True), ["3.0b1", "2.0", "1.1", "1.0", "foo-bar"]),
        (("Other", True), ["0.2", "0.1"]),
        (("Other",), ["0.2"]),
        (("nothing",), []),
        (("nothing", True), []),
        (("Hidden", True), []),
    ],
)
def test_package_releases(client, scene, args, expected):
    assert call(client, "package_releases", *args) == expected


def test_package_releases_of_a_project_without_releases(client, scene):
    projects.create_project("empty")
    assert call(client, "package_releases", "empty") == []
    assert call(client, "package_releases", "empty", True) == []


@pytest.mark.parametrize("version", ["1.0", "1.0.0", "v1.0"])
def test_release_urls(client, scene, version):
    entries = call(client, "release_urls", "Demo_Pkg", version)
    assert [entry["filename"] for entry in entries] == ["demo_pkg-1.0-py3-none-any.whl", "demo_pkg-1.0.tar.gz"]
    for entry in entries:
        row = File.objects.get(filename=entry["filename"])
        assert entry["digests"] == {
            "md5": row.md5_digest,
            "sha256": row.sha256_digest,
            "blake2b_256": row.blake2_256_digest,
        }
        assert entry["md5_digest"] == row.md5_digest
        assert entry["size"] == row.size
        assert entry["url"] == f"http://testserver/packages/{row.path}"
        assert entry["upload_time"] == row.upload_time.astimezone(UTC).replace(microsecond=0, tzinfo=None)
        assert entry["packagetype"] == row.packagetype
        assert entry["requires_python"] == ">=3.9"
        assert entry["yanked"] is False
        download = client.get(entry["url"])
        assert download.status_code == 200
        close_unread(download)


def test_release_urls_of_a_yanked_release(client, scene):
    (entry,) = call(client, "release_urls", "demo-pkg", "2.0")
    assert (entry["yanked"], entry["yanked_reason"]) == (True, "broken")


@pytest.mark.parametrize(
    ("name", "version"),
    [("Demo_Pkg", "9.9"), ("nothing", "1.0"), ("Hidden", "1.0"), ("Demo_Pkg", "foo-bar"), ("Other", "0.1")],
)
def test_release_urls_without_files_is_empty(client, scene, name, version):
    assert call(client, "release_urls", name, version) == []


def test_release_data(client, scene):
    data = call(client, "release_data", "other", "0.1.0")
    assert data["name"] == "Other"
    assert data["version"] == "0.1"
    assert data["summary"] == "Other thing"
    assert data["author"] == "Ann Demo"
    assert data["keywords"] == "x,y"
    assert data["classifiers"] == [DJANGO, PY3]
    assert data["project_urls"] == []
    assert data["yanked"] is False
    assert data["release_url"] == "http://testserver/api/v1/projects/other/releases/0.1/"
    assert data["stable_version"] is None
    assert "downloads" not in data
    yanked = call(client, "release_data", "Demo_Pkg", "2.0")
    assert (yanked["yanked"], yanked["yanked_reason"]) == (True, "broken")


def test_release_data_project_urls_are_label_comma_url(client, scene):
    urls = {"Source": "https://src.example.invalid", "Issues": "https://bugs.example.invalid"}
    releases.create_release(scene, "7.0", {"project_urls": urls})
    # As a set: PostgreSQL's jsonb keeps an object's keys in its own order, not the upload's.
    assert set(call(client, "release_data", "Demo_Pkg", "7.0")["project_urls"]) == {
        "Source, https://src.example.invalid",
        "Issues, https://bugs.example.invalid",
    }


@pytest.mark.parametrize(("name", "version"), [("Demo_Pkg", "9.9"), ("nothing", "1.0"), ("Hidden", "1.0")])
def test_release_data_of_nothing_is_empty(client, scene, name, version):
    assert call(client, "release_data", name, version) == {}


def _found(results: list[dict]) -> set[tuple[str, str]]:
    return {(result["name"], result["version"]) for result in results}


@pytest.mark.parametrize(
    ("spec", "operator", "expected"),
    [
        ({"name": "demo"}, "and", {("Demo_Pkg", v) for v in ("1.0", "1.1", "2.0", "3.0b1", "foo-bar")}),
        ({"summary": "other"}, "and", {("Other", "0.1"), ("Other", "0.2")}),
        ({"summary": "THING"}, "and", {("Other", "0.1")}),  # case-insensitive; Hidden is left out
        ({"name": "other", "author": "demo"}, "and", {("Other", "0.1")}),
        ({"name": "other", "author": "demo"}, "or", {("Other", "0.1"), ("Other", "0.2")}),
        ({"summary": "next", "author": "ann demo"}, "or", {("Demo_Pkg", "3.0b1"), ("Other", "0.1")}),
        ({"summary": ["next", "again"]}, "and", {("Demo_Pkg", "3.0b1"), ("Other", "0.2")}),  # a list is "any of"
        ({"version": "0.2"}, "and", {("Other", "0.2")}),
        ({"name": "nothing"}, "and", set()),
        ({}, "and", set()),
    ],
)
def test_search(client, scene, spec, operator, expected):
    results = call(client, "search", spec, operator)
    assert _found(results) == expected
    for result in results:
        assert set(result) == {"name", "version", "summary", "_pypi_ordering"}


def test_search_operator_defaults_to_and(client, scene):
    spec = {"name": "other", "author": "demo"}
    assert call(client, "search", spec) == call(client, "search", spec, "and")


@pytest.mark.parametrize(
    ("spec", "operator", "names"),
    [
        ({"colour": "red"}, "and", "colour"),
        ({"name": 3}, "and", "name"),
        ({"name": ["ok", 3]}, "and", "name"),
        ({"name": []}, "and", "name"),
        ({"name": "x"}, "xor", "operator"),
    ],
)
def test_search_refuses_bad_specs(client, scene, spec, operator, names):
    fault = fault_of(client, "search", spec, operator)
    assert fault.faultCode == rpc.INVALID_PARAMS
    assert names in fault.faultString


def test_search_takes_up_to_its_limits(client, scene):
    """10 values in a field, 20 in all, 200 characters each: answered as before."""
    ten = ["nothing"] * 9 + ["demo"]
    spec = {"name": ten, "summary": ["x" * 200] * 9 + ["next"]}
    assert len(ten) == rpc.SEARCH_MAX_VALUES_PER_FIELD
    assert sum(map(len, spec.values())) == rpc.SEARCH_MAX_VALUES
    assert _found(call(client, "search", spec, "and")) == {("Demo_Pkg", "3.0b1")}


@pytest.mark.parametrize(
    ("spec", "message"),
    [
        ({"name": ["demo"] * 11}, "name has 11 values; at most 10 per field"),
        ({"name": ["demo"] * 10, "summary": ["next"] * 10, "author": "ann"}, "more than 20 values in all"),
        ({"keywords": "x" * 201}, "a keywords value is 201 characters long; at most 200 per value"),
    ],
)
def test_search_past_its_limits_is_a_fault_that_says_the_limit(client, scene, spec, message):
    fault = fault_of(client, "search", spec)
    assert fault.faultCode == rpc.INVALID_PARAMS
    assert message in fault.faultString


def test_a_search_of_a_thousand_values_is_refused_before_the_database(client, scene, django_assert_num_queries):
    """The attack: 1,000 values, each a scan of a column, took 41 s on PostgreSQL."""
    spec = {"summary": [f"text {number}" for number in range(1000)]}
    with django_assert_num_queries(0):
        fault = fault_of(client, "search", spec, "or")
    assert "summary has 1000 values; at most 10 per field" in fault.faultString


def test_search_help_states_the_limits(client, db):
    text = call(client, "system.methodHelp", "search")
    assert f"At most {rpc.SEARCH_MAX_VALUES_PER_FIELD} texts per field and {rpc.SEARCH_MAX_VALUES} in all" in text
    assert f"{rpc.SEARCH_MAX_VALUE_LENGTH} characters" in text


@pytest.mark.parametrize(
    ("classifiers", "expected"),
    [
        ([DJANGO], [["Demo_Pkg", "3.0b1"], ["Other", "0.1"]]),
        ([PY3], [["Other", "0.2"], ["Other", "0.1"]]),
        ([DJANGO, PY3], [["Other", "0.1"]]),
        (["Framework"], []),  # whole classifiers only
        ([], []),
    ],
)
def test_browse(client, scene, classifiers, expected):
    assert call(client, "browse", classifiers) == expected


# ---------------------------------------------------------------- roles


@pytest.mark.parametrize(
    ("name", "expected"),
    [
        ("Demo_Pkg", [["Owner", "amy"], ["Owner", "owner"], ["Owner", "zoe"], ["Maintainer", "bob"]]),
        ("demo.pkg", [["Owner", "amy"], ["Owner", "owner"], ["Owner", "zoe"], ["Maintainer", "bob"]]),
        ("Other", [["Maintainer", "amy"]]),
        ("nothing", []),
        ("Hidden", []),
    ],
)
def test_package_roles(client, scene, name, expected):
    assert call(client, "package_roles", name) == expected


@pytest.mark.parametrize(
    ("user", "expected"),
    [
        ("amy", [["Owner", "Demo_Pkg"], ["Maintainer", "Other"]]),
        ("AMY", []),  # user names are matched exactly
        ("bob", [["Maintainer", "Demo_Pkg"]]),
        ("nobody", []),
        ("", []),
    ],
)
def test_user_packages(client, scene, user, expected):
    """Owners first, then by project name; quarantined projects are left out, as everywhere here."""
    assert call(client, "user_packages", user) == expected


# ---------------------------------------------------------------- introspection


def test_list_methods(client, db):
    assert set(call(client, "system.listMethods")) == METHODS
    assert call(client, "system.listMethods") == sorted(METHODS)


@pytest.mark.parametrize("method", sorted(METHODS))
def test_method_help(client, db, method):
    text = call(client, "system.methodHelp", method)
    assert isinstance(text, str)
    assert text


def test_method_help_of_an_unknown_method(client, db):
    fault = fault_of(client, "system.methodHelp", "nothing")
    assert fault.faultCode == rpc.INVALID_PARAMS
    assert "method_name" in fault.faultString


# ---------------------------------------------------------------- faults


@pytest.mark.parametrize("method", ["no_such_method", "package_data", "top_packages", "system.methodSignature", ""])
def test_unknown_method(client, db, method):
    fault = fault_of(client, method)
    assert fault.faultCode == rpc.METHOD_NOT_FOUND == -32601


@pytest.mark.parametrize(
    ("method", "params", "named"),
    [
        ("changelog_since_serial", ("1",), "since_serial"),
        ("changelog_since_serial", (True,), "since_serial"),
        ("changelog_since_serial", (1.0,), "since_serial"),
        ("changelog_since_serial", (None,), "since_serial"),
        ("changelog_since_serial", ([1],), "since_serial"),
        ("changelog", ("0",), "since"),
        ("changelog", (0, 1), "with_ids"),
        ("changelog", (0, "true"), "with_ids"),
        ("package_releases", (1,), "package_name"),
        ("package_releases", ("demo", 1), "show_hidden"),
        ("package_releases", ("demo", "yes"), "show_hidden"),
        ("release_urls", ("demo", 1.0), "version"),
        ("release_urls", (b"demo", "1.0"), "package_name"),
        ("release_data", ("demo", None), "version"),
        ("search", ("demo",), "spec"),
        ("search", ({"name": "x"}, 1), "operator"),
        ("browse", (DJANGO,), "classifiers"),
        ("browse", ([1, 2],), "classifiers"),
        ("browse", ({"a": "b"},), "classifiers"),
        ("package_roles", (1,), "package_name"),
        ("package_roles", (True,), "package_name"),
        ("user_packages", (["amy"],), "user"),
        ("system.methodHelp", (1,), "method_name"),
    ],
)
def test_wrong_argument_types(client, db, method, params, named):
    fault = fault_of(client, method, *params)
    assert fault.faultCode == rpc.INVALID_PARAMS == -32602
    assert named in fault.faultString


@pytest.mark.parametrize(
    ("method", "params", "named"),
    [
        ("changelog_since_serial", (), "since_serial"),
        ("changelog_since_serial", (1, 2), "since_serial"),
        ("changelog", (), "since"),
        ("changelog", (1, True, 3), "with_ids"),
        ("changelog_last_serial", (1,), "no arguments"),
        ("list_packages", ("x",), "no arguments"),
        ("list_packages_with_serial", (1,), "no arguments"),
        ("package_releases", (), "package_name"),
        ("release_urls", ("demo",), "version"),
        ("release_data", ("demo",), "version"),
        ("search", (), "spec"),
        ("browse", (), "classifiers"),
        ("package_roles", ("a", "b"), "package_name"),
        ("user_packages", (), "user"),
        ("system.listMethods", ("x",), "no arguments"),
        ("system.methodHelp", (), "method_name"),
    ],
)
def test_wrong_argument_counts(client, db, method, params, named):
    fault = fault_of(client, method, *params)
    assert fault.faultCode == rpc.INVALID_PARAMS
    assert named in fault.faultString
    assert f"got {len(params)}" in fault.faultString


def test_multicall_is_refused(client, scene):
    calls = [{"methodName": "changelog_last_serial", "params": []}]
    fault = fault_of(client, "system.multicall", calls)
    assert fault.faultCode == rpc.SERVER_ERROR == -32500
    assert "MultiCall" in fault.faultString


@pytest.mark.parametrize(
    "body",
    [
        b"",
        b"not xml at all",
        b"<methodCall><methodName>list_packages</methodName>",
        b"<methodCall><methodName>list_packages</methodName><params></methodCall>",
        b"<methodCall></methodCall>",
        b"<?xml version='1.0'?><methodCall><methodName>x</methodName><params><param>"
        b"<value><int>twelve</int></value></param></params></methodCall>",
        b"<methodCall><methodName>x</methodName><params><param>"
        b"<value><boolean>2</boolean></value></param></params></methodCall>",
        b"<methodCall><methodName>x</methodName><params><param>"
        b"<value><dateTime.iso8601>yesterday</dateTime.iso8601></value></param></params></methodCall>",
        b"<methodCall><methodName>x</methodName><params><param>"
        b"<value><base64>abc</base64></value></param></params></methodCall>",  # bad padding
        b"<methodCall><methodName>x</methodName><params><param><value>&undefined;</value></param></params>"
        b"</methodCall>",
        b"\xff\xfe<\x00m\x00",
    ],
)
def test_malformed_bodies_are_parse_errors(client, db, body):
    response = post(client, body)
    assert response.status_code == 200
    with pytest.raises(xmlrpc.client.Fault) as raised:
        xmlrpc.client.loads(response.content)
    assert raised.value.faultCode == rpc.PARSE_ERROR == -32700


BILLION_LAUGHS = b"""<?xml version="1.0"?>
<!DOCTYPE lolz [
 <!ENTITY lol "lol">
 <!ENTITY lol2 "&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;">
 <!ENTITY lol3 "&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;">
 <!ENTITY lol4 "&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;">
 <!ENTITY lol5 "&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;">
 <!ENTITY lol6 "&lol5;&lol5;&lol5;&lol5;&lol5;&lol5;&lol5;&lol5;&lol5;&lol5;">
 <!ENTITY lol7 "&lol6;&lol6;&lol6;&lol6;&lol6;&lol6;&lol6;&lol6;&lol6;&lol6;">
 <!ENTITY lol8 "&lol7;&lol7;&lol7;&lol7;&lol7;&lol7;&lol7;&lol7;&lol7;&lol7;">
 <!ENTITY lol9 "&lol8;&lol8;&lol8;&lol8;&lol8;&lol8;&lol8;&lol8;&lol8;&lol8;">
]>
<methodCall><methodName>system.methodHelp</methodName>
<params><param><value><string>&lol9;</string></value></param></params></methodCall>"""
EXTERNAL_ENTITY = b"""<?xml version="1.0"?>
<!DOCTYPE methodCall [<!ENTITY x SYSTEM "file:///etc/passwd">]>
<methodCall><methodName>system.methodHelp</methodName>
<params><param><value><string>&x;</string></value></param></params></methodCall>"""
PARAMETER_ENTITY = b"""<?xml version="1.0"?>
<!DOCTYPE methodCall [<!ENTITY % x SYSTEM "file:///etc/passwd"> %x;]>
<methodCall><methodName>system.listMethods</methodName><params></params></methodCall>"""
SMALL_ENTITY = b"""<?xml version="1.0"?>
<!DOCTYPE methodCall [<!ENTITY name "changelog_last_serial">]>
<methodCall><methodName>system.methodHelp</methodName>
<params><param><value><string>&name;</string></value></param></params></methodCall>"""


@pytest.mark.parametrize("body", [BILLION_LAUGHS, EXTERNAL_ENTITY, PARAMETER_ENTITY, SMALL_ENTITY])
def test_entity_declarations_are_refused_and_never_expanded(client, db, body):
    response = post(client, body)
    assert response.status_code == 200
    assert b"root:" not in response.content
    assert b"lollol" not in response.content
    assert len(response.content) < 2000
    with pytest.raises(xmlrpc.client.Fault) as raised:
        xmlrpc.client.loads(response.content)
    assert raised.value.faultCode == rpc.PARSE_ERROR
    assert "entity" in raised.value.faultString


def test_external_dtd_is_never_fetched(client, db):
    body = (
        b'<?xml version="1.0"?><!DOCTYPE methodCall SYSTEM "file:///etc/passwd">'
        b"<methodCall><methodName>system.listMethods</methodName><params></params></methodCall>"
    )
    response = post(client, body)
    assert b"root:" not in response.content
    result = outcome(response.content)
    if isinstance(result, xmlrpc.client.Fault):
        assert result.faultCode == rpc.PARSE_ERROR
    else:
        assert set(result) == METHODS


def test_faults_do_not_leak_internals(client, db):
    text = post(client, b"<methodCall><methodName>x</methodName><params><param><value><int>z").content
    assert b"Traceback" not in text
    assert b"ExpatError" not in text
    assert b"ValueError" not in text


# ---------------------------------------------------------------- a real client


@pytest.fixture
def live_scene(transactional_db):
    demo = projects.create_project("Live_Pkg")
    releases.create_release(demo, "1.0", {"summary": "Live one"})
    releases.create_release(demo, "2.0b1")
    roles.grant_role(demo, UserFactory(username="lee"), "Owner")
    return Project.objects.get(pk=demo.pk)


@pytest.mark.parametrize("path", ENDPOINTS)
def test_a_real_client(live_server, live_scene, path):
    proxy = xmlrpc.client.ServerProxy(live_server.url + path, allow_none=True, use_builtin_types=True)
    with proxy:
        assert proxy.changelog_last_serial() == live_scene.last_serial
        assert proxy.package_releases("live-pkg") == ["1.0"]
        assert proxy.package_releases("live-pkg", True) == ["2.0b1", "1.0"]
        assert proxy.package_roles("Live_Pkg") == [["Owner", "lee"]]
        assert proxy.list_packages_with_serial() == {"Live_Pkg": live_scene.last_serial}
        assert proxy.release_data("live-pkg", "1.0")["summary"] == "Live one"
        assert proxy.release_urls("live-pkg", "1.0") == []
        assert [entry[3] for entry in proxy.changelog_since_serial(0)][:2] == ["create", "new release"]
        assert set(proxy.system.listMethods()) == METHODS
        with pytest.raises(xmlrpc.client.Fault) as raised:
            proxy.changelog_since_serial("0")
        assert raised.value.faultCode == rpc.INVALID_PARAMS
        with pytest.raises(xmlrpc.client.Fault):
            proxy.no_such_method()


def test_a_real_client_multicall_is_refused(live_server, live_scene):
    with xmlrpc.client.ServerProxy(live_server.url + "/pypi") as proxy:
        multicall = xmlrpc.client.MultiCall(proxy)
        multicall.changelog_last_serial()
        with pytest.raises(xmlrpc.client.Fault) as raised:
            list(multicall())
    assert raised.value.faultCode == rpc.SERVER_ERROR


# ---------------------------------------------------------------- hostile and odd input


@pytest.mark.parametrize("since", ["1700000000000", "99999999999999999999999"])
def test_changelog_with_an_out_of_range_time_is_answered(client, scene, since):
    client.raise_request_exception = False
    body = (
        "<methodCall><methodName>changelog</methodName><params>"
        f"<param><value><int>{since}</int></value></param></params></methodCall>"
    )
    response = post(client, body)
    assert response.status_code == 200
    result = outcome(response.content)
    if isinstance(result, xmlrpc.client.Fault):
        assert result.faultCode == rpc.INVALID_PARAMS
        assert "since" in result.faultString
    else:
        assert result == []


@pytest.mark.parametrize(
    "member",
    [
        "<member><value><int>1</int></value></member>",
        "<member><name>a</name></member>",
    ],
)
def test_malformed_struct_is_a_parse_error(client, db, member):
    client.raise_request_exception = False
    body = (
        "<methodCall><methodName>search</methodName><params>"
        f"<param><value><struct>{member}</struct></value></param></params></methodCall>"
    )
    response = post(client, body)
    assert response.status_code == 200
    with pytest.raises(xmlrpc.client.Fault) as raised:
        xmlrpc.client.loads(response.content)
    assert raised.value.faultCode == rpc.PARSE_ERROR


def test_release_data_with_control_characters_is_well_formed(client, auth, tmp_path):
    from harness.dists import build_wheel
    from tests.functional.upload_client import post_upload, twine_fields

    path = build_wheel(tmp_path, "ctl", "1.0")
    fields = twine_fields(path, "ctl", "1.0", description="Page one\x0cPage two")
    assert post_upload(client, fields, auth).status_code == 200  # the upload is accepted
    assert call(client, "release_data", "ctl", "1.0")["description"] in ("Page onePage two", "Page one\ufffdPage two")


def test_search_with_control_characters_is_well_formed(client, db):
    releases.create_release(projects.create_project("ansi"), "1.0", {"summary": "\x1b[31mred\x1b[0m"})
    assert _found(call(client, "search", {"name": "ansi"})) == {("ansi", "1.0")}
