"""alarm center: alarm types and priorities, alarms, their events and transitions, tasks, notifications

Revision ID: 0004
Revises: 0003
Create Date: 2026-11-22
"""

from collections.abc import Sequence

from alembic import op

revision: str = "0004"
down_revision: str | None = "0003"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

# type, priority (1 = most urgent), zh, en, seconds to acknowledge / reach the resident / resolve
DEFAULT_TYPES = [
    ("sos", 1, "紧急呼叫", "SOS call", 60, 600, 3600),
    ("fall", 1, "跌倒", "Fall", 60, 600, 3600),
    ("smoke", 1, "烟雾报警", "Smoke", 60, 300, 3600),
    ("gas", 1, "燃气泄漏", "Gas leak", 60, 300, 3600),
    ("abnormal_vitals", 2, "生命体征异常", "Abnormal vitals", 120, 900, 3600),
    ("water", 2, "漏水", "Water leak", 180, 1800, 7200),
    ("bed_exit", 2, "夜间离床", "Bed exit at night", 120, 900, 3600),
    ("inactivity", 2, "长时间无活动", "Inactivity", 180, 1800, 7200),
    ("door_open", 3, "门未关", "Door left open", 300, 3600, 14400),
    ("tamper", 3, "设备被拆", "Tamper", 300, 3600, 14400),
    ("device_silent", 4, "设备失联", "Device silent", 900, 7200, 86400),
    ("mains_lost", 4, "市电断开", "Mains power lost", 900, 7200, 86400),
    ("low_battery", 5, "电量低", "Low battery", 3600, 86400, 259200),
]


