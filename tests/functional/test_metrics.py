"""``/_metrics/``: off by default, token-protected, and in Prometheus' text format as the
reference client's own parser reads it, with counts that follow the requests made."""

from __future__ import annotations

import pytest
from prometheus_client.parser import text_string_to_metric_families

from packages_app.models import File, JournalEntry, Webhook
from packages_app.services import projects, tokens
from tests.factories import UserFactory
from tests.functional.upload_client import basic_auth, publish

TOKEN = "scrape-me-0123456789"


def scrape(client) -> dict[tuple[str, tuple], float]:
    response = client.get("/_metrics/", HTTP_AUTHORIZATION=f"Bearer {TOKEN}")
    assert response.status_code == 200, response.content
    assert response["Content-Type"].startswith("text/plain; version=")
    assert response["Cache-Control"] == "no-store"
    samples = {}
    for family in text_string_to_metric_families(response.content.decode()):
        for sample in family.samples:
            samples[(sample.name, tuple(sorted(sample.labels.items())))] = sample.value
    return samples


def value(samples, name: str, **labels) -> float:
    return samples.get((name, tuple(sorted(labels.items()))), 0.0)


@pytest.fixture
def metrics_on(settings):
    settings.METRICS_TOKEN = TOKEN


def test_off_by_default_and_only_for_its_token(client, db, settings):
    settings.METRICS_TOKEN = ""
    settings.READ_ACCESS = "public"  # else any unknown URL is a 401 to a caller without credentials
    assert client.get("/_metrics/").status_code == 404
    settings.METRICS_TOKEN = TOKEN
    for header in ({}, {"HTTP_AUTHORIZATION": "Bearer wrong"}, {"HTTP_AUTHORIZATION": f"Basic {TOKEN}"}):
        response = client.get("/_metrics/", **header)
        assert response.status_code == 401
        assert response["WWW-Authenticate"] == 'Bearer realm="metrics"'


def test_counts_follow_requests_uploads_and_the_page_store(client, db, metrics_on, tmp_path, settings):
    settings.READ_ACCESS = "public"
    user = UserFactory(username="alice")
    auth = basic_auth("__token__", tokens.create_token(user, name="ci")[1])
    before = scrape(client)
    wheel = publish(client, tmp_path, "demo", "1.0", auth=auth)
    for _ in range(3):
        assert client.get("/simple/demo/").status_code == 200
    assert client.get("/no/such/page/").status_code == 404
    after = scrape(client)

    def grew(name: str, **labels) -> float:
        return value(after, name, **labels) - value(before, name, **labels)

    route = "simple/<str:name>/"
    assert grew("pyindex_requests_total", route=route, method="GET", status="200") == 3
    assert grew("pyindex_request_seconds_count", route=route) == 3
    assert grew("pyindex_requests_total", route="legacy/", method="POST", status="200") == 1
    assert grew("pyindex_requests_total", route="unmatched", method="GET", status="404") == 1
    assert grew("pyindex_uploads_total") == 1
    assert grew("pyindex_upload_bytes_total") == wheel.stat().st_size
    assert grew("pyindex_page_store_total", result="built") >= 1
    assert grew("pyindex_page_store_total", result="kept") >= 2
    assert value(after, "pyindex_journal_serial") == JournalEntry.objects.last_serial()
    assert value(after, "pyindex_storage_bytes") == sum(File.objects.values_list("size", flat=True))
    assert value(after, "pyindex_files") == 1
    assert value(after, "pyindex_webhook_lag") == 0  # no webhooks


def test_webhook_lag_and_failures(client, db, metrics_on):
    hook = {"url": "https://hooks.example.invalid/", "secret": "s", "created_by": UserFactory(username="hooker")}
    projects.create_project("journaled")  # a serial to be behind
    serial = JournalEntry.objects.last_serial()
    assert serial > 0
    Webhook.objects.create(**hook, last_delivered_serial=0)
    Webhook.objects.create(**hook, last_delivered_serial=serial, failure_count=2)
    samples = scrape(client)
    assert value(samples, "pyindex_webhook_lag") == serial
    assert value(samples, "pyindex_webhooks_failing") == 1


def test_made_up_methods_do_not_make_new_labels(client, db, metrics_on):
    before = scrape(client)
    client.generic("BREW", "/simple/")
    after = scrape(client)
    brewed = [key for key in after if ("method", "BREW") in key[1]]
    assert brewed == []

    def other_methods(samples) -> float:
        return sum(
            count
            for (name, labels), count in samples.items()
            if name == "pyindex_requests_total" and ("method", "other") in labels
        )

    assert other_methods(after) == other_methods(before) + 1
