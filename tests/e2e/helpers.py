"""The real index server and the real clients, for end-to-end tests.

The server runs the production settings (``indexsite.settings``) under gunicorn,
configured only through environment variables, exactly as ``scripts/serve``
runs it. The clients (twine, uv, pip) run with an environment built from
scratch, so this machine's pip.conf, PIP_*/UV_* variables, ~/.pypirc and
keyring cannot leak into what the tests observe.
"""

from __future__ import annotations

import contextlib
import os
import secrets
import signal
import ssl
import subprocess
import sys
import sysconfig
import urllib.error
import urllib.parse
import urllib.request
import warnings
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from functools import cached_property
from pathlib import Path

import pytest

from harness import databases, servers
from harness.loopback import http_get
from harness.servers import REPO_ROOT, free_port, server_environment

# The clients installed next to the interpreter running the tests (.venv/bin).
SCRIPTS_DIR = Path(sysconfig.get_path("scripts"))
CLIENT_TIMEOUT = 120
STARTUP_TIMEOUT = 30
STOP_TIMEOUT = 15
E2E_MAX_FILE_SIZE = servers.SMALL_MAX_FILE_SIZE


# ---------------------------------------------------------------- TLS


@dataclass(frozen=True)
class TlsCertificate:
    """A throw-away self-signed certificate (PEM) for 127.0.0.1 and localhost, and its key."""

    cert_path: Path
    key_path: Path

    @cached_property
    def ssl_context(self) -> ssl.SSLContext:
        """A client context that trusts this certificate and nothing else."""
        return ssl.create_default_context(cafile=str(self.cert_path))


def make_tls_certificate(directory: Path) -> TlsCertificate:
    """Write a new key and a self-signed certificate valid for a day into ``directory``."""
    import ipaddress

    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import ec
    from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "pyidx e2e test server")])
    now = datetime.now(UTC)
    public_key = key.public_key()
    certificate = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(public_key)
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - timedelta(minutes=5))
        .not_valid_after(now + timedelta(days=1))
        .add_extension(
            x509.SubjectAlternativeName([x509.IPAddress(ipaddress.ip_address("127.0.0.1")), x509.DNSName("localhost")]),
            critical=False,
        )
        .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
        .add_extension(
            x509.KeyUsage(
                digital_signature=True,
                content_commitment=False,
                key_encipherment=False,
                data_encipherment=False,
                key_agreement=False,
                key_cert_sign=False,
                crl_sign=False,
                encipher_only=False,
                decipher_only=False,
            ),
            critical=True,
        )
        .add_extension(x509.ExtendedKeyUsage([ExtendedKeyUsageOID.SERVER_AUTH]), critical=False)
        .add_extension(x509.SubjectKeyIdentifier.from_public_key(public_key), critical=False)
        .add_extension(x509.AuthorityKeyIdentifier.from_issuer_public_key(public_key), critical=False)
        .sign(key, hashes.SHA256())
    )
    directory.mkdir(parents=True, exist_ok=True)
    cert_path, key_path = directory / "server-cert.pem", directory / "server-key.pem"
    cert_path.write_bytes(certificate.public_bytes(serialization.Encoding.PEM))
    key_path.write_bytes(
        key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption())
    )
    key_path.chmod(0o600)
    return TlsCertificate(cert_path, key_path)


# ---------------------------------------------------------------- server


