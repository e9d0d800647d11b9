"""Webhooks (issue 24): signed deliveries of journal events, filtered, in order, retried.

The receiver is a real HTTP server on 127.0.0.1 (harness/webhook_receiver.py); the worker's
passes are called in-process with an explicit clock, so waits between attempts are exact.
"""

from __future__ import annotations

import hashlib
import hmac
import io
import re
from datetime import timedelta
from pathlib import Path

import pytest
from django.utils import timezone

from harness.webhook_receiver import WebhookReceiver
from packages_app.models import JournalEntry, Release, Webhook, WebhookDelivery
from packages_app.services import journal, projects, releases, roles
from packages_app.services import webhooks as webhook_services
from packages_app.services.errors import ServiceError
from packages_app.webhooks import claims, delivery, signing
from tests.factories import UserFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def receiver():
    with WebhookReceiver(hang_seconds=1.5) as server:
        yield server


@pytest.fixture
def fast(monkeypatch):
    """A short timeout, so that a hanging receiver costs the test about a second."""
    monkeypatch.setattr(delivery, "TIMEOUT_SECONDS", 0.5)


def verified(hook: Webhook, received) -> bool:
    return signing.verify(
        hook.secret,
        received.body,
        received.headers["x-index-signature"],
        received.headers["x-index-timestamp"],
    )


def serials(received) -> list[int]:
    return [item.event["serial"] for item in received]


def drain(now=None) -> int:
    """Passes until nothing more is due: what a worker does."""
    total = 0
    while sent := delivery.deliver_due(now=now):
        total += sent
    return total


# ---------------------------------------------------------------- signing


def test_the_signature_is_hmac_sha256_over_timestamp_dot_body():
    body = b'{"serial":1}'
    expected = hmac.new(b"whsec_x", b"1700000000." + body, hashlib.sha256).hexdigest()
    assert signing.signature("whsec_x", 1700000000, body) == f"sha256={expected}"


@pytest.mark.parametrize(
    ("body", "secret", "age", "ok"),
    [
        (b"{}", "whsec_x", 0, True),
        (b"{}", "whsec_x", 299, True),
        (b"{}", "whsec_x", 301, False),  # replayed after the window
        (b"{}", "whsec_x", -301, False),  # from the future
        (b"{ }", "whsec_x", 0, False),  # body changed
        (b"{}", "whsec_y", 0, False),  # another hook's secret
    ],
)
def test_a_receiver_verifies_the_signature_within_the_replay_window(body, secret, age, ok):
    header = signing.signature("whsec_x", 1700000000, b"{}")
    assert signing.verify(secret, body, header, "1700000000", now=1700000000 + age) is ok


def test_a_malformed_timestamp_or_signature_is_refused():
    assert not signing.verify("s", b"{}", "sha256=00", "soon", now=0)
    assert not signing.verify("s", b"{}", "", "0", now=0)


# ---------------------------------------------------------------- adding and removing


def test_adding_returns_the_secret_once_and_journals_without_the_url_path():
    alice = UserFactory(username="alice")
    project = projects.create_project("Demo_Pkg", user=alice)
    hook, secret = webhook_services.add_webhook(
        "https://hooks.example.com/T0KEN/path", project=project, kinds=["file-added"], user=alice
    )
    assert secret.startswith("whsec_")
    assert hook.secret == secret
    entry = JournalEntry.objects.order_by("-id").first()
    assert (entry.kind, entry.name, entry.submitted_by) == (journal.WEBHOOK_ADDED, "", alice)
    assert entry.action == f"add webhook #{hook.pk} for demo-pkg to hooks.example.com"
    assert hook.last_delivered_serial == entry.id  # its events start after its creation
    webhook_services.remove_webhook(hook, user=alice)
    assert not Webhook.objects.exists()
    assert JournalEntry.objects.order_by("-id").first().kind == journal.WEBHOOK_REMOVED


@pytest.mark.parametrize(
    ("url", "kinds", "words"),
    [
        ("ftp://example.com/", [], "http or https"),
        ("https:///nohost", [], "http or https"),
        ("https://user:pw@example.com/", [], "no user name"),
        ("https://example.com/", ["token-created"], "not an action a webhook can be sent"),
        ("https://example.com/", ["file-uploaded"], "not an action"),
    ],
)
def test_a_bad_url_or_kind_is_refused(url, kinds, words):
    with pytest.raises(ServiceError, match=words):
        webhook_services.add_webhook(url, kinds=kinds)
    assert not Webhook.objects.exists()


# ---------------------------------------------------------------- delivering


