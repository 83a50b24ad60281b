"""Device jobs the scheduler runs: keeping the broker's credentials in step with the registry."""

from __future__ import annotations

import os
import signal
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path

from sqlalchemy import text
from sqlmodel import Session

from eldercare_common.logging import get_logger
from eldercare_common.mqtt_auth import write_broker_auth
from eldercare_platform.core.clock import Clock
from eldercare_platform.core.config import SchedulerSettings
from eldercare_platform.devices.broker_files import parse_accounts
from eldercare_platform.scheduler.registry import JobSpec
from eldercare_platform.scheduler.runner import JobFn

log = get_logger(__name__)

FINGERPRINT = """
SELECT count(*) FILTER (WHERE c.revoked_at IS NULL AND d.state <> 'retired'),
       coalesce(max(c.id), 0),
       coalesce(max(c.revoked_at)::text, ''),
       coalesce(string_agg(d.state, '' ORDER BY d.id) FILTER (WHERE d.state = 'retired'), '')
FROM device_credential c JOIN device d ON d.id = c.device_id
"""


@dataclass
class BrokerCredentialSync:
    """Rewrites Mosquitto's passwd/acl when device credentials change, then signals the broker to reload."""

    auth_dir: Path
    pid_file: Path | None
    service_accounts: dict[str, str]
    last_fingerprint: tuple[object, ...] | None = field(default=None)

    def __call__(self, session: Session, fire_time: datetime) -> str:
        """The job body (through `run_once`)."""
        fingerprint = tuple(session.execute(text(FINGERPRINT)).one())
        if fingerprint == self.last_fingerprint:
            return "unchanged"
        rows = session.execute(
            text(
                "SELECT c.username, c.password_hash FROM device_credential c JOIN device d ON d.id = c.device_id"
                " WHERE c.revoked_at IS NULL AND d.state <> 'retired' ORDER BY c.username"
            )
        ).all()
        count = write_broker_auth(
            self.auth_dir, service_accounts=self.service_accounts, device_hashes=[(str(r[0]), str(r[1])) for r in rows]
        )
        reloaded = self._reload()
        self.last_fingerprint = fingerprint
        log.info("broker credentials written", devices=count, reloaded=reloaded)
        return f"wrote {count} device accounts; reload {'sent' if reloaded else 'not sent (no pid file)'}"

    def _reload(self) -> bool:
        if self.pid_file is None or not self.pid_file.exists():
            return False
        pid = int(self.pid_file.read_text().strip())
        os.kill(pid, signal.SIGHUP)
        return True

    @classmethod
    def from_settings(cls, auth_dir: Path, pid_file: Path | None, accounts_spec: str) -> BrokerCredentialSync:
        """Build from the scheduler's settings."""
        return cls(auth_dir=auth_dir, pid_file=pid_file, service_accounts=parse_accounts(accounts_spec))


def _broker_sync(settings: SchedulerSettings, clock: Clock) -> JobFn | None:
    """The sync job, when this deployment has a broker auth directory to write."""
    if settings.broker_auth_dir is None:
        return None
    accounts = settings.broker_service_accounts.get_secret_value() if settings.broker_service_accounts else ""
    return BrokerCredentialSync.from_settings(settings.broker_auth_dir, settings.broker_pid_file, accounts)


JOBS = [
    JobSpec(
        name="broker_credentials_sync",
        interval_setting="broker_sync_seconds",
        enabled_setting="broker_credentials_sync_enabled",
        build=_broker_sync,
    ),
]
