"""What a gunicorn worker imports (issue #25): each MiB it imports is a MiB in every worker.

A worker of the default configuration (SQLite, files on local disk, no upstream) loads none of
the heavy packages that only another configuration or a rare request needs; the requests that
need them still get them (the S3 storage, the schema, the README renderers, PostgreSQL's search).
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
from django.utils.module_loading import import_string

from indexsite import lean_imports
from indexsite.storages import s3_storage

ROOT = Path(__file__).resolve().parents[2]

# Not loaded by a worker of the default configuration, and who needs each (measured sizes in
# docs/benchmarks.md, "Memory after changes").
NOT_LOADED = {
    "boto3": "the S3 storage (FILE_STORAGE=s3): packages_app/s3_storage.py",
    "botocore": "the S3 storage",
    "storages.backends.s3": "the S3 storage",
    "psycopg": "PostgreSQL; DRF's postgres serializer fields (indexsite/lean_imports.py)",
    "django.contrib.postgres.fields": "DRF's postgres serializer fields",
    "requests": "DRF's RequestsClient",
    "yaml": "DRF's OpenAPIRenderer; drf-spectacular's schema view",
    "jwt": "trusted publishing's token exchange",
    "cryptography": "PyJWT",
    "urllib3": "the upstream proxy, the token exchange's key fetch",
    "docutils": "reStructuredText READMEs; the admin's documentation pages (not installed)",
    "pygments": "READMEs' code blocks; DRF's browsable API (not used)",
    "comrak": "Markdown READMEs",
    "drf_spectacular.openapi": "making the OpenAPI schema (packages_app/api/annotations.py)",
    "drf_spectacular.views": "the schema and docs views (packages_app/api/urls.py)",
    "django.test": "drf-spectacular's generator (through rest_framework.test)",
    "prometheus_client": "the metrics, with METRICS_TOKEN (packages_app/metrics.py)",
}

# A worker: the WSGI application (Django set up, the middleware loaded), then what its first
# request loads, the URL configuration with every view module.
WORKER = """
import json, sys
from indexsite.wsgi import application
from django.urls import get_resolver
get_resolver().url_patterns
print(json.dumps(sorted(sys.modules)))
"""


def run_in_worker(code: str, data_dir: Path, **settings: str) -> str:
    # An environment built from nothing: no DATABASE_URL, FILE_STORAGE or REDIS_URL of the test
    # run (its PostgreSQL and S3 variant) may reach the default configuration.
    env = {
        "PATH": os.environ.get("PATH", os.defpath),
        "LANG": "C.UTF-8",
        "HOME": str(data_dir),
        "DJANGO_SETTINGS_MODULE": "indexsite.settings",
        "DEBUG": "false",
        "SECRET_KEY": "lean-imports-test-" + "k" * 40,
        "ALLOWED_HOSTS": "127.0.0.1",
        "INDEX_DATA_DIR": str(data_dir),
        **settings,
    }
    result = subprocess.run(  # noqa: S603 - this interpreter, our own code
        [sys.executable, "-c", code], cwd=ROOT, env=env, capture_output=True, text=True, timeout=120, check=False
    )
    assert result.returncode == 0, result.stderr[-3000:]
    return result.stdout.strip().splitlines()[-1]


def test_a_worker_of_the_default_configuration_loads_none_of_the_optional_packages(tmp_path):
    loaded = set(json.loads(run_in_worker(WORKER, tmp_path)))

    assert "packages_app.api.views" in loaded  # the URL configuration was loaded
    assert {name: why for name, why in NOT_LOADED.items() if name in loaded} == {}


def test_hidden_packages_import_again_afterwards():
    # Hidden only while DRF and admindocs were imported: those who need them get them.
    import django.contrib.postgres.search  # PostgreSQL's full-text search (packages_app/web/search.py)
    import docutils.core  # reStructuredText READMEs
    import yaml

    assert django.contrib.postgres.search.SearchVector
    assert docutils.core.publish_parts
    assert yaml.safe_load


def test_hidden_restores_what_was_not_imported_and_leaves_what_was(monkeypatch):
    monkeypatch.delitem(sys.modules, "never_installed_package", raising=False)
    with lean_imports.hidden(["never_installed_package", "json"]):
        with pytest.raises(ImportError):
            import never_installed_package  # noqa: F401
        import json as already_imported  # imported before: not hidden

        assert already_imported.dumps
    assert "never_installed_package" not in sys.modules
    assert sys.modules["json"] is json


def test_the_s3_storage_setting_names_the_s3_backend():
    entry = s3_storage(
        bucket="b", endpoint_url=None, region=None, access_key=None, secret_key=None, public_base_url=None,
        read_access="public",
    )  # fmt: skip
    backend = import_string(entry["BACKEND"])
    from storages.backends.s3 import S3Storage

    assert issubclass(backend, S3Storage)
    assert backend.__name__ == "PackageS3Storage"


def test_a_schema_made_in_a_fresh_process_has_every_deferred_annotation(tmp_path):
    # Nothing in the process has loaded the views or applied an annotation before the
    # generator: it must do both (packages_app/api/schema.py).
    code = """
import json
from indexsite.wsgi import application
from drf_spectacular.settings import spectacular_settings
schema = spectacular_settings.DEFAULT_GENERATOR_CLASS().get_schema(request=None, public=True)
operations = {op["operationId"]: op for path in schema["paths"].values() for op in path.values()}
print(json.dumps({
    "ids": sorted(operations),
    "schemes": sorted(schema["components"]["securitySchemes"]),
    "create_publisher": operations["projects_publishers_create"]["requestBody"]["content"]["application/json"],
}))
"""
    made = json.loads(run_in_worker(code, tmp_path, READ_ACCESS="public"))

    # operation_id= of @extend_schema on a method, and the authentication extension's scheme.
    assert {"projects_publisher_retrieve", "webhook_retrieve", "projects_webhook_retrieve"} <= set(made["ids"])
    assert made["schemes"] == ["apiToken"]
    # request= of @extend_schema on a view's post (the view's own serializer is another)
    assert made["create_publisher"] == {"schema": {"$ref": "#/components/schemas/NewPublisherRequest"}}