def test_events_arrive_signed_in_serial_order_in_the_event_feeds_shape(receiver):
    alice = UserFactory(username="alice")
    hook, _secret = webhook_services.add_webhook(receiver.url, user=alice)
    project = projects.create_project("demo", user=alice)
    release = releases.create_release(project, "1.0", user=alice)
    releases.yank_release(release, "broken", user=alice)
    projects.set_status(project, "deprecated", "use other", user=alice)
    assert drain() == 4
    got = receiver.delivered()
    assert [item.event["action"] for item in got] == [
        "project-created",
        "release-created",
        "release-yanked",
        "project-status-set",
    ]
    assert serials(got) == sorted(serials(got))
    assert all(verified(hook, item) for item in got)
    first = got[0]
    assert set(first.event) == {
        "serial",
        "project",
        "version",
        "filename",
        "action",
        "description",
        "actor",
        "timestamp",
    }
    assert first.event["actor"] == {"type": "user", "user": "alice", "token": None, "publisher": None}
    assert first.headers["content-type"] == "application/json"
    assert first.headers["x-index-webhook"] == str(hook.pk)
    assert len({item.headers["x-index-delivery"] for item in got}) == 4
    hook.refresh_from_db()
    assert hook.last_delivered_serial == JournalEntry.objects.last_serial()
    assert (hook.failure_count, hook.last_error) == (0, "")
    assert drain() == 0  # nothing is sent twice by a worker that was not interrupted


def test_a_project_hook_gets_its_project_only_and_its_lag_reaches_zero(receiver):
    alice = UserFactory(username="alice")
    mine = projects.create_project("mine", user=alice)
    other = projects.create_project("other", user=alice)
    hook, _ = webhook_services.add_webhook(receiver.url, project=mine, user=alice)
    releases.create_release(other, "1.0", user=alice)
    releases.create_release(mine, "1.0", user=alice)
    releases.create_release(other, "2.0", user=alice)
    assert delivery.lag(hook) == 3
    drain()
    assert [(item.event["project"], item.event["version"]) for item in receiver.delivered()] == [("mine", "1.0")]
    hook.refresh_from_db()
    assert delivery.lag(hook) == 0


def test_kinds_filter_the_events(receiver):
    alice = UserFactory(username="alice")
    project = projects.create_project("demo", user=alice)
    webhook_services.add_webhook(receiver.url, kinds=["release-yanked", "project-deleted"], user=alice)
    release = releases.create_release(project, "1.0", user=alice)
    releases.yank_release(release, user=alice)
    releases.unyank_release(release, user=alice)
    projects.delete_project(project, user=alice)
    drain()
    assert [item.event["action"] for item in receiver.delivered()] == ["release-yanked", "project-deleted"]


def test_a_project_hook_is_told_of_its_projects_deletion(receiver):
    alice = UserFactory(username="alice")
    project = projects.create_project("demo", user=alice)
    hook, _ = webhook_services.add_webhook(receiver.url, project=project, user=alice)
    projects.delete_project(project, user=alice)
    projects.create_project("unrelated", user=alice)
    drain()
    assert [item.event["action"] for item in receiver.delivered()] == ["project-deleted"]
    hook.refresh_from_db()
    assert hook.project is None
    assert hook.project_name == "demo"


def test_audit_only_entries_are_never_sent(receiver):
    alice = UserFactory(username="alice")
    webhook_services.add_webhook(receiver.url, user=alice)
    from packages_app.services import tokens

    tokens.create_token(alice, name="ci")
    webhook_services.add_webhook("https://example.com/other", user=alice)
    assert drain() == 0
    assert receiver.deliveries == []


# ---------------------------------------------------------------- restricted projects


def test_an_index_wide_hook_sees_what_its_creator_may_read(receiver):
    alice, bob = UserFactory(username="alice"), UserFactory(username="bob")
    root = UserFactory(username="root", is_staff=True)
    secret_project = projects.create_project("secret", user=alice, visibility="restricted")
    roles.grant_role(secret_project, alice, "Owner")
    bobs, _ = webhook_services.add_webhook(receiver.url + "?who=bob", user=bob)
    roots, _ = webhook_services.add_webhook(receiver.url + "?who=root", user=root)
    alices, _ = webhook_services.add_webhook(receiver.url + "?who=alice", user=alice)
    releases.create_release(secret_project, "1.0", user=alice)
    open_project = projects.create_project("open", user=alice)
    drain()
    by_hook: dict[str, list[str]] = {}
    for item in receiver.delivered():
        by_hook.setdefault(item.headers["x-index-webhook"], []).append(item.event["project"])
    assert by_hook[str(bobs.pk)] == ["open"]
    assert by_hook[str(roots.pk)] == ["secret", "open"]
    assert by_hook[str(alices.pk)] == ["secret", "open"]
    assert open_project.visibility == "index"


