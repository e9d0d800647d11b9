"""The worker as operators run it, ``manage.py deliver_webhooks`` in a process of its own:
killed mid-delivery and started again, it loses no event (at least once, in serial order).

Its own SQLite database in a data folder of the test's, migrated by ``manage.py migrate``:
the worker and the test's ``manage.py shell`` share it, as the worker and the index would.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time

import pytest

from harness.servers import INDEX_SETTINGS, REPO_ROOT
from harness.webhook_receiver import WebhookReceiver
from packages_app.webhooks import signing

SETUP = """
from packages_app.models import JournalEntry
from packages_app.services import projects, releases, webhooks
from django.contrib.auth import get_user_model
alice = get_user_model().objects.create_user("alice")
hook, secret = webhooks.add_webhook({url!r}, user=alice)
project = projects.create_project("demo", user=alice)
for number in range({count}):
    releases.create_release(project, f"{{number}}.0", user=alice)
serials = list(JournalEntry.objects.published().filter(id__gt=hook.last_delivered_serial).values_list("id", flat=True))
print(json.dumps({{"secret": secret, "serials": serials}}))
"""


@pytest.fixture
def index_env(tmp_path):
    env = {key: value for key, value in os.environ.items() if key not in INDEX_SETTINGS}
    for key in ("DATABASE_URL", "FILE_STORAGE", "REDIS_URL", "READ_ACCESS"):
        env.pop(key, None)
    env.update(DEBUG="true", INDEX_DATA_DIR=str(tmp_path), DJANGO_SETTINGS_MODULE="indexsite.settings")
    return env


def manage(env, *args: str) -> subprocess.CompletedProcess:
    result = subprocess.run(  # noqa: S603 - our own manage.py, fixed arguments
        [sys.executable, "manage.py", *args], cwd=REPO_ROOT, env=env, capture_output=True, text=True, timeout=120
    )
    assert result.returncode == 0, result.stderr
    return result


def wait_for(condition, timeout: float = 60) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        assert time.monotonic() < deadline, "timed out"
        time.sleep(0.05)


def test_a_worker_killed_mid_delivery_and_restarted_loses_nothing(index_env, tmp_path):
    manage(index_env, "migrate", "--noinput", "--verbosity", "0")
    with WebhookReceiver(delay=0.05) as receiver:
        code = "import json\n" + SETUP.format(url=receiver.url, count=15)
        made = json.loads(manage(index_env, "shell", "--verbosity", "0", "-c", code).stdout.strip().splitlines()[-1])
        log = (tmp_path / "worker.log").open("wb")
        worker = subprocess.Popen(  # noqa: S603
            [sys.executable, "manage.py", "deliver_webhooks", "--interval", "0.2"],
            cwd=REPO_ROOT,
            env=index_env,
            stdout=log,
            stderr=subprocess.STDOUT,
        )
        try:
            wait_for(lambda: len(receiver.delivered()) >= 5)
            receiver.delay = 2.0  # the next request is still being answered when the worker dies
            begun = receiver.started
            wait_for(lambda: receiver.started > begun)
            worker.send_signal(signal.SIGKILL)
            worker.wait(timeout=30)
        finally:
            if worker.poll() is None:
                worker.kill()
                worker.wait()
            log.close()
        killed_at = len(receiver.delivered())
        assert killed_at < len(made["serials"]), "the worker finished before it was killed"
        receiver.delay = 0.0
        time.sleep(2.1)  # the interrupted request's answer lands (unheard) before the restart
        restarted = manage(index_env, "deliver_webhooks", "--once")
        assert "webhook event(s)" in restarted.stdout
    got = receiver.delivered()
    arrived = [item.event["serial"] for item in got]
    assert sorted(set(arrived)) == made["serials"]  # nothing lost
    # In order: each arrival is the next serial or the one sent again after the kill.
    assert all(later >= max(arrived[: index + 1]) for index, later in enumerate(arrived[1:]))
    assert len(arrived) - len(set(arrived)) <= 1  # at most the interrupted event twice
    now = time.time()
    for item in got:
        assert signing.verify(
            made["secret"], item.body, item.headers["x-index-signature"], item.headers["x-index-timestamp"], now=now
        )
