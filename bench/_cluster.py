"""A private PostgreSQL cluster for server-side measurements (initdb + pg_ctl, trust on loopback).

The shared server at 127.0.0.1:5432 also serves other people's tests, so its CPU, WAL and
catalog statistics cannot be attributed to one benchmark. A cluster of our own can: every
process belongs to its postmaster (``cpu_seconds`` adds the postmaster's own and reaped
children's CPU to that of the live ones), and ``pg_current_wal_lsn`` moves only for us.
Runs as ``postgres`` (via runuser) when the benchmark runs as root.
"""

from __future__ import annotations

import glob
import os
import shutil
import socket
import subprocess
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager, suppress
from dataclasses import dataclass
from pathlib import Path

TICK = os.sysconf("SC_CLK_TCK")


@dataclass(frozen=True)
class Cluster:
    port: int
    data: Path

    @property
    def dsn(self) -> str:
        return f"host=127.0.0.1 port={self.port} user=postgres dbname=postgres"

    def postmaster_pid(self) -> int:
        return int((self.data / "postmaster.pid").read_text().split()[0])

    def cpu_seconds(self) -> float:
        """User + system CPU of the whole server so far (postmaster, live children, reaped children)."""
        root = self.postmaster_pid()
        total = _proc_cpu(root, children=True)
        try:
            kids = Path(f"/proc/{root}/task/{root}/children").read_text().split()
        except OSError:
            kids = []
        for k in kids:
            total += _proc_cpu(int(k), children=True)
        return total / TICK


def _proc_cpu(pid: int, *, children: bool) -> int:
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except OSError:  # exited meanwhile: its CPU is now in the postmaster's cutime
        return 0
    utime, stime, cutime, cstime = (int(x) for x in fields[11:15])
    return utime + stime + ((cutime + cstime) if children else 0)


def _bin(name: str) -> str:
    found = sorted(glob.glob(f"/usr/lib/postgresql/*/bin/{name}"))
    path = found[-1] if found else shutil.which(name)
    if not path:
        raise SystemExit(f"depot: error: {name} is not installed (needed for a private benchmark cluster)")
    return path


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@contextmanager
def private_cluster(settings: dict[str, str] | None = None) -> Iterator[Cluster]:
    """Start a throw-away cluster (fsync off: we measure CPU and WAL volume, not the disk)."""
    as_pg = ["runuser", "-u", "postgres", "--"] if os.geteuid() == 0 else []
    base = Path(tempfile.mkdtemp(prefix="depot-bench-pg-"))
    if as_pg:
        shutil.chown(base, "postgres")
    data = base / "data"
    try:
        subprocess.run([*as_pg, _bin("initdb"), "-D", str(data), "-U", "postgres", "--auth=trust"],
                       check=True, capture_output=True)
        conf = {"listen_addresses": "'127.0.0.1'", "unix_socket_directories": f"'{base}'", "fsync": "off",
                "shared_buffers": "128MB", "max_connections": "200"}
        conf.update(settings or {})
        base_conf = (data / "postgresql.conf").read_text()
        for attempt in range(3):
            port = _free_port()
            lines = "".join(f"{k} = {v}\n" for k, v in {**conf, "port": str(port)}.items())
            (data / "postgresql.conf").write_text(base_conf + "\n" + lines)
            r = subprocess.run([*as_pg, _bin("pg_ctl"), "-D", str(data), "-l", str(base / "log"), "-w", "-t", "60",
                                "start"], capture_output=True)
            if r.returncode == 0:
                break
            if attempt == 2:
                raise RuntimeError(f"benchmark cluster did not start: {(base / 'log').read_text()[-2000:]}")
        try:
            yield Cluster(port, data)
        finally:
            subprocess.run([*as_pg, _bin("pg_ctl"), "-D", str(data), "-m", "immediate", "stop"], capture_output=True)
    finally:
        shutil.rmtree(base, ignore_errors=True)


@dataclass(frozen=True)
class Pooler:
    port: int
    pid_file: Path

    def cpu_seconds(self) -> float:
        try:
            return _proc_cpu(int(self.pid_file.read_text().split()[0]), children=True) / TICK
        except (OSError, ValueError):
            return 0.0

    def dsn(self, dsn: str) -> str:
        """The same login and database through the pooler."""
        import re

        return re.sub(r"port=\d+", f"port={self.port}", dsn)


@contextmanager
def pgbouncer(cluster: Cluster, dbname: str, users: list[str], pool_size: int = 10) -> Iterator[Pooler]:
    """PgBouncer in transaction mode in front of ``cluster`` (server connections stay warm: a new
    backend pays ~16 ms of catalog look-ups before its first sync query is planned)."""
    as_pg = ["runuser", "-u", "postgres", "--"] if os.geteuid() == 0 else []
    if not shutil.which("pgbouncer") and not Path("/usr/sbin/pgbouncer").exists():  # only --pooler needs it
        raise SystemExit("depot: error: pgbouncer is not installed (needed for --pooler): apt-get install pgbouncer")
    base = Path(tempfile.mkdtemp(prefix="depot-bench-pgb-"))
    if as_pg:
        shutil.chown(base, "postgres")
    port = _free_port()
    (base / "users.txt").write_text("".join(f'"{u}" ""\n' for u in users))
    (base / "pgbouncer.ini").write_text(
        f"[databases]\n{dbname} = host=127.0.0.1 port={cluster.port} dbname={dbname}\n"
        f"[pgbouncer]\nlisten_addr = 127.0.0.1\nlisten_port = {port}\nunix_socket_dir =\n"
        f"auth_type = trust\nauth_file = {base / 'users.txt'}\npool_mode = transaction\n"
        f"default_pool_size = {pool_size}\nmax_client_conn = 5000\nlogfile = {base / 'log'}\n"
        f"pidfile = {base / 'pid'}\nignore_startup_parameters = extra_float_digits\n")
    for f in base.iterdir():
        if as_pg:
            shutil.chown(f, "postgres")
    exe = shutil.which("pgbouncer") or "/usr/sbin/pgbouncer"
    try:
        # every client connection is a file descriptor: with the usual soft limit of 1,024 PgBouncer stops
        # accepting near 1,000 workstations and their connects time out (the pooler, not the server)
        subprocess.run([*as_pg, "sh", "-c", 'ulimit -n "$(ulimit -Hn)"; exec "$0" "$@"', exe, "-d",
                        str(base / "pgbouncer.ini")], check=True, capture_output=True)
        for _ in range(50):
            if (base / "pid").exists():
                break
            import time

            time.sleep(0.1)
        yield Pooler(port, base / "pid")
    finally:
        with suppress(OSError, ValueError):
            os.kill(int((base / "pid").read_text().split()[0]), 15)
        shutil.rmtree(base, ignore_errors=True)
