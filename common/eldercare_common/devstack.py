"""Private PostgreSQL and Mosquitto instances under a project folder, for the demo and the tests.

Nothing here touches the system services: each instance lives in its own data folder, on its own
port, and is started and stopped by whoever created it. `initdb` refuses to run as root, so as root
the data folder is handed to the `postgres` user (Debian's package creates it).
"""

from __future__ import annotations

import os
import pwd
import random
import shutil
import signal
import socket
import subprocess
import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

from eldercare_common.mqtt_auth import write_broker_auth

POSTGRES_BIN_CANDIDATES = (
    "/usr/lib/postgresql/15/bin",
    "/usr/lib/postgresql/16/bin",
    "/usr/lib/postgresql/17/bin",
)


def find_postgres_bin() -> Path:
    """The folder holding `initdb`, `pg_ctl` and `postgres`."""
    for candidate in POSTGRES_BIN_CANDIDATES:
        if (Path(candidate) / "pg_ctl").exists():
            return Path(candidate)
    found = shutil.which("pg_ctl")
    if found:
        return Path(found).resolve().parent
    raise RuntimeError("PostgreSQL server binaries not found; run `make bootstrap` (installs postgresql)")


_LISTEN_PORTS = range(20_000, 32_768)
"""Below Linux's ephemeral range (32768–60999): a port chosen here is not taken, between the check and the
server's bind, by one of the many outgoing connections (database, broker) the tests and services open."""


def free_port() -> int:
    """A TCP port free on loopback right now, outside the ephemeral range (see `_LISTEN_PORTS`)."""
    rng = random.SystemRandom()
    for _ in range(200):
        port = rng.choice(_LISTEN_PORTS)
        with socket.socket() as sock:
            try:
                sock.bind(("127.0.0.1", port))
            except OSError:
                continue
            return port
    with socket.socket() as sock:  # a crowded machine: any port the kernel offers
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def wait_for_port(host: str, port: int, timeout: float = 20.0) -> None:
    """Block until something accepts TCP connections on host:port."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            with socket.create_connection((host, port), timeout=0.5):
                return
        except OSError:
            time.sleep(0.05)
    raise TimeoutError(f"nothing listening on {host}:{port} after {timeout:.0f}s")


def _service_user(name: str) -> pwd.struct_passwd | None:
    """The unprivileged account to run a server as when we are root, else None."""
    if os.geteuid() != 0:
        return None
    try:
        return pwd.getpwnam(name)
    except KeyError as exc:
        raise RuntimeError(f"running as root needs the `{name}` system user (install the package)") from exc


def _chown_tree(path: Path, account: pwd.struct_passwd | None) -> None:
    if account is None:
        return
    for root, dirs, files in os.walk(path):
        os.chown(root, account.pw_uid, account.pw_gid)
        for name in dirs + files:
            os.chown(Path(root) / name, account.pw_uid, account.pw_gid)


def _as_user(account: pwd.struct_passwd | None, argv: Sequence[str]) -> list[str]:
    return ["runuser", "-u", account.pw_name, "--", *argv] if account else list(argv)


@dataclass
class PostgresInstance:
    """A private PostgreSQL cluster in `data_dir`, listening on loopback `port`."""

    data_dir: Path
    port: int
    user: str = "eldercare"
    password: str = "eldercare"
    database: str = "eldercare"
    bin_dir: Path = field(default_factory=find_postgres_bin)

    @property
    def url(self) -> str:
        """libpq URL of the instance's main database."""
        return self.url_for(self.database)

    def url_for(self, database: str) -> str:
        """libpq URL of another database on the instance."""
        return f"postgresql://{self.user}:{self.password}@127.0.0.1:{self.port}/{database}"

    def _run(self, argv: Sequence[str]) -> None:
        account = _service_user("postgres")
        result = subprocess.run(_as_user(account, argv), capture_output=True, text=True, check=False)
        if result.returncode != 0:
            raise RuntimeError(f"{argv[0]} failed ({result.returncode}): {result.stderr.strip()}")

    def initialize(self) -> None:
        """Create the cluster once; reuses an existing one."""
        if (self.data_dir / "PG_VERSION").exists():
            return
        account = _service_user("postgres")
        self.data_dir.mkdir(parents=True, exist_ok=True)
        pwfile = self.data_dir.parent / f".{self.data_dir.name}.pw"
        pwfile.write_text(self.password + "\n", encoding="utf-8")
        _chown_tree(self.data_dir, account)
        if account:
            os.chown(pwfile, account.pw_uid, account.pw_gid)
        try:
            self._run(
                [
                    str(self.bin_dir / "initdb"),
                    "-D",
                    str(self.data_dir),
                    "-U",
                    self.user,
                    f"--pwfile={pwfile}",
                    "--auth-local=trust",
                    "--auth-host=scram-sha-256",
                    "--encoding=UTF8",
                    "--locale=C.UTF-8",
                    "-N",
                ]
            )
        finally:
            pwfile.unlink(missing_ok=True)
        with (self.data_dir / "postgresql.conf").open("a", encoding="utf-8") as conf:
            conf.write(
                "\n# eldercare private instance\n"
                "listen_addresses = '127.0.0.1'\n"
                f"unix_socket_directories = '{self.data_dir}'\n"
                "max_connections = 200\nshared_buffers = 256MB\n"
                "timezone = 'UTC'\nlog_timezone = 'UTC'\n"
                "fsync = on\nsynchronous_commit = on\n"
            )

    def start(self) -> None:
        """Start the server (initializing first if needed) and create the main database."""
        self.initialize()
        if not self.is_running():
            self._run(
                [
                    str(self.bin_dir / "pg_ctl"),
                    "-D",
                    str(self.data_dir),
                    "-o",
                    f"-p {self.port}",
                    "-l",
                    str(self.data_dir / "server.log"),
                    "-w",
                    "-t",
                    "30",
                    "start",
                ]
            )
        wait_for_port("127.0.0.1", self.port)
        self.create_database(self.database)

    def is_running(self) -> bool:
        """Whether the cluster's postmaster is up."""
        account = _service_user("postgres")
        result = subprocess.run(
            _as_user(account, [str(self.bin_dir / "pg_ctl"), "-D", str(self.data_dir), "status"]),
            capture_output=True,
            check=False,
        )
        return result.returncode == 0

    def stop(self, mode: str = "fast") -> None:
        """Stop the server if it runs."""
        if self.is_running():
            self._run([str(self.bin_dir / "pg_ctl"), "-D", str(self.data_dir), "-m", mode, "-w", "stop"])

    def create_database(self, name: str) -> None:
        """Create a database if it does not exist yet."""
        import psycopg  # imported here: devstack is usable before the venv exists only for mosquitto

        with psycopg.connect(self.url_for("postgres"), autocommit=True) as conn:
            exists = conn.execute("SELECT 1 FROM pg_database WHERE datname = %s", (name,)).fetchone()
            if not exists:
                conn.execute(f'CREATE DATABASE "{name}"')

    def drop_database(self, name: str) -> None:
        """Drop a database, disconnecting its sessions."""
        import psycopg

        with psycopg.connect(self.url_for("postgres"), autocommit=True) as conn:
            conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