def upgrade() -> None:
    """Create the alarm center's tables and seed the priority table."""
    op.execute(
        """
        CREATE TABLE alarm_type (
            type            text PRIMARY KEY,
            priority        smallint NOT NULL CHECK (priority BETWEEN 1 AND 5),
            label_zh        text NOT NULL,
            label_en        text NOT NULL,
            ack_within_s    integer NOT NULL CHECK (ack_within_s > 0),
            reach_within_s  integer NOT NULL CHECK (reach_within_s > 0),
            resolve_within_s integer NOT NULL CHECK (resolve_within_s > 0),
            is_device_fault boolean NOT NULL DEFAULT false,
            updated_at      timestamptz NOT NULL DEFAULT now(),
            updated_by      integer REFERENCES app_user(id)
        )
        """
    )
    rows = ", ".join(
        f"('{t}', {p}, '{zh}', '{en}', {a}, {r}, {s}, {t in ('device_silent', 'mains_lost', 'low_battery')})"
        for t, p, zh, en, a, r, s in DEFAULT_TYPES
    )
    op.execute(
        "INSERT INTO alarm_type (type, priority, label_zh, label_en, ack_within_s, reach_within_s, resolve_within_s,"
        f" is_device_fault) VALUES {rows}"
    )
    op.execute("CREATE SEQUENCE alarm_version_seq")
    op.execute(
        """
        CREATE TABLE alarm (
            id              bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
            source_key      text NOT NULL,
            type            text NOT NULL REFERENCES alarm_type(type),
            priority        smallint NOT NULL,
            state           text NOT NULL DEFAULT 'new'
                            CHECK (state IN ('new', 'acknowledged', 'in_progress', 'resolved')),
            incident_id     bigint REFERENCES alarm(id),
            resident_id     integer REFERENCES resident(id),
            household_id    integer REFERENCES household(id),
            care_center_id  integer REFERENCES care_center(id),
            area_path       text,
            device_serial   text NOT NULL,
            opened_at       timestamptz NOT NULL,
            last_event_at   timestamptz NOT NULL,
            event_count     integer NOT NULL DEFAULT 1,
            ack_due_at      timestamptz NOT NULL,
            reach_due_at    timestamptz NOT NULL,
            resolve_due_at  timestamptz NOT NULL,
            acknowledged_at timestamptz,
            acknowledged_by integer REFERENCES app_user(id),
            reached_at      timestamptz,
            reach_method    text,
            dispatched      boolean NOT NULL DEFAULT false,
            resolved_at     timestamptz,
            resolved_by     integer REFERENCES app_user(id),
            outcome         text,
            resolution_notes text,
            escalation_level smallint NOT NULL DEFAULT 0,
            escalated_at    timestamptz,
            substitute_cover_required boolean NOT NULL DEFAULT false,
            version         bigint NOT NULL DEFAULT nextval('alarm_version_seq'),
            CHECK ((state = 'resolved') = (resolved_at IS NOT NULL)),
            CHECK (state = 'new' OR acknowledged_at IS NOT NULL)
        )
        """
    )
    # One open alarm per source and type: presses while it is open attach to it (grouping).
    op.execute("CREATE UNIQUE INDEX uq_alarm_open_source_type ON alarm (source_key, type) WHERE state <> 'resolved'")
    op.execute("CREATE INDEX ix_alarm_queue ON alarm (priority, opened_at) WHERE state <> 'resolved'")
    op.execute("CREATE INDEX ix_alarm_version ON alarm (version)")
    op.execute("CREATE INDEX ix_alarm_resident ON alarm (resident_id, opened_at DESC)")
    op.execute("CREATE INDEX ix_alarm_area ON alarm (area_path text_pattern_ops)")
    op.execute(
        """
        CREATE TABLE alarm_event (
            alarm_id        bigint NOT NULL REFERENCES alarm(id) ON DELETE CASCADE,
            device_event_id bigint NOT NULL UNIQUE REFERENCES device_event(id),
            PRIMARY KEY (alarm_id, device_event_id)
        )
        """
    )
    op.execute(
        """
        CREATE TABLE alarm_transition (
            id          bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
            alarm_id    bigint NOT NULL REFERENCES alarm(id) ON DELETE CASCADE,
            at          timestamptz NOT NULL DEFAULT now(),
            user_id     integer REFERENCES app_user(id),
            action      text NOT NULL,
            from_state  text,
            to_state    text NOT NULL,
            reason      text,
            detail      jsonb NOT NULL DEFAULT '{}'::jsonb
        )
        """
    )
    op.execute("CREATE INDEX ix_alarm_transition_alarm ON alarm_transition (alarm_id, at)")
    op.execute(
        """
        CREATE TABLE task (
            id          bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
            kind        text NOT NULL CHECK (kind IN ('alarm_response', 'visit', 'maintenance', 'substitute_cover')),
            status      text NOT NULL DEFAULT 'open' CHECK (status IN ('open', 'assigned', 'done', 'cancelled')),
            resident_id integer REFERENCES resident(id),
            household_id integer REFERENCES household(id),
            device_serial text,
            alarm_id    bigint REFERENCES alarm(id),
            assignee_staff_id integer REFERENCES staff(id),
            due_at      timestamptz,
            created_at  timestamptz NOT NULL DEFAULT now(),
            created_by  integer REFERENCES app_user(id),
            notes       text
        )
        """
    )
    op.execute("CREATE INDEX ix_task_alarm ON task (alarm_id)")
    op.execute(
        "CREATE UNIQUE INDEX uq_task_alarm_kind ON task (alarm_id, kind) WHERE status IN ('open', 'assigned')"
        " AND kind IN ('maintenance', 'substitute_cover')"
    )
    op.execute(
        """
        CREATE TABLE notification (
            id          bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
            user_id     integer NOT NULL REFERENCES app_user(id),
            alarm_id    bigint REFERENCES alarm(id),
            kind        text NOT NULL,
            message     text NOT NULL,
            created_at  timestamptz NOT NULL DEFAULT now(),
            read_at     timestamptz,
            UNIQUE (user_id, alarm_id, kind)
        )
        """
    )


def downgrade() -> None:
    """Drop the alarm center."""
    for table in ("notification", "task", "alarm_transition", "alarm_event", "alarm", "alarm_type"):
        op.execute(f"DROP TABLE {table}")
    op.execute("DROP SEQUENCE alarm_version_seq")