@dataclass
class IndexServer(servers.ManagedIndex):
    """The index under gunicorn for a test: over TLS when asked, a failed start or stop fails the test."""

    # When set, gunicorn serves TLS with it (``url`` must then be https://).
    tls: TlsCertificate | None = None
    # Worker processes; None: as many as gunicorn.conf.py starts on this machine.
    workers: int | None = 2
    # More gunicorn command-line flags (they override gunicorn.conf.py).
    extra_args: tuple[str, ...] = ()

    @property
    def file_status(self) -> str:
        """The status of a file download: the file itself, or on S3 the redirect to the store."""
        on_s3 = self.env.get("FILE_STORAGE") == "s3" and self.env.get("S3_DOWNLOADS", "redirect") == "redirect"
        return "302" if on_s3 else "200"

    @property
    def ssl_context(self) -> ssl.SSLContext | None:
        return self.tls.ssl_context if self.tls is not None else None

    def ensure_user(self, username: str, password: str) -> None:
        """A user who can sign in, made through the shell as an operator would; one already there is kept."""
        self.shell(
            "from django.contrib.auth import get_user_model as g\n"
            f"U = g(); U.objects.filter(username={username!r}).exists() or "
            f"U.objects.create_user({username!r}, password={password!r})\n"
        )

    @contextlib.contextmanager
    def running(self) -> Iterator[IndexServer]:
        self._start()
        try:
            self._wait_until_ready()
            yield self
        finally:
            self._stop()

    def _start(self) -> None:
        bind = urllib.parse.urlsplit(self.url).netloc
        flags = ["--workers", str(self.workers)] if self.workers is not None else []
        env = dict(self.env)
        if self.tls is not None:
            # As an operator does it: the settings read these too (HSTS, secure cookies).
            env.update(TLS_CERT_FILE=str(self.tls.cert_path), TLS_KEY_FILE=str(self.tls.key_path))
        flags += self.extra_args
        # gunicorn 27 opens a control socket at ~/.gunicorn/gunicorn.ctl by default, one path
        # shared by every gunicorn of the user: parallel test servers (and a developer's own
        # ./scripts/serve) would take it from each other.
        flags.append("--no-control-socket")
        command = servers.gunicorn_command(bind, *flags)
        self.process = servers.start_in_session(command, cwd=REPO_ROOT, env=env, log_path=self.log_path)

    def _wait_until_ready(self) -> None:
        def ready() -> bool:
            # A short timeout: something else may be holding the port without answering.
            return http_get(f"{self.url}/admin/login/", timeout=2, ssl_context=self.ssl_context).status == 200

        failure = servers.wait_until_answering(self.process, ready, STARTUP_TIMEOUT)
        if failure is not None:
            pytest.fail(f"gunicorn {failure}:\n{self.log_tail()}", pytrace=False)

    def _stop(self) -> None:
        process = self.process
        if process is None:
            return
        if process.poll() is None:
            process.send_signal(signal.SIGTERM)  # graceful: the master waits for its workers
            try:
                process.wait(STOP_TIMEOUT)
            except subprocess.TimeoutExpired:
                self._kill_group()
                process.wait()
                warnings.warn(f"gunicorn ignored SIGTERM for {STOP_TIMEOUT}s:\n{self.log_tail()}", stacklevel=1)
                return
        # A master that died hard leaves workers behind, serving the port until they notice.
        self._kill_group()
        if process.returncode != 0:
            # Tests may have passed against a dead server only by accident; make it loud.
            pytest.fail(f"gunicorn exited with {process.returncode}:\n{self.log_tail()}", pytrace=False)

    def _kill_group(self) -> None:
        servers.kill_group(self.process)


# ---------------------------------------------------------------- database


@contextlib.contextmanager
def throwaway_database(data_dir: Path) -> Iterator[str]:
    """A database URL for the server: a fresh PostgreSQL database when the run uses PostgreSQL, else SQLite."""
    run_url = os.environ.get("DATABASE_URL", "")
    if not run_url.startswith("postgres"):
        yield f"sqlite:///{data_dir / 'index.sqlite3'}"
        return
    with _throwaway_postgres(run_url) as url:
        yield url


def _throwaway_postgres(run_url: str) -> contextlib.AbstractContextManager[str]:
    return databases.throwaway_postgres(run_url, f"pyidx_e2e_{secrets.token_hex(6)}")


# ---------------------------------------------------------------- clients


def isolated_environment(home: Path) -> dict[str, str]:
    """An environment built from nothing rather than filtered, so no PIP_*, UV_*, TWINE_*,
    VIRTUAL_ENV, proxy or SSL variable of this machine can slip into a client."""
    env = {
        "PATH": os.environ.get("PATH", os.defpath),
        "LANG": "C.UTF-8",
        "HOME": str(home),
        "XDG_CONFIG_HOME": str(home / ".config"),
        "XDG_CACHE_HOME": str(home / ".cache"),
        "XDG_DATA_HOME": str(home / ".local" / "share"),
    }
    if "TMPDIR" in os.environ:
        env["TMPDIR"] = os.environ["TMPDIR"]
    return env


