"""Mosquitto's password file and ACL, generated from the device registry.

Run after provisioning devices (`python -m eldercare_platform.devices.broker_files --dir DIR`), then
send SIGHUP to Mosquitto so it rereads them. Service accounts (gateway, platform) come from the
environment as `NAME=PASSWORD` pairs in `ELDERCARE_BROKER_SERVICE_ACCOUNTS`, comma-separated.
"""

from __future__ import annotations

import argparse
import os
from pathlib import Path

import psycopg

from eldercare_common.mqtt_auth import write_broker_auth
from eldercare_common.settings import DatabaseSettingsMixin, load_settings


def device_password_hashes(database_url: str) -> list[tuple[str, str]]:
    """(username, $7$ hash) of every unrevoked credential of a non-retired device."""
    with psycopg.connect(database_url) as conn:
        rows = conn.execute(
            "SELECT c.username, c.password_hash FROM device_credential c JOIN device d ON d.id = c.device_id"
            " WHERE c.revoked_at IS NULL AND d.state <> 'retired' ORDER BY c.username"
        ).fetchall()
    return [(str(username), str(password_hash)) for username, password_hash in rows]


def write_broker_files(directory: Path, *, database_url: str, service_accounts: dict[str, str]) -> int:
    """Write `passwd` and `acl` into `directory`; returns how many device accounts were written."""
    return write_broker_auth(
        directory, service_accounts=service_accounts, device_hashes=device_password_hashes(database_url)
    )


def parse_accounts(spec: str) -> dict[str, str]:
    """`gateway=secret,platform=secret2` → {"gateway": "secret", "platform": "secret2"}."""
    accounts: dict[str, str] = {}
    for pair in filter(None, (part.strip() for part in spec.split(","))):
        name, sep, password = pair.partition("=")
        if not sep or not name or not password:
            raise ValueError(f"bad service account entry {pair.split('=')[0]!r}: expected NAME=PASSWORD")
        accounts[name] = password
    return accounts


def main() -> None:
    """CLI: write the files for the registry in DATABASE_URL."""
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--dir", type=Path, required=True, help="Folder for passwd and acl")
    args = parser.parse_args()
    url = load_settings(DatabaseSettingsMixin).libpq_url
    accounts = parse_accounts(os.environ.get("ELDERCARE_BROKER_SERVICE_ACCOUNTS", ""))
    if not accounts:
        parser.error("set ELDERCARE_BROKER_SERVICE_ACCOUNTS, e.g. gateway=...,platform=...")
    count = write_broker_files(args.dir, database_url=url, service_accounts=accounts)
    print(f"wrote {count} device accounts and {len(accounts)} service accounts to {args.dir}")


if __name__ == "__main__":
    main()
