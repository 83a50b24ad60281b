"""The API process works with only what it imports itself (not what the test suite happens to import)."""

from __future__ import annotations

import subprocess
import sys


def test_api_app_registers_every_table_on_its_own() -> None:
    code = (
        "from sqlmodel import SQLModel\n"
        "from eldercare_platform.core.config import ApiSettings\n"
        "from eldercare_platform.main import create_app\n"
        "create_app(ApiSettings(environment='test'), connect_broker=False)\n"
        "from sqlalchemy.sql.ddl import sort_tables\n"
        "print(len(sort_tables(SQLModel.metadata.tables.values())))\n"
    )
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=False)
    assert result.returncode == 0, result.stderr[-2000:]
    assert int(result.stdout.strip()) >= 14
