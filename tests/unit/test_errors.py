"""Pure pieces of the one error shape: reading constraint refusals, finding NUL in bodies, strict parameters."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime

import pytest
from pydantic import TypeAdapter, ValidationError
from sqlalchemy.exc import IntegrityError

from eldercare_platform.core.errors import _nul_in_body, constraint_refusal
from eldercare_platform.core.params import INT4_MAX, DbId, Instant


@dataclass
class Diag:
    constraint_name: str | None
    table_name: str | None
    message_detail: str | None


@dataclass
class DriverError(Exception):
    sqlstate: str
    diag: Diag


def refused(sqlstate: str, constraint: str, table: str, detail: str | None) -> IntegrityError:
    return IntegrityError("INSERT …", {}, DriverError(sqlstate, Diag(constraint, table, detail)))


def test_a_known_constraint_gets_the_views_status_code_and_words() -> None:
    error = constraint_refusal(
        refused("23505", "app_user_username_key", "app_user", None),
        {"app_user_username_key": (409, "username_taken", "username taken")},
    )
    assert (error.status, error.code, error.detail) == (409, "username_taken", "username taken")


def test_a_missing_reference_names_the_field_from_the_message_or_the_constraint() -> None:
    english = 'Key (household_id)=(99) is not present in table "household".'
    error = constraint_refusal(refused("23503", "device_household_id_fkey", "device", english))
    assert (error.status, error.code, error.detail, error.context) == (
        422,
        "unknown_reference",
        "household_id 99 does not exist",
        {"field": "household_id"},
    )
    chinese = "键值对(household_id)=(99)没有在表household中出现."
    error = constraint_refusal(refused("23503", "device_household_id_fkey", "device", chinese))
    assert (error.status, error.code, error.context) == (422, "unknown_reference", {"field": "household_id"})


def test_other_refusals_are_conflicts() -> None:
    assert constraint_refusal(refused("23505", "x_key", "x", None)).code == "duplicate"
    error = constraint_refusal(refused("23514", "device_one_owner", "device", None))
    assert (error.status, error.code) == (409, "conflict")


@pytest.mark.parametrize(
    ("content_type", "body", "where"),
    [
        ("application/json", rb'{"text": "a\u0000b"}', ["body", "text"]),
        ("application/json", rb'{"a": [1, {"b": "\u0000"}]}', ["body", "a", 1, "b"]),
        ("application/json", rb'{"k\u0000": 1}', ["body", "k\\u0000"]),
        ("application/json", rb'{"text": "C:\\u0000"}', None),  # a backslash, then the text u0000
        ("application/json", b'{"text": "plain"}', None),
        ("application/json", rb'{"broken": "\u0000', None),  # not JSON: the route answers that
        ("application/x-www-form-urlencoded", b"username=admin%00&password=x", ["body", "username"]),
        ("application/x-www-form-urlencoded", b"username=admin&password=x", None),
    ],
)
def test_nul_is_found_exactly_where_it_is(content_type: str, body: bytes, where: list[object] | None) -> None:
    assert _nul_in_body(content_type, body) == where


@pytest.mark.parametrize("text", ["0.5", "1.0", " 1", "1_000", "+1", "0x10", "2147483648", "0", "-1"])
def test_ids_in_paths_are_digits_within_range(text: str) -> None:
    with pytest.raises(ValidationError):
        TypeAdapter(DbId).validate_python(text)


def test_a_good_id_passes() -> None:
    assert TypeAdapter(DbId).validate_python(str(INT4_MAX)) == INT4_MAX


@pytest.mark.parametrize("text", ["0.5", "1700000000", "2026-11-22T06:00:00", "2026-11-22"])
def test_instants_are_iso_with_a_zone(text: str) -> None:
    with pytest.raises(ValidationError):
        TypeAdapter(Instant).validate_python(text)


def test_a_zoned_iso_instant_passes() -> None:
    assert TypeAdapter(Instant).validate_python("2026-11-22T14:00:00+08:00") == datetime(2026, 11, 22, 6, tzinfo=UTC)