def test_a_hook_of_a_creator_who_lost_the_role_or_left_sends_nothing_restricted(receiver):
    alice, bob = UserFactory(username="alice"), UserFactory(username="bob")
    project = projects.create_project("secret", user=alice, visibility="restricted")
    roles.grant_role(project, alice, "Owner")
    roles.grant_role(project, bob, "Maintainer", user=alice)
    hook, _ = webhook_services.add_webhook(receiver.url, project=project, user=bob)
    releases.create_release(project, "1.0", user=alice)
    drain()
    assert serials(receiver.delivered()) == [JournalEntry.objects.get(version="1.0").id]
    roles.revoke_role(project, bob, user=alice)
    releases.create_release(project, "2.0", user=alice)
    bob.is_active = False
    bob.save()
    drain()
    assert len(receiver.delivered()) == 1
    hook.refresh_from_db()
    assert delivery.lag(hook) == 0  # moved past what it may not be told


# ---------------------------------------------------------------- failures


def test_failures_wait_twice_as_long_each_time_up_to_the_cap(receiver):
    alice = UserFactory(username="alice")
    hook, _ = webhook_services.add_webhook(receiver.url, user=alice)
    projects.create_project("demo", user=alice)
    receiver.script = [500] * 12
    now = timezone.now()
    waits = []
    for _ in range(10):
        assert delivery.deliver_due(now=now) == 0
        hook.refresh_from_db()
        wait = hook.next_attempt_at - now
        waits.append(int(wait.total_seconds()))
        assert delivery.deliver_due(now=now + wait - timedelta(seconds=1)) == 0  # not due yet
        now += wait
    assert waits == [10, 20, 40, 80, 160, 320, 640, 1280, 2560, 3600]
    assert hook.failure_count == 10
    assert hook.last_error == "HTTP 500: receiver broke"
    assert len(receiver.deliveries) == 10
    failures = WebhookDelivery.objects.filter(webhook=hook)
    assert failures.count() == 10
    assert {(f.status_code, f.serial) for f in failures} == {(500, JournalEntry.objects.get(kind="project-created").id)}
    receiver.script = []
    assert delivery.deliver_due(now=now) == 1
    hook.refresh_from_db()
    assert (hook.failure_count, hook.next_attempt_at, hook.last_error) == (0, None, "")


def test_only_the_newest_failures_are_kept(receiver, monkeypatch):
    monkeypatch.setattr(delivery, "FAILURES_KEPT", 3)
    alice = UserFactory(username="alice")
    hook, _ = webhook_services.add_webhook(receiver.url, user=alice)
    projects.create_project("demo", user=alice)
    receiver.script = [500] * 5
    now = timezone.now()
    for minute in range(5):
        delivery.deliver_due(now=now + timedelta(hours=minute))
    assert WebhookDelivery.objects.filter(webhook=hook).count() == 3


def test_a_redirect_is_a_failure_and_is_not_followed(receiver):
    alice = UserFactory(username="alice")
    hook, _ = webhook_services.add_webhook(receiver.url, user=alice)
    projects.create_project("demo", user=alice)
    receiver.script = ["redirect"]
    assert delivery.deliver_due() == 0
    hook.refresh_from_db()
    assert hook.last_error == "HTTP 302 to 'http://elsewhere.invalid/hook': redirects are not followed"
    assert len(receiver.deliveries) == 1


def test_an_unreachable_receiver_is_a_failure():
    alice = UserFactory(username="alice")
    with WebhookReceiver() as gone:
        url = gone.url
    hook, _ = webhook_services.add_webhook(url, user=alice)
    projects.create_project("demo", user=alice)
    assert delivery.deliver_due() == 0
    hook.refresh_from_db()
    assert hook.failure_count == 1
    assert "Connection" in hook.last_error


def test_an_inactive_hook_or_one_held_by_another_worker_is_skipped(receiver):
    alice = UserFactory(username="alice")
    hook, _ = webhook_services.add_webhook(receiver.url, user=alice)
    projects.create_project("demo", user=alice)
    with claims.claimed(hook.pk) as held:
        assert held
        assert delivery.deliver_due() == 0  # another worker's
    Webhook.objects.filter(pk=hook.pk).update(active=False)
    assert delivery.deliver_due() == 0
    Webhook.objects.filter(pk=hook.pk).update(active=True)
    assert delivery.deliver_due() == 1


