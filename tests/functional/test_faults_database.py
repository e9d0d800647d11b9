"""The database failing in the middle of a write transaction: nothing half-written stays.

The failures come from inside the database, after the transaction has already
written rows: a trigger that fails once the file's row, its journal entry or
a new project's first role is inserted (on SQLite through a function of the
connection that raises, on PostgreSQL a PL/pgSQL ``RAISE``), a constraint
violation the code does not expect, and on PostgreSQL the server terminating
the connection (``pg_terminate_backend``) while the transaction sleeps in a
trigger. Tests run in real transactions (``transactional_db``), not in the
savepoint of a test-wide transaction.
"""

from __future__ import annotations

import os
import sqlite3
import threading
import time

import pytest
from django.db import connection

from packages_app.models import File, JournalEntry, Project
from packages_app.services import files as file_services
from tests.functional.test_faults_storage import NOT_RECORDED, assert_consistent, snapshot, upload
from tests.functional.upload_client import stored_files

pytestmark = pytest.mark.django_db(transaction=True)

ON_POSTGRES = os.environ.get("DATABASE_URL", "").startswith("postgres")
FAULT = "pyidx_injected_fault"

# (table, timing, condition on NEW): the moment in the upload's transaction the database fails.
MOMENTS = {
    "file row": ("packages_app_file", "BEFORE", "1=1"),
    "file's journal entry": ("packages_app_journalentry", "AFTER", "NEW.filename <> ''"),
    "new project's Owner role": ("packages_app_role", "AFTER", "1=1"),
}


def _raise_fault():
    raise sqlite3.OperationalError("injected fault")


def install_trigger(table: str, timing: str, condition: str, *, body: str = "") -> None:
    with connection.cursor() as cursor:
        if connection.vendor == "sqlite":
            # A user function that raises: a real error of the statement, as a full disk or I/O error would be.
            connection.connection.create_function(FAULT, 0, _raise_fault)
            action = body or f"SELECT {FAULT}();"
            cursor.execute(
                f"CREATE TRIGGER {FAULT} {timing} INSERT ON {table} FOR EACH ROW WHEN {condition} BEGIN {action} END"
            )
        else:
            action = body or "RAISE EXCEPTION 'injected fault';"
            cursor.execute(
                f"CREATE FUNCTION {FAULT}() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN {action} RETURN NEW; END $$"
            )
            cursor.execute(
                f"CREATE TRIGGER {FAULT} {timing} INSERT ON {table} FOR EACH ROW WHEN ({condition}) "
                f"EXECUTE FUNCTION {FAULT}()"
            )


def remove_trigger(table: str) -> None:
    with connection.cursor() as cursor:
        if connection.vendor == "sqlite":
            cursor.execute(f"DROP TRIGGER IF EXISTS {FAULT}")
        else:
            cursor.execute(f"DROP TRIGGER IF EXISTS {FAULT} ON {table}")
            cursor.execute(f"DROP FUNCTION IF EXISTS {FAULT}()")


@pytest.fixture
def fault():
    installed = []

    def install(table: str, timing: str, condition: str, **kwargs) -> None:
        install_trigger(table, timing, condition, **kwargs)
        installed.append(table)

    yield install
    for table in installed:
        remove_trigger(table)


@pytest.fixture
def existing(client, auth, tmp_path):
    _, response = upload(client, auth, tmp_path, "demo", "1.0")
    assert response.status_code == 200


@pytest.mark.parametrize("moment", list(MOMENTS))
def test_database_failing_mid_transaction_leaves_nothing(client, auth, tmp_path, existing, fault, moment):
    before = snapshot()
    table, timing, condition = MOMENTS[moment]
    fault(table, timing, condition)
    # An existing project for the file moments, a new one for the role (only a new project gets one).
    name = "brand-new" if table == "packages_app_role" else "demo"
    _, response = upload(client, auth, tmp_path, name, "2.0")
    assert response.status_code == 503, response.content
    assert NOT_RECORDED in response.reason_phrase
    assert snapshot() == before
    remove_trigger(table)
    assert_consistent()
    _, retry = upload(client, auth, tmp_path, name, "2.0")
    assert retry.status_code == 200, retry.content
    assert_consistent()