class Clients:
    """twine, uv and pip from .venv/bin, run with an environment built from nothing.

    Every call gets ``HOME`` and the XDG folders under ``root`` and the working
    directory ``root/work``, so no user configuration, cache, ~/.pypirc or
    project ``.venv`` is found. Results are returned, never raised on.
    """

    def __init__(self, root: Path, index_url: str) -> None:
        self.root = root
        self.index_url = index_url
        self.home = root / "home"
        self.workdir = root / "work"
        for folder in (self.home, self.workdir):
            folder.mkdir(parents=True, exist_ok=True)

    @cached_property
    def env(self) -> dict[str, str]:
        env = isolated_environment(self.home)
        env.update(
            {
                # os.devnull makes pip skip every config file: global, user and site.
                "PIP_CONFIG_FILE": os.devnull,
                # twine would otherwise ask the desktop keyring for passwords.
                "PYTHON_KEYRING_BACKEND": "keyring.backends.null.Keyring",
                "NO_PROXY": "127.0.0.1,localhost",
                "no_proxy": "127.0.0.1,localhost",
                # twine prints through rich, which wraps at 80 columns and splits messages tests look for.
                "COLUMNS": "200",
                "NO_COLOR": "1",
            }
        )
        return env

    def run(self, command: list[str | os.PathLike[str]]) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [str(part) for part in command],
            cwd=self.workdir,
            env=self.env,
            capture_output=True,
            text=True,
            timeout=CLIENT_TIMEOUT,
            check=False,
        )

    def twine(
        self, *args: str | os.PathLike[str], username: str | None = None, password: str | None = None
    ) -> subprocess.CompletedProcess[str]:
        """Run twine; ``upload`` is pointed at this index's legacy API and never prompts."""
        args = list(args)
        if args[:1] == ["upload"]:
            options = ["--repository-url", f"{self.index_url}/legacy/", "--non-interactive", "--disable-progress-bar"]
            if username is not None:
                options += ["-u", username]
            if password is not None:
                options += ["-p", password]
            # Right after the subcommand, so a test's own later --repository-url still wins.
            args[1:1] = options
        # twine forces colour codes into pipes and ignores NO_COLOR.
        return self.run([SCRIPTS_DIR / "twine", "--no-color", *args])

    def uv(self, *args: str | os.PathLike[str]) -> subprocess.CompletedProcess[str]:
        return self.run([SCRIPTS_DIR / "uv", "--no-config", *args])

    def pip(self, *args: str | os.PathLike[str]) -> subprocess.CompletedProcess[str]:
        """Run pip against the throw-away venv (``pip --python``), never against the project's .venv."""
        general = ["--python", self.python, "--no-input", "--disable-pip-version-check"]
        return self.run([SCRIPTS_DIR / "pip", *general, *args])

    @cached_property
    def python(self) -> Path:
        """The interpreter of a throw-away venv, made on first use (without pip: use ``pip()``)."""
        return self.new_venv("venv")

    def new_venv(self, name: str) -> Path:
        """A fresh, empty venv ``name`` under ``root``, made offline by uv; returns its interpreter."""
        venv = self.root / name
        result = self.uv("venv", "--offline", "--no-python-downloads", "--python", sys.executable, venv)
        if result.returncode != 0:
            raise RuntimeError(f"uv venv failed:\n{result.stdout}\n{result.stderr}")
        return venv / "bin" / "python"


def installed_version(clients: Clients, python: Path, name: str) -> str | None:
    """The version installed in the venv, from the installed dist's metadata; None when absent."""
    code = (
        "import importlib.metadata as m, sys\n"
        "try: print(m.version(sys.argv[1]))\n"
        "except m.PackageNotFoundError: print('absent')\n"
    )
    result = clients.run([python, "-c", code, name])
    assert result.returncode == 0, result.stderr
    version = result.stdout.strip()
    return None if version == "absent" else version


@contextlib.contextmanager
def started_index_server(
    base: Path,
    *,
    first_admin: tuple[str, str] | None = None,
    workers: int | None = 2,
    extra_env: Mapping[str, str] | None = None,
    extra_args: tuple[str, ...] = (),
) -> Iterator[IndexServer]:
    """A migrated index with its own throw-away database under ``base``, served by gunicorn.

    ``first_admin`` (user name, password) is made by ``bootstrap_admin``, as ./scripts/serve does.
    ``workers=None`` starts as many workers as gunicorn.conf.py does on this machine.
    """
    data_dir = base / "data"
    with throwaway_database(data_dir) as database_url:
        server = IndexServer(
            url=f"http://127.0.0.1:{free_port()}",
            env={**server_environment(data_dir, database_url), **(extra_env or {})},
            data_dir=data_dir,
            log_path=base / "gunicorn.log",
            workers=workers,
            extra_args=extra_args,
        )
        server.prepare()
        if first_admin is not None:
            username, password = first_admin
            server.manage("bootstrap_admin", extra_env={"ADMIN_USERNAME": username, "ADMIN_PASSWORD": password})
        with server.running():
            yield server
