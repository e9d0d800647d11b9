"""The end-to-end harness itself: a live server, working commands, isolated clients."""

import json
import os
import subprocess
import sys

from harness.dists import build_wheel
from harness.servers import COMMAND_TIMEOUT, REPO_ROOT

# Where this machine's own pip configuration points; none of it may reach the clients.
MACHINE_PIP_SOURCES = ("/opt/wheels", "/opt/pypi")


def test_server_answers_over_http(index_server):
    response = index_server.get("/admin/login/")
    assert response.status == 200
    assert "Package index administration" in response.text


def test_server_runs_the_production_settings_on_the_runs_database_engine(index_server):
    code = "from django.conf import settings; from django.db import connection; "
    code += "print(settings.DEBUG, settings.SETTINGS_MODULE, connection.vendor, connection.settings_dict['NAME'])"
    debug, module, vendor, name = index_server.shell(code).split()
    assert (debug, module) == ("False", "indexsite.settings")
    if os.environ.get("DATABASE_URL", "").startswith("postgres"):
        assert (vendor, name[: len("pyidx_e2e_")]) == ("postgresql", "pyidx_e2e_")
    else:
        assert (vendor, name) == ("sqlite", str(index_server.data_dir / "index.sqlite3"))


def test_manage_commands_share_the_servers_database(index_server):
    code = (
        "from django.contrib.auth import get_user_model; "
        "get_user_model().objects.create_user('harness-user', password='s3cret-pass'); "
        "import json; print(json.dumps(list(get_user_model().objects.values_list('username', flat=True))))"
    )
    assert "harness-user" in json.loads(index_server.shell(code).strip().splitlines()[-1])
    admin = {"ADMIN_USERNAME": "harness-admin", "ADMIN_PASSWORD": "x-long-passw0rd"}
    assert "Created admin user 'harness-admin'" in index_server.manage("bootstrap_admin", extra_env=admin)
    assert "already exists" in index_server.manage("bootstrap_admin", extra_env=admin)


def test_bootstrap_admin_refuses_a_weak_password_in_one_line(index_server):
    """What ./scripts/serve shows when ADMIN_PASSWORD is weak: the reason, not a traceback."""
    weak = {"ADMIN_USERNAME": "harness-weak", "ADMIN_PASSWORD": "password"}
    result = subprocess.run(
        [sys.executable, "manage.py", "bootstrap_admin"],
        cwd=REPO_ROOT,
        env={**index_server.env, **weak},
        capture_output=True,
        text=True,
        timeout=COMMAND_TIMEOUT,
    )
    assert result.returncode == 1
    assert result.stderr.strip().splitlines() == [
        "CommandError: ADMIN_PASSWORD is too weak, no admin user made: This password is too common."
    ]
    assert "harness-weak" not in index_server.shell(
        "from django.contrib.auth import get_user_model; "
        "print(list(get_user_model().objects.values_list('username', flat=True)))"
    )


def test_pip_sees_none_of_the_machine_configuration(clients):
    listed = clients.pip("config", "list")
    debug = clients.pip("config", "debug")
    assert listed.returncode == 0, listed.stderr
    assert debug.returncode == 0, debug.stderr
    # Only what the harness itself sets: the config file, and PIP_NO_INPUT that pip's own
    # --no-input flag exports for its subprocesses.
    assert set(listed.stdout.splitlines()) <= {":env:.config-file='/dev/null'", ":env:.no-input='1'"}
    for source in MACHINE_PIP_SOURCES:
        assert source not in listed.stdout + listed.stderr + debug.stdout + debug.stderr
    assert not any(key.startswith(("PIP_", "UV_", "TWINE_")) for key in clients.env if key != "PIP_CONFIG_FILE")


def test_uv_and_twine_run(clients):
    uv = clients.uv("--version")
    twine = clients.twine("--version")
    assert uv.returncode == 0, uv.stderr
    assert uv.stdout.startswith("uv ")
    assert twine.returncode == 0, twine.stderr
    assert "twine version" in twine.stdout


def test_built_wheel_installs_offline_into_the_throwaway_venv(clients, dist_dir):
    wheel = build_wheel(dist_dir, "Harness_Demo", "1.2.3", module_body="ANSWER = 42\n")
    installed = clients.uv("pip", "install", "--no-index", "--python", clients.python, wheel)
    assert installed.returncode == 0, installed.stderr
    result = clients.run([clients.python, "-c", "import harness_demo; print(harness_demo.ANSWER)"])
    assert result.stdout.strip() == "42", result.stderr
    listed = clients.pip("list", "--format", "json")
    assert {"name": "Harness_Demo", "version": "1.2.3"} in json.loads(listed.stdout)
