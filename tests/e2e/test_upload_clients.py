"""twine and ``uv publish`` against the real server: what a person sees."""

from __future__ import annotations

import base64
import hashlib
import os
import re
import uuid
import zipfile

import pytest

from harness import upload_form
from harness.dists import build_sdist, build_wheel
from tests.e2e.helpers import E2E_MAX_FILE_SIZE

PASSWORD = "e2e correct horse battery"


def unique(prefix: str) -> str:
    return f"{prefix}-{uuid.uuid4().hex[:8]}"


@pytest.fixture(scope="module")
def accounts(index_server):
    """Users alice and bob, made through the shell like an operator would."""
    index_server.shell(
        "from django.contrib.auth import get_user_model as g\n"
        "U = g()\n"
        f"[U.objects.filter(username=n).exists() or U.objects.create_user(n, password={PASSWORD!r}) "
        "for n in ('alice', 'bob')]\n"
    )
    return {"alice": PASSWORD, "bob": PASSWORD}


def token_for(index_server, user: str, *projects: str) -> str:
    args = ["create_token", user]
    for project in projects:
        args += ["--project", project]
    return index_server.manage(*args).strip()


def upload_as_alice(clients, dist_dir, name: str, version: str) -> None:
    result = clients.twine("upload", build_wheel(dist_dir, name, version), username="alice", password=PASSWORD)
    assert result.returncode == 0, result.stdout + result.stderr


def one_line(output: str) -> str:
    return re.sub(r"\s+", " ", output)


def twine_refusal(clients, dist, *, username: str = "alice", password: str = PASSWORD) -> str:
    """twine's output, on one line, for an upload the index refuses."""
    result = clients.twine("upload", dist, username=username, password=password)
    output = one_line(result.stdout + result.stderr)
    assert result.returncode != 0, output
    return output


def test_twine_upload_succeeds_and_identical_reupload_is_ok(index_server, clients, dist_dir, accounts):
    name = unique("twine-ok")
    wheel = build_wheel(dist_dir, name, "1.0")
    sdist = build_sdist(dist_dir, name, "1.0")
    first = clients.twine("upload", wheel, sdist, username="alice", password=PASSWORD)
    assert first.returncode == 0, first.stdout + first.stderr
    again = clients.twine("upload", wheel, username="alice", password=PASSWORD)
    assert again.returncode == 0, again.stdout + again.stderr
    listed = index_server.shell(
        f"from packages_app.models import File; print(sorted(File.objects.filter(release__project__name={name!r})"
        ".values_list('filename', flat=True)))"
    )
    assert wheel.name in listed
    assert sdist.name in listed


def test_twine_shows_file_already_exists(clients, dist_dir, accounts):
    name = unique("twine-conflict")
    first = build_wheel(dist_dir / "a", name, "1.0")
    second = build_wheel(dist_dir / "b", name, "1.0", module_body="changed = True\n")
    assert clients.twine("upload", first, username="alice", password=PASSWORD).returncode == 0
    output = twine_refusal(clients, second)
    assert "400 Bad Request" in output or "HTTPError: 400" in output
    assert f"File already exists ('{second.name}', with blake2_256 hash" in output
    # twine 7 refuses --skip-existing for any index but PyPI's own, so it is not tried here.


def test_twine_wrong_password(clients, dist_dir, accounts):
    wheel = build_wheel(dist_dir, unique("twine-auth"), "1.0")
    output = twine_refusal(clients, wheel, password="wrong")
    assert "401" in output
    assert "Invalid or non-existent authentication information" in output


def test_twine_token_for_another_project(index_server, clients, dist_dir, accounts):
    mine = unique("tok-mine")
    other = unique("tok-other")
    upload_as_alice(clients, dist_dir, mine, "1.0")
    upload_as_alice(clients, dist_dir, other, "1.0")
    token = token_for(index_server, "alice", mine)
    output = twine_refusal(clients, build_wheel(dist_dir, other, "2.0"), username="__token__", password=token)
    assert "403" in output
    assert f"The given token isn't allowed to upload to project '{other}'" in output
    ok = clients.twine("upload", build_wheel(dist_dir, mine, "2.0"), username="__token__", password=token)
    assert ok.returncode == 0, ok.stdout + ok.stderr


