"""A second, private PostgreSQL cluster that requires TLS and passwords (scram-sha-256).

The shared server at 127.0.0.1:5432 uses trust authentication and no TLS, so it cannot show
what a branch meets in the field: a wrong password, a plain connection refused, a certificate
that is not trusted or names another host. This starts a real cluster (initdb + pg_ctl, run as
the ``postgres`` user when the tests run as root) with a throw-away CA and server certificate.
"""

from __future__ import annotations

import glob
import os
import shutil
import socket
import subprocess
import tempfile
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

SUPER_PASSWORD = "super-secret"


@dataclass(frozen=True)
class TlsCluster:
    port: int
    ca: Path  # the CA that signed the server certificate (CN/SAN: localhost only)
    other_ca: Path  # a CA that signed nothing here

    def dsn(self, user: str, password: str, dbname: str = "depot", host: str = "localhost",
            sslmode: str = "verify-full", ca: Path | None = None) -> str:
        return (f"host={host} port={self.port} user={user} password={password} dbname={dbname} "
                f"sslmode={sslmode} sslrootcert={ca or self.ca}")

    def owner_dsn(self, dbname: str = "depot") -> str:
        return self.dsn("postgres", SUPER_PASSWORD, dbname)


def _bin(name: str) -> str | None:
    found = sorted(glob.glob(f"/usr/lib/postgresql/*/bin/{name}"))
    return found[-1] if found else shutil.which(name)


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _openssl(*args: str, cwd: Path) -> None:
    subprocess.run(["openssl", *args], cwd=cwd, check=True, capture_output=True)


def _make_certs(d: Path) -> None:
    for ca in ("ca", "other"):
        _openssl("req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "2", "-subj", f"/CN=Depot test {ca}",
                 "-keyout", f"{ca}.key", "-out", f"{ca}.crt", cwd=d)
    _openssl("req", "-newkey", "rsa:2048", "-nodes", "-subj", "/CN=localhost", "-keyout", "server.key",
             "-out", "server.csr", cwd=d)
    (d / "san.ext").write_text("subjectAltName=DNS:localhost\n")
    _openssl("x509", "-req", "-in", "server.csr", "-CA", "ca.crt", "-CAkey", "ca.key", "-CAcreateserial",
             "-days", "2", "-extfile", "san.ext", "-out", "server.crt", cwd=d)


@pytest.fixture(scope="module")
def tls_cluster() -> Iterator[TlsCluster]:
    initdb, pg_ctl = _bin("initdb"), _bin("pg_ctl")
    if not initdb or not pg_ctl or not shutil.which("openssl"):
        pytest.skip("initdb/pg_ctl/openssl not installed")
    as_pg: list[str] = []
    if os.geteuid() == 0:  # PostgreSQL refuses to run as root
        if not shutil.which("runuser"):
            pytest.skip("running as root without runuser")
        as_pg = ["runuser", "-u", "postgres", "--"]
    base = Path(tempfile.mkdtemp(prefix="depot-tls-"))
    try:
        _make_certs(base)
        (base / "pw").write_text(SUPER_PASSWORD + "\n")
        if as_pg:
            shutil.chown(base, "postgres")
            for f in base.iterdir():
                shutil.chown(f, "postgres")
        (base / "server.key").chmod(0o600)
        data = base / "data"
        subprocess.run([*as_pg, initdb, "-D", str(data), "-U", "postgres", "--auth-local=trust",
                        "--auth-host=scram-sha-256", f"--pwfile={base / 'pw'}"], check=True, capture_output=True)
        (data / "pg_hba.conf").write_text(
            "local all all trust\n"
            "hostssl all all 127.0.0.1/32 scram-sha-256\n"
            "hostnossl all all 127.0.0.1/32 reject\n")
        base_conf = (data / "postgresql.conf").read_text()
        for attempt in range(3):  # a free port can be taken by someone else before the server binds it
            port = _free_port()
            (data / "postgresql.conf").write_text(
                base_conf + f"\nport = {port}\nlisten_addresses = '127.0.0.1'\nunix_socket_directories = '{base}'\n"
                f"ssl = on\nssl_cert_file = '{base / 'server.crt'}'\nssl_key_file = '{base / 'server.key'}'\n"
                "fsync = off\nshared_buffers = 32MB\n")
            started = subprocess.run([*as_pg, pg_ctl, "-D", str(data), "-l", str(base / "log"), "-w", "-t", "60", "start"],
                                     capture_output=True)
            if started.returncode == 0:
                break
            if attempt == 2:
                raise RuntimeError(f"TLS test cluster did not start: {(base / 'log').read_text()[-2000:]}")
        try:
            yield TlsCluster(port, base / "ca.crt", base / "other.crt")
        finally:
            subprocess.run([*as_pg, pg_ctl, "-D", str(data), "-m", "immediate", "stop"], capture_output=True)
    finally:
        shutil.rmtree(base, ignore_errors=True)
