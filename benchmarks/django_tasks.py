"""The benchmark's work that needs Django, run in the index's own environment.

    python benchmarks/django_tasks.py <task> [arguments]

The runner (``run.py``) stays free of Django and runs these as subprocesses with
the throw-away index's environment (``DATABASE_URL``, ``INDEX_DATA_DIR``, ...):

- ``create-uploader``: a user owning the projects the benchmark uploads to, and its API token;
- ``count-queries``: SQL queries per endpoint, in process with ``CaptureQueriesContext``
  (the same views and settings as under gunicorn, no header or flag in the product);
- ``export-peers``: the seeded data as pypiserver's flat folders (hard links to the stored
  files) and as a devpi-server export (``dataindex.json``, and ``links.tsv`` naming the files);
- ``write-dists``: small valid wheels for the upload measurements, made by ``seed.py``'s
  own archive builders.
"""

from __future__ import annotations

import argparse
import email.utils
import json
import os
import shutil
import sys
from pathlib import Path

import _django  # noqa: F401  (sets Django up: it comes before every import of Django or the index)

# isort: split
from django.contrib.auth import get_user_model
from django.db import connection
from django.test import Client, override_settings
from django.test.utils import CaptureQueriesContext

from benchmarks.seed import build_sdist, build_wheel
from packages_app import naming
from packages_app.models import File, Project, Release, RoleName
from packages_app.pages import store
from packages_app.services.roles import grant_role
from packages_app.services.tokens import create_token
from packages_app.storage import package_storage

UPLOADER = "benchmark-uploader"
COUNT_ROUNDS = 2
# Every field devpi-server writes for a version in its own exports; the values not
# held here stay empty, as devpi leaves them for metadata that lacks them.
DEVPI_EMPTY_FIELDS = {
    "home_page": "", "author": "", "author_email": "", "maintainer": "", "maintainer_email": "",
    "description": "", "keywords": "", "platform": [], "classifiers": [], "download_url": "",
    "supported_platform": [], "comment": "", "provides": [], "requires": [], "obsoletes": [],
    "project_urls": [], "provides_dist": [], "obsoletes_dist": [], "requires_dist": [],
    "requires_external": [], "description_content_type": "", "provides_extras": [], "dynamic": [],
    "license_expression": "", "license_file": [],
}  # fmt: skip


# ---------------------------------------------------------------- create-uploader


def create_uploader(args: argparse.Namespace) -> None:
    """A user owning the projects the benchmark changes by uploading; prints its token."""
    user, _ = get_user_model().objects.get_or_create(username=UPLOADER)
    for name in args.owner_of:
        grant_role(Project.objects.get(normalized_name=naming.normalize_name(name)), user, RoleName.OWNER)
    _, plaintext = create_token(user, name="benchmark")
    print(plaintext)


# ---------------------------------------------------------------- count-queries


def count_queries(args: argparse.Namespace) -> None:
    """Queries of a first request (building the page, with the stored pages forgotten) and of a
    second (warm) for each endpoint, twice over, so that a count that varies shows.

    Input: a JSON list of {"key", "method", "path", "headers", "body"} on stdin.
    Output: {key: {"cold": n, "warm": n, "status": s, "cold_runs": [n, n], "warm_runs": [n, n]}} on
    stdout; "cold" and "warm" are the smaller of the runs.

    Nothing else runs meanwhile: the benchmark's servers are stopped, every page is built and
    compressed within its request, and the download counts' writer thread is not started (its
    writes would be on a connection of its own anyway, outside what is captured).
    """
    endpoints = json.load(sys.stdin)
    client = Client()
    with override_settings(DOWNLOAD_COUNTS=False):
        counts = {endpoint["key"]: _count(client, endpoint) for endpoint in endpoints}
    json.dump(counts, sys.stdout)


def _count(client: Client, endpoint: dict) -> dict:
    runs: dict[str, list[int]] = {"cold": [], "warm": []}
    status = 0
    for _ in range(COUNT_ROUNDS):
        # Each round's first request builds the page, as the first after a change does.
        store.forget_everything(shared=True)  # Redis too, when configured: else a "cold" request is a hit
        for kind in ("cold", "warm"):
            with CaptureQueriesContext(connection) as captured:
                response = _request(client, endpoint)
                if hasattr(response, "streaming_content"):
                    for _chunk in response.streaming_content:
                        pass
            runs[kind].append(len(captured.captured_queries))
            status = response.status_code
    return {
        "cold": min(runs["cold"]), "warm": min(runs["warm"]), "status": status,
        "cold_runs": runs["cold"], "warm_runs": runs["warm"],
    }  # fmt: skip


def _request(client: Client, endpoint: dict):
    # The test client's default host is not in ALLOWED_HOSTS; the benchmark's address is.
    headers = {"Host": "127.0.0.1", **endpoint.get("headers", {})}
    if endpoint.get("method", "GET") == "POST":
        content_type = headers.pop("Content-Type", "text/xml")
        return client.post(endpoint["path"], data=endpoint["body"], content_type=content_type, headers=headers)
    return client.get(endpoint["path"], headers=headers)


# ---------------------------------------------------------------- export-peers