def test_a_constraint_the_code_does_not_expect_is_a_failure_not_a_duplicate(client, auth, tmp_path, existing, fault):
    """An IntegrityError that no existing file explains must not be answered '400 File already exists'.

    That answer tells twine the failure is permanent, for a file the index does not have.
    """
    before = snapshot()
    if connection.vendor == "sqlite":
        fault("packages_app_file", "BEFORE", "1=1", body="SELECT RAISE(ABORT, 'CHECK constraint failed: size');")
    else:
        fault("packages_app_file", "BEFORE", "1=1", body="RAISE check_violation USING MESSAGE = 'size';")
    _, response = upload(client, auth, tmp_path, "demo", "2.0")
    assert response.status_code == 503, response.content
    assert NOT_RECORDED in response.reason_phrase
    assert snapshot() == before
    remove_trigger("packages_app_file")
    _, retry = upload(client, auth, tmp_path, "demo", "2.0")
    assert retry.status_code == 200, retry.content
    assert_consistent()


@pytest.mark.parametrize(("table", "name"), [("packages_app_release", "demo"), ("packages_app_project", "newcomer")])
def test_an_unexpected_constraint_on_a_release_or_project_is_a_failure_not_a_conflict(
    client, auth, tmp_path, existing, fault, table, name
):
    """The same for a new release of a known project and for a new project: not '400 ... already ...'."""
    before = snapshot()
    if connection.vendor == "sqlite":
        fault(table, "BEFORE", "1=1", body="SELECT RAISE(ABORT, 'CHECK constraint failed: name');")
    else:
        fault(table, "BEFORE", "1=1", body="RAISE check_violation USING MESSAGE = 'name';")
    _, response = upload(client, auth, tmp_path, name, "2.0")
    assert response.status_code == 503, response.content
    assert NOT_RECORDED in response.reason_phrase
    assert snapshot() == before
    remove_trigger(table)
    _, retry = upload(client, auth, tmp_path, name, "2.0")
    assert retry.status_code == 200, retry.content
    assert_consistent()


def test_database_failing_during_a_delete_keeps_row_and_bytes(existing, fault, django_capture_on_commit_callbacks):
    from django.db import DatabaseError

    file = File.objects.get()
    before = snapshot()
    fault("packages_app_journalentry", "AFTER", "NEW.action LIKE 'remove file %'")
    with django_capture_on_commit_callbacks(execute=True), pytest.raises(DatabaseError):
        file_services.delete_file(file)
    # The bytes are removed only once the row's delete has committed, which it never did.
    assert snapshot() == before
    assert_consistent()


@pytest.mark.skipif(not ON_POSTGRES, reason="pg_terminate_backend needs PostgreSQL: SQLite has no server")
def test_connection_terminated_by_the_server_mid_transaction(client, auth, tmp_path, existing, fault):
    before = snapshot()
    # The transaction sleeps in the trigger after writing every row, long enough to be found and killed.
    fault("packages_app_journalentry", "AFTER", "NEW.filename <> ''", body="PERFORM pg_sleep(20);")
    killer = Terminator(connection.settings_dict)
    killer.start()
    try:
        _, response = upload(client, auth, tmp_path, "demo", "2.0")
    finally:
        killer.stop.set()
        killer.join(30)
    assert killer.error is None, repr(killer.error)
    assert killer.killed, "no backend was found sleeping in the trigger"
    assert response.status_code == 503, response.content
    assert NOT_RECORDED in response.reason_phrase
    assert snapshot() == before
    remove_trigger("packages_app_journalentry")
    assert_consistent()
    _, retry = upload(client, auth, tmp_path, "demo", "2.0")
    assert retry.status_code == 200, retry.content
    assert_consistent()
    assert Project.objects.get(normalized_name="demo").last_serial == JournalEntry.objects.order_by("-id")[0].id
    assert len(stored_files()) == 4


class Terminator(threading.Thread):
    """Another session that terminates the backend sleeping in the trigger, as an operator or a crash would."""

    def __init__(self, settings_dict: dict) -> None:
        super().__init__(daemon=True)
        self.settings_dict = settings_dict
        self.stop = threading.Event()
        self.killed: list[int] = []
        self.error: BaseException | None = None

    def run(self) -> None:
        import psycopg

        params = self.settings_dict
        try:
            with psycopg.connect(
                dbname=params["NAME"],
                user=params["USER"] or None,
                password=params["PASSWORD"] or None,
                host=params["HOST"] or None,
                port=params["PORT"] or None,
                autocommit=True,
            ) as conn:
                deadline = time.monotonic() + 15
                while not self.stop.is_set() and time.monotonic() < deadline:
                    rows = conn.execute(
                        "SELECT pid FROM pg_stat_activity WHERE datname = current_database() "
                        "AND wait_event = 'PgSleep' AND pid <> pg_backend_pid()"
                    ).fetchall()
                    for (pid,) in rows:
                        conn.execute("SELECT pg_terminate_backend(%s)", [pid])
                        self.killed.append(pid)
                    if self.killed:
                        return
                    time.sleep(0.05)
        except BaseException as error:  # noqa: BLE001 - handed to the test
            self.error = error
