"""/_health/: the database, the storage and the cache, answered whatever the host name."""

from __future__ import annotations

import json

from django.test import override_settings

from packages_app.health import health_report


def test_a_healthy_index_says_so_part_by_part(client, db, settings):
    response = client.get("/_health/")
    assert response.status_code == 200
    assert response["Cache-Control"] == "no-store"
    body = json.loads(response.content)
    expected = {"database": "ok", "storage": "ok"} | ({"cache": "ok"} if settings.REDIS_URL else {})
    assert body == {"status": "ok", "checks": expected}


def test_load_balancers_may_probe_by_address_over_plain_http(client, db, settings):
    settings.SECURE_SSL_REDIRECT = True  # as in production
    response = client.get("/_health/", HTTP_HOST="10.1.2.3")  # not in ALLOWED_HOSTS
    assert response.status_code == 200
    # The same request anywhere else is refused for its host and redirected for its scheme.
    assert client.get("/simple/", HTTP_HOST="10.1.2.3").status_code == 400
    assert client.get("/simple/").status_code == 301


def test_a_storage_that_cannot_be_written_is_reported(client, db, tmp_path):
    blocker = tmp_path / "files"
    blocker.write_text("a file where the files folder should be")
    broken = {"BACKEND": "packages_app.storage.AtomicFileSystemStorage", "OPTIONS": {"location": str(blocker)}}
    with override_settings(STORAGES={"packages": broken, "default": broken, "staticfiles": _static()}):
        response = client.get("/_health/")
    assert response.status_code == 503
    body = json.loads(response.content)
    assert body["status"] == "error"
    assert body["checks"]["database"] == "ok"
    assert body["checks"]["storage"] == "error: FileExistsError"
    assert str(blocker) not in response.content.decode()  # the kind of error only, never its details


def test_the_report_is_a_plain_function(db):
    healthy, results = health_report()
    assert healthy
    assert results["database"] == "ok"


def _static():
    from django.conf import settings

    return settings.STORAGES["staticfiles"]