def export_peers(args: argparse.Namespace) -> None:
    """Flat folders for pypiserver and one devpi export with an index per group.

    ``--group NAME=PROJECT,PROJECT`` puts those projects in a group of their own;
    ``--group NAME=*`` takes every project no other group names.
    """
    groups = dict(spec.split("=", 1) for spec in args.group)
    named = {naming.normalize_name(name) for spec in groups.values() if spec != "*" for name in spec.split(",")}
    storage = package_storage()
    export = {
        "dumpversion": "2",
        "pythonversion": list(sys.version_info),
        "devpi_server": args.devpi_version,
        "users": {"root": {"username": "root", "created": "2017-01-01T00:00:00Z"}},
        "indexes": {},
    }
    summary = {}
    # devpi's files are linked only when its import runs (a cached import needs none).
    links: list[str] = []
    for group, spec in groups.items():
        releases = Release.objects.select_related("project")
        if spec == "*":
            releases = releases.exclude(project__normalized_name__in=named)
        else:
            releases = releases.filter(project__normalized_name__in=[naming.normalize_name(n) for n in spec.split(",")])
        index = f"root/{group}"
        projects: dict[str, dict] = {}
        fields = ("id", "version", "summary", "requires_python", "license", "metadata_version", "project__name")
        version_of = {}
        for row in releases.values(*fields).iterator(chunk_size=5000):
            name = row["project__name"]
            version_of[row["id"]] = (name, row["version"])
            projects.setdefault(naming.normalize_name(name), {})[row["version"]] = {
                **DEVPI_EMPTY_FIELDS,
                "name": name,
                "version": row["version"],
                "metadata_version": row["metadata_version"] or "2.1",
                "summary": row["summary"],
                "license": row["license"],
                "requires_python": row["requires_python"],
            }
        flat = args.pypiserver / group
        flat.mkdir(parents=True, exist_ok=True)
        files = []
        rows = File.objects.filter(release_id__in=releases.values("id")).values_list(
            "release_id", "filename", "path", "sha256_digest", "upload_time"
        )
        for release_id, filename, path, sha256, upload_time in rows.iterator(chunk_size=5000):
            name, version = version_of[release_id]
            source = storage.path(path)
            _link(source, flat / filename)
            relpath = f"{index}/{naming.normalize_name(name)}/{version}/{filename}"
            links.append(f"{source}\t{relpath}\n")
            files.append(
                {
                    "version": version,
                    "entrymapping": {
                        "last_modified": email.utils.format_datetime(upload_time, usegmt=True),
                        "hashes": {"sha256": sha256},
                        "project": name,
                        "version": version,
                    },
                    "log": [{"what": "upload", "who": "root", "when": list(upload_time.timetuple()[:6]), "dst": index}],
                    "type": "releasefile",
                    "projectname": name,
                    "relpath": relpath,
                }
            )
        export["indexes"][index] = {
            "indexconfig": {
                "type": "stage",
                "bases": [],
                "volatile": True,
                # Anonymous uploads: the changes the benchmark makes need no login round trip.
                "acl_upload": [":ANONYMOUS:"],
                "acl_toxresult_upload": [":ANONYMOUS:"],
                "mirror_whitelist": [],
                "mirror_whitelist_inheritance": "intersection",
            },
            "projects": projects,
            "files": files,
        }
        summary[group] = {"projects": len(projects), "files": len(files)}
    args.devpi.mkdir(parents=True, exist_ok=True)
    (args.devpi / "dataindex.json").write_text(json.dumps(export))
    (args.devpi / "links.tsv").write_text("".join(links))
    json.dump(summary, sys.stdout)


def _link(source: str, target: Path) -> None:
    target.parent.mkdir(parents=True, exist_ok=True)
    try:
        os.link(source, target)
    except OSError:
        shutil.copyfile(source, target)


# ---------------------------------------------------------------- write-dists


def write_dists(args: argparse.Namespace) -> None:
    """Each ``--set FOLDER,PROJECT,COUNT,MAJOR,SDISTS``: COUNT wheels of PROJECT, versions MAJOR.0.0
    onwards (and an sdist each when SDISTS is 1), into ``--target``/FOLDER; prints what it wrote."""
    written: dict[str, list[dict]] = {}
    for spec in args.set:
        folder, name, count, major, sdists = spec.split(",")
        target = args.target / folder
        target.mkdir(parents=True, exist_ok=True)
        files = written.setdefault(folder, [])
        for number in range(int(count)):
            version = f"{major}.{number // 1000}.{number % 1000}"
            filename = f"{naming.wheel_name_part(name)}-{version}-py3-none-any.whl"
            data, _metadata = build_wheel(name, version, "py3-none-any", ">=3.8")
            (target / filename).write_bytes(data)
            files.append({"filename": filename, "name": name, "version": version})
            if sdists == "1":
                sdist = f"{naming.wheel_name_part(name)}-{version}.tar.gz"
                (target / sdist).write_bytes(build_sdist(name, version, ">=3.8"))
                files.append({"filename": sdist, "name": name, "version": version})
    json.dump(written, sys.stdout)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    tasks = parser.add_subparsers(dest="task", required=True)
    uploader = tasks.add_parser("create-uploader")
    uploader.add_argument("--owner-of", action="append", default=[])
    uploader.set_defaults(run=create_uploader)
    tasks.add_parser("count-queries").set_defaults(run=count_queries)
    export = tasks.add_parser("export-peers")
    export.add_argument("--pypiserver", type=Path, required=True)
    export.add_argument("--devpi", type=Path, required=True)
    export.add_argument("--devpi-version", default="6")
    export.add_argument("--group", action="append", required=True)
    export.set_defaults(run=export_peers)
    dists = tasks.add_parser("write-dists")
    dists.add_argument("--target", type=Path, required=True)
    dists.add_argument("--set", action="append", required=True)
    dists.set_defaults(run=write_dists)
    args = parser.parse_args()
    args.run(args)


if __name__ == "__main__":
    main()