def test_twine_stranger_gets_403(clients, dist_dir, accounts):
    name = unique("owned")
    upload_as_alice(clients, dist_dir, name, "1.0")
    output = twine_refusal(clients, build_wheel(dist_dir, name, "2.0"), username="bob")
    assert f"The user 'bob' isn't allowed to upload to project '{name}'" in output


def test_twine_corrupt_wheel(clients, dist_dir, accounts):
    built = build_wheel(dist_dir / "built", unique("corrupt"), "1.0")
    # twine itself reads METADATA, so keep that and drop what the index requires besides.
    wheel = dist_dir / built.name
    with zipfile.ZipFile(built) as source, zipfile.ZipFile(wheel, "w") as target:
        for item in source.infolist():
            if not item.filename.endswith("/RECORD"):
                target.writestr(item, source.read(item))
    output = twine_refusal(clients, wheel)
    assert f"Invalid distribution file. Wheel '{wheel.name}' does not contain the required RECORD file" in output


def test_twine_filename_metadata_mismatch(clients, dist_dir, accounts):
    name = unique("mismatch")
    wheel = build_wheel(dist_dir, name, "1.0", filename_name=name.replace("-", "_") + "_other")
    output = twine_refusal(clients, wheel)
    assert f"Start filename for '{name}'" in output


def test_twine_oversize_file(clients, dist_dir, accounts):
    name = unique("big")
    filler = base64.b64encode(os.urandom(E2E_MAX_FILE_SIZE)).decode()
    wheel = build_wheel(dist_dir, name, "1.0", module_body=f"DATA = {filler!r}\n")
    assert wheel.stat().st_size > E2E_MAX_FILE_SIZE
    output = twine_refusal(clients, wheel)
    assert f"File too large. Limit for project '{name}' is 2 MB." in output


def test_wrong_digest_over_raw_http(index_server, dist_dir, accounts):
    """No client can be told to lie about a digest, so this one posts the form itself."""
    import urllib.request

    name = unique("digest")
    wheel = build_wheel(dist_dir, name, "1.0")
    form = upload_form.twine_form(wheel.read_bytes(), wheel.name, name, "1.0", sha256_digest="0" * 64)
    request = urllib.request.Request(f"{index_server.url}/legacy/", data=form.body(), method="POST")
    request.add_header("Content-Type", form.content_type)
    request.add_header("Authorization", "Basic " + base64.b64encode(f"alice:{PASSWORD}".encode()).decode())
    opener = urllib.request.build_opener(urllib.request.ProxyHandler({}))
    with pytest.raises(urllib.error.HTTPError) as caught:
        opener.open(request, timeout=30)
    assert caught.value.code == 400
    message = "The digest supplied does not match a digest calculated from the uploaded file."
    assert caught.value.reason == message
    assert message in caught.value.read().decode()


def test_uv_publish_with_token(index_server, clients, dist_dir, accounts):
    name = unique("uv-ok")
    wheel = build_wheel(dist_dir, name, "1.0")
    sdist = build_sdist(dist_dir, name, "1.0")
    token = token_for(index_server, "alice")
    result = clients.uv("publish", "--publish-url", f"{index_server.url}/legacy/", "--token", token, wheel, sdist)
    assert result.returncode == 0, result.stdout + result.stderr
    sha = hashlib.sha256(wheel.read_bytes()).hexdigest()
    found = index_server.shell(
        f"from packages_app.models import File; print(File.objects.get(filename={wheel.name!r}).sha256_digest)"
    )
    assert found.strip() == sha