def test_a_receiver_that_fails_times_out_then_recovers_gets_every_event_in_order(receiver, fast):
    """The issue's end-to-end case: 500, a hang past the timeout, then 2xx; nothing lost, in order."""
    alice = UserFactory(username="alice")
    hook, _ = webhook_services.add_webhook(receiver.url, user=alice)
    project = projects.create_project("demo", user=alice)
    for number in range(1, 6):
        releases.create_release(project, f"{number}.0", user=alice)
    releases.yank_release(Release.objects.get(project=project, version="2.0"), user=alice)
    expected = list(
        JournalEntry.objects.filter(id__gt=hook.last_delivered_serial).published().values_list("id", flat=True)
    )
    receiver.script = [200, 200, 500, "hang", 500, 200, "hang"]
    now = timezone.now()
    for _ in range(20):
        drain(now=now)
        hook.refresh_from_db()
        if hook.last_delivered_serial == JournalEntry.objects.last_serial():
            break
        now = hook.next_attempt_at
    got = receiver.delivered()
    assert serials(got) == expected
    assert all(verified(hook, item) for item in got)
    hook.refresh_from_db()
    assert hook.failure_count == 0
    errors = list(WebhookDelivery.objects.filter(webhook=hook).order_by("id").values_list("error", flat=True))
    assert [error.split(":")[0] for error in errors] == ["HTTP 500", "ReadTimeoutError", "HTTP 500", "ReadTimeoutError"]


# ---------------------------------------------------------------- the shape, and the command


def test_the_body_is_the_events_feeds_own_event(client, receiver):
    alice = UserFactory(username="alice")
    webhook_services.add_webhook(receiver.url, user=alice)
    project = projects.create_project("demo", user=alice)
    releases.yank_release(releases.create_release(project, "1.0", user=alice), "bad", user=alice)
    drain()
    feed = client.get("/api/v1/events/?project=demo").json()["results"]
    assert [item.event for item in receiver.delivered()] == feed


def test_the_command_sends_what_is_due_and_a_stop_ends_a_pass_between_events(receiver):
    import threading

    from django.core.management import call_command

    alice = UserFactory(username="alice")
    hook, _ = webhook_services.add_webhook(receiver.url, user=alice)
    project = projects.create_project("demo", user=alice)
    releases.create_release(project, "1.0", user=alice)
    stop = threading.Event()
    stop.set()
    assert delivery.deliver_due(stop=stop) == 0
    hook.refresh_from_db()
    assert delivery.lag(hook) == 2  # nothing skipped: the events wait for the next start
    out = io.StringIO()
    call_command("deliver_webhooks", "--once", stdout=out)
    assert out.getvalue().strip() == "Delivered 2 webhook event(s)."
    assert len(receiver.delivered()) == 2


def test_the_docs_receiver_snippet_verifies_a_real_delivery(receiver):
    """docs/webhooks.md's Python verify(), run as written, on what the worker really sent."""
    text = (Path(__file__).parents[2] / "docs/webhooks.md").read_text()
    snippet = re.search(r"```python\n(.*?)```", text, re.S).group(1)
    namespace: dict = {}
    exec(snippet, namespace)  # noqa: S102 - our own documentation's code
    doc_verify = namespace["verify"]
    alice = UserFactory(username="alice")
    hook, secret = webhook_services.add_webhook(receiver.url, user=alice)
    projects.create_project("demo", user=alice)
    drain()
    (got,) = receiver.delivered()
    signature, timestamp = got.headers["x-index-signature"], got.headers["x-index-timestamp"]
    assert doc_verify(secret, got.body, signature, timestamp)
    assert not doc_verify(secret, got.body + b" ", signature, timestamp)
    assert not doc_verify("whsec_other", got.body, signature, timestamp)
    assert not doc_verify(secret, got.body, signature, str(int(timestamp) - 301))


def test_one_hooks_fault_does_not_stop_the_others(receiver, monkeypatch, caplog):
    alice = UserFactory(username="alice")
    broken, _ = webhook_services.add_webhook(receiver.url + "?broken", user=alice)
    healthy, _ = webhook_services.add_webhook(receiver.url, user=alice)
    projects.create_project("demo", user=alice)
    real_send = delivery.send

    def send(hook, entry):
        if hook.pk == broken.pk:
            raise RuntimeError("a bug")
        return real_send(hook, entry)

    monkeypatch.setattr(delivery, "send", send)
    assert delivery.deliver_due() == 1
    assert [item.headers["x-index-webhook"] for item in receiver.delivered()] == [str(healthy.pk)]
    assert f"webhook #{broken.pk}: its pass failed" in caplog.text
    before = broken.last_delivered_serial
    broken.refresh_from_db()
    assert broken.last_delivered_serial == before  # nothing skipped: it is sent once the fault is gone


def test_the_lock_other_processes_see_is_exclusive():
    """On SQLite a file lock beside the database (one per open file: as another process's would be)."""
    from django.db import connection

    if connection.vendor != "sqlite" or not Path(str(connection.settings_dict["NAME"])).is_file():
        pytest.skip("PostgreSQL's session locks are per connection; a second process is the subprocess test's")
    with claims._shared_lock(7) as first, claims._shared_lock(7) as second:
        assert (first, second) == (True, False)
    with claims._shared_lock(7) as again:
        assert again