@dataclass
class MosquittoInstance:
    """A private Mosquitto broker configured for the platform: persistence, raised queue limits, ACL."""

    directory: Path
    port: int
    service_accounts: dict[str, str] = field(default_factory=dict)
    device_hashes: list[tuple[str, str]] = field(default_factory=list)
    max_queued_messages: int = 200_000
    process: subprocess.Popen[bytes] | None = None

    @property
    def config_path(self) -> Path:
        """The generated mosquitto.conf."""
        return self.directory / "mosquitto.conf"

    @property
    def pid_file(self) -> Path:
        """Where the broker writes its pid (SIGHUP it to reread credentials)."""
        return self.directory / "data" / "mosquitto.pid"

    @property
    def url(self) -> str:
        """mqtt:// URL of the listener."""
        return f"mqtt://127.0.0.1:{self.port}"

    def write_config(self) -> None:
        """Write mosquitto.conf, the password file and the ACL from the accounts given."""
        self.directory.mkdir(parents=True, exist_ok=True)
        (self.directory / "data").mkdir(exist_ok=True)
        self.write_credentials()
        self.config_path.write_text(
            "# generated by eldercare: private broker for demo and tests\n"
            "per_listener_settings false\n"
            f"listener {self.port} 127.0.0.1\n"
            "allow_anonymous false\n"
            f"password_file {self.directory / 'passwd'}\n"
            f"acl_file {self.directory / 'acl'}\n"
            f"pid_file {self.pid_file}\n"
            "persistence true\n"
            f"persistence_location {self.directory / 'data'}/\n"
            "autosave_interval 30\n"
            "autosave_on_changes false\n"
            # Mosquitto's defaults drop QoS 1 messages past 1,000 queued per client: raise them.
            f"max_queued_messages {self.max_queued_messages}\n"
            "max_queued_bytes 0\n"
            # Messages in flight to one client before it acknowledges: the gateway acknowledges only after
            # a batch commit, so this bounds its pipeline (1,000 halved its throughput, see docs/benchmarks.md).
            "max_inflight_messages 10000\n"
            "max_packet_size 65536\n"
            "message_size_limit 0\n"
            "max_keepalive 600\n"
            "set_tcp_nodelay true\n"
            "log_dest stderr\n"
            "log_type error\nlog_type warning\nlog_type notice\n"
            "connection_messages false\n",
            encoding="utf-8",
        )
        _chown_tree(self.directory, _service_user("mosquitto"))

    def write_credentials(self) -> None:
        """(Re)write the password file and ACL; call `reload()` afterwards on a running broker."""
        write_broker_auth(self.directory, service_accounts=self.service_accounts, device_hashes=self.device_hashes)
        _chown_tree(self.directory, _service_user("mosquitto"))

    def start(self, *, log_path: Path | None = None) -> None:
        """Start the broker and wait until it accepts connections."""
        binary = shutil.which("mosquitto") or "/usr/sbin/mosquitto"
        if not Path(binary).exists():
            raise RuntimeError("mosquitto not found; run `make bootstrap` (installs mosquitto)")
        if not self.config_path.exists():
            self.write_config()
        log = (log_path or self.directory / "mosquitto.log").open("ab")
        # A session of its own: a terminal's Ctrl-C (SIGINT to the whole foreground group) must not stop the
        # broker before the processes that use it; whoever started it stops it, in dependency order.
        self.process = subprocess.Popen(
            [binary, "-c", str(self.config_path)], stdout=log, stderr=log, start_new_session=True
        )
        wait_for_port("127.0.0.1", self.port)

    def reload(self) -> None:
        """Ask the broker to reread its password file and ACL (SIGHUP)."""
        if self.process and self.process.poll() is None:
            self.process.send_signal(signal.SIGHUP)

    def stop(self, *, kill: bool = False) -> None:
        """Stop the broker (SIGTERM lets it save its persistence file; kill does not)."""
        if self.process and self.process.poll() is None:
            if kill:
                self.process.kill()
            else:
                self.process.terminate()
            try:
                self.process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()
        self.process = None