def test_uv_publish_shows_refusals(index_server, clients, dist_dir, accounts):
    name = unique("uv-conflict")
    first = build_wheel(dist_dir / "a", name, "1.0")
    second = build_wheel(dist_dir / "b", name, "1.0", module_body="changed = True\n")
    url = f"{index_server.url}/legacy/"
    ok = clients.uv("publish", "--publish-url", url, "-u", "alice", "-p", PASSWORD, first)
    assert ok.returncode == 0, ok.stdout + ok.stderr
    again = clients.uv("publish", "--publish-url", url, "-u", "alice", "-p", PASSWORD, first)
    assert again.returncode == 0, again.stdout + again.stderr
    conflict = clients.uv("publish", "--publish-url", url, "-u", "alice", "-p", PASSWORD, second)
    output = one_line(conflict.stdout + conflict.stderr)
    assert conflict.returncode != 0
    assert "File already exists" in output
    wrong = clients.uv("publish", "--publish-url", url, "-u", "alice", "-p", "nope", second)
    output = one_line(wrong.stdout + wrong.stderr)
    assert wrong.returncode != 0
    assert "401" in output


# ---------------------------------------------------------------- issue 18: what the first hour needs


def test_twine_uploads_a_private_do_not_upload_package(index_server, clients, dist_dir, accounts):
    """The packaging guide's marker for internal packages; the public index refuses it on purpose."""
    name = unique("internal")
    wheel = build_wheel(dist_dir, name, "1.0", extra_metadata=[("Classifier", "Private :: Do Not Upload")])
    result = clients.twine("upload", wheel, username="alice", password=PASSWORD)
    assert result.returncode == 0, result.stdout + result.stderr
    release = index_server.get(f"/api/v1/projects/{name}/releases/1.0/")
    assert '"Private :: Do Not Upload"' in release.text


@pytest.mark.parametrize("publisher", ["twine", "uv"])
def test_a_metadata_2_5_wheel_is_accepted(index_server, clients, dist_dir, accounts, publisher):
    name = unique(f"imports-{publisher}")
    module = name.replace("-", "_")
    wheel = build_wheel(dist_dir, name, "1.0", metadata_version="2.5", extra_metadata=[("Import-Name", module)])
    if publisher == "twine":
        result = clients.twine("upload", wheel, username="alice", password=PASSWORD)
    else:
        url = f"{index_server.url}/legacy/"
        result = clients.uv("publish", "--publish-url", url, "-u", "alice", "-p", PASSWORD, wheel)
    assert result.returncode == 0, result.stdout + result.stderr
    release = index_server.get(f"/api/v1/projects/{name}/releases/1.0/")
    assert '"metadata_version":"2.5"' in release.text
    # uv publish sends the import names in the form (twine 7 does not): the release keeps them.
    assert (f'"import_names":["{module}"]' in release.text) == (publisher == "uv")


def test_uv_publish_with_check_url_succeeds_again_without_uploading(index_server, clients, dist_dir, accounts):
    """What makes a re-run CI job idempotent: uv asks the index first and skips what is there."""
    name = unique("uv-rerun")
    wheel = build_wheel(dist_dir, name, "1.0")
    sdist = build_sdist(dist_dir, name, "1.0")
    token = token_for(index_server, "alice")
    args = ["publish", "--publish-url", f"{index_server.url}/legacy/", "--check-url", f"{index_server.url}/simple/"]
    first = clients.uv(*args, "--token", token, wheel, sdist)
    assert first.returncode == 0, first.stdout + first.stderr
    assert "already exists" not in first.stderr
    again = clients.uv(*args, "--token", token, wheel, sdist)
    assert again.returncode == 0, again.stdout + again.stderr
    assert again.stderr.count("already exists, skipping") == 2, again.stderr
    uploads = index_server.shell(
        "from packages_app.models import JournalEntry\n"
        f"print(JournalEntry.objects.filter(name={name!r}, kind='file-added').count())"
    )
    assert uploads.strip() == "2"
