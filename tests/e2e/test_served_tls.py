"""gunicorn serving TLS itself (TLS_CERT_FILE and TLS_KEY_FILE, no proxy in front): the
index is then reached over https only, and its answers say so (issue 16, item 13)."""

from __future__ import annotations

from harness.servers import free_port, server_environment
from tests.e2e.helpers import IndexServer, make_tls_certificate, throwaway_database


def test_an_index_serving_tls_itself_sends_hsts_and_secure_cookies(tmp_path):
    certificate = make_tls_certificate(tmp_path / "tls")
    data_dir = tmp_path / "data"
    with throwaway_database(data_dir) as database_url:
        # Not PRODUCTION: a mirror on a trusted network, as the README describes it.
        server = IndexServer(
            url=f"https://127.0.0.1:{free_port()}",
            env=server_environment(data_dir, database_url),
            data_dir=data_dir,
            log_path=tmp_path / "gunicorn.log",
            tls=certificate,
        )
        server.prepare()
        with server.running():
            login = server.get("/admin/login/")
    assert login.status == 200
    assert login.headers.get("Strict-Transport-Security") == "max-age=31536000", login.headers
    csrf_cookie = login.headers.get("Set-Cookie", "")
    assert csrf_cookie.startswith("csrftoken="), login.headers
    assert "; Secure" in csrf_cookie, csrf_cookie
