"""services: assessments, care plans, temporary states, the roster, the task engine, alerts, meals, welfare calls

The other half of the virtual nursing home (docs/services.md):

* `assessment` (GB/T 42195-2022 capability assessments, history kept), `care_plan` (versioned, one open
  version per resident), `resident_state` (hospital stay, away with family, moved, deceased);
  `resident.reassessment_due_on`.
* The roster: `shift_pattern` → `shift` rows for a rolling window (one per staff member and start),
  `staff_leave`, `staff_certification` (replaces the `staff.certifications` JSON), `staff_preference`;
  `staff` gains its home base, travel mode and a maximum of tasks per shift.
* The task engine takes over `task`: the lifecycle planned → assigned → published → en_route →
  checked_in → completed (or missed / cancelled / suspended), the (resident, service, slot) key of
  generated tasks, time windows, EVV items and findings; `task_event` is every task's trace.
* `alert`: one row per exception with an owner and a state, at most one open per kind and subject.
* `meal_order` and meal points' capacity per meal.
* Welfare calls are alarms without a device (`alarm.source = 'welfare'`), raised by a task or a meal.

Revision ID: 0007
Revises: 0006
Create Date: 2026-12-02
"""

from collections.abc import Sequence

from alembic import op

revision: str = "0007"
down_revision: str | None = "0006"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

TASK_KINDS = (
    "alarm_response",
    "urgent_visit",
    "visit",
    "service",
    "meal_delivery",
    "reassessment",
    "follow_up",
    "maintenance",
    "substitute_cover",
)
TASK_STATUSES = (
    "planned",
    "assigned",
    "published",
    "en_route",
    "checked_in",
    "completed",
    "missed",
    "cancelled",
    "suspended",
)
TASK_SOURCES = ("plan", "alarm", "meal", "finding", "welfare", "assessment", "device", "manual")
WELFARE_TYPES = [
    # type, priority, zh, en, seconds to acknowledge / reach / resolve
    ("meal_not_collected", 3, "助餐未取", "Meal not collected", 600, 3600, 14400),
    ("visit_no_answer", 2, "探访无人应答", "Nobody answered a visit", 300, 3600, 14400),
]


def _in(values: Sequence[str]) -> str:
    return ", ".join(f"'{value}'" for value in values)


def upgrade() -> None:
    """Create the services' tables and hand the task table to the task engine."""
    # --- residents: assessments, care plans, temporary states -------------------------------------------
    op.execute("ALTER TABLE resident ADD COLUMN reassessment_due_on date")
    op.execute(
        """
        CREATE TABLE assessment (
            id              bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
            resident_id     integer NOT NULL REFERENCES resident(id),
            assessed_on     date NOT NULL,
            reason          text NOT NULL CHECK (reason IN ('initial', 'periodic', 'hospital_discharge',
                                'fall_injury', 'condition_change', 'other')),
            standard        text NOT NULL DEFAULT 'GB/T 42195-2022',
            assessor_name   text NOT NULL CHECK (length(assessor_name) BETWEEN 1 AND 64),
            assessor_staff_id integer REFERENCES staff(id),
            items           jsonb NOT NULL,
            domain_scores   jsonb NOT NULL,
            total_score     smallint NOT NULL CHECK (total_score BETWEEN 0 AND 90),
            level           text NOT NULL CHECK (level IN ('intact', 'mild', 'moderate', 'severe', 'total')),
            notes           text,
            recorded_at     timestamptz NOT NULL,
            recorded_by     integer REFERENCES app_user(id)
        )
        """
    )
    op.execute("CREATE INDEX ix_assessment_resident ON assessment (resident_id, assessed_on DESC, id DESC)")
    op.execute(
        """
        CREATE TABLE care_plan (
            id              bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
            resident_id     integer NOT NULL REFERENCES resident(id),
            version         integer NOT NULL CHECK (version >= 1),
            valid_from      date NOT NULL,
            valid_to        date,
            visit_tier      text NOT NULL CHECK (visit_tier IN ('high_risk', 'key', 'regular')),
            proposed_tier   text NOT NULL CHECK (proposed_tier IN ('high_risk', 'key', 'regular')),
            tier_reasons    text[] NOT NULL DEFAULT '{}',
            override_reason text,
            assessment_id   bigint REFERENCES assessment(id),
            meals           jsonb NOT NULL DEFAULT '[]'::jsonb,
            services        jsonb NOT NULL DEFAULT '[]'::jsonb,
            subsidy_monthly_fen integer NOT NULL DEFAULT 0 CHECK (subsidy_monthly_fen >= 0),
            subsidy_basis   text,
            notes           text,
            created_at      timestamptz NOT NULL,
            created_by      integer REFERENCES app_user(id),
            UNIQUE (resident_id, version),
            CHECK (valid_to IS NULL OR valid_to >= valid_from),
            CHECK (visit_tier = proposed_tier OR override_reason IS NOT NULL)
        )
        """
    )
    op.execute("CREATE UNIQUE INDEX uq_care_plan_open ON care_plan (resident_id) WHERE valid_to IS NULL")
    op.execute(
        """
        CREATE TABLE resident_state (
            id              bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
            resident_id     integer NOT NULL REFERENCES resident(id),
            kind            text NOT NULL CHECK (kind IN ('hospital', 'away_with_family', 'moved', 'deceased')),
            starts_at       timestamptz NOT NULL,
            ends_at         timestamptz,
            reason          text NOT NULL CHECK (length(reason) BETWEEN 1 AND 500),
            recorded_at     timestamptz NOT NULL,
            recorded_by     integer REFERENCES app_user(id),
            ended_at        timestamptz,
            ended_by        integer REFERENCES app_user(id),
            CHECK (ends_at IS NULL OR ends_at > starts_at)
        )
        """
    )
    op.execute("CREATE INDEX ix_resident_state_resident ON resident_state (resident_id, starts_at DESC)")

    # --- coordinators: community staff scoped like supervisors (one area subtree or one institution) ---------
    op.execute("ALTER TABLE app_user DROP CONSTRAINT role_valid")
    op.execute(
        "ALTER TABLE app_user ADD CONSTRAINT role_valid"
        " CHECK (role IN ('operator', 'caregiver', 'coordinator', 'supervisor', 'admin'))"
    )
    op.execute("ALTER TABLE app_user DROP CONSTRAINT supervisor_has_one_scope")
    op.execute(
        "ALTER TABLE app_user ADD CONSTRAINT supervisor_has_one_scope"
        " CHECK (role NOT IN ('supervisor', 'coordinator') OR num_nonnulls(scope_area_id, scope_institution_id) = 1)"
    )

    # --- the roster ---------------------------------------------------------------------------------------
    op.execute("ALTER TABLE staff ADD COLUMN max_tasks_per_shift integer NOT NULL DEFAULT 8")
    op.execute("ALTER TABLE staff ADD CONSTRAINT max_tasks_valid CHECK (max_tasks_per_shift BETWEEN 1 AND 50)")
    op.execute("ALTER TABLE staff ADD COLUMN home_latitude double precision")
    op.execute("ALTER TABLE staff ADD COLUMN home_longitude double precision")
    op.execute("ALTER TABLE staff ADD COLUMN travel_mode varchar NOT NULL DEFAULT 'ebike'")
    op.execute("ALTER TABLE staff ADD CONSTRAINT travel_mode_valid CHECK (travel_mode IN ('foot', 'ebike', 'car'))")
    op.execute(
        """
        CREATE TABLE staff_certification (
            id              bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
            staff_id        integer NOT NULL REFERENCES staff(id),
            name            text NOT NULL CHECK (length(name) BETWEEN 1 AND 120),
            number          text,
            level           text,
            issued_on       date,
            expires_on      date,
            CHECK (expires_on IS NULL OR issued_on IS NULL OR expires_on > issued_on)
        )
        """
    )
    op.execute("CREATE INDEX ix_staff_certification_staff ON staff_certification (staff_id)")
    op.execute("CREATE INDEX ix_staff_certification_expiry ON staff_certification (expires_on)")
    op.execute(
        "INSERT INTO staff_certification (staff_id, name, number, level, issued_on, expires_on)"
        " SELECT s.id, c->>'name', c->>'number', c->>'level', (c->>'issued_on')::date,"
        " coalesce((c->>'expires_on')::date, (c->>'valid_until')::date)"
        " FROM staff s, jsonb_array_elements(s.certifications) c WHERE c ? 'name'"
    )
    op.execute("ALTER TABLE staff DROP COLUMN certifications")
    op.execute(
        """
        CREATE TABLE shift_pattern (
            id              bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
            staff_id        integer NOT NULL REFERENCES staff(id),
            label           text NOT NULL DEFAULT '',
            weekdays        smallint[] NOT NULL CHECK (weekdays <@ '{1,2,3,4,5,6,7}'::smallint[]
                                AND cardinality(weekdays) >= 1),
            start_time      time NOT NULL,
            end_time        time NOT NULL,
            on_call         boolean NOT NULL DEFAULT false,
            valid_from      date NOT NULL,
            valid_to        date,
            CHECK (start_time <> end_time),
            CHECK (valid_to IS NULL OR valid_to >= valid_from)
        )
        """
    )
    op.execute("CREATE INDEX ix_shift_pattern_staff ON shift_pattern (staff_id)")
    op.execute("ALTER TABLE shift ADD COLUMN pattern_id bigint")
    op.execute(
        "ALTER TABLE shift ADD CONSTRAINT shift_pattern_id_fkey FOREIGN KEY (pattern_id) REFERENCES shift_pattern(id)"
    )
    op.execute("CREATE UNIQUE INDEX uq_shift_staff_start ON shift (staff_id, starts_at)")
    op.execute(
        """
        CREATE TABLE staff_leave (
            id              bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
            staff_id        integer NOT NULL REFERENCES staff(id),
            kind            text NOT NULL CHECK (kind IN ('annual', 'sick', 'training', 'other')),
            starts_at       timestamptz NOT NULL,
            ends_at         timestamptz NOT NULL,
            reason          text,
            recorded_at     timestamptz NOT NULL,
            recorded_by     integer REFERENCES app_user(id),
            cancelled_at    timestamptz,
            CHECK (ends_at > starts_at)
        )
        """
    )
    op.execute("CREATE INDEX ix_staff_leave_staff ON staff_leave (staff_id, starts_at)")
    op.execute(
        """
        CREATE TABLE staff_preference (
            staff_id        integer NOT NULL REFERENCES staff(id),
            resident_id     integer NOT NULL REFERENCES resident(id),
            kind            text NOT NULL CHECK (kind IN ('preferred', 'declined')),
            reason          text,
            recorded_at     timestamptz NOT NULL,
            PRIMARY KEY (staff_id, resident_id)
        )
        """
    )

    # --- meals --------------------------------------------------------------------------------------------
    op.execute("ALTER TABLE meal_point ADD COLUMN capacity_per_meal integer NOT NULL DEFAULT 0")
    op.execute("ALTER TABLE meal_point ADD CONSTRAINT capacity_per_meal_valid CHECK (capacity_per_meal >= 0)")
    op.execute("UPDATE meal_point SET capacity_per_meal = daily_capacity")

    # --- the task engine takes over `task` ----------------------------------------------------------------
    op.execute("DROP INDEX uq_task_alarm_kind")
    op.execute("ALTER TABLE task DROP CONSTRAINT task_kind_check")
    op.execute("ALTER TABLE task DROP CONSTRAINT task_status_check")
    op.execute("ALTER TABLE task ALTER COLUMN status DROP DEFAULT")
    op.execute(
        "UPDATE task SET status = CASE status WHEN 'open' THEN 'planned' WHEN 'done' THEN 'completed' ELSE status END"
    )
    op.execute("ALTER TABLE task ALTER COLUMN status SET DEFAULT 'planned'")
    op.execute(f"ALTER TABLE task ADD CONSTRAINT task_kind_check CHECK (kind IN ({_in(TASK_KINDS)}))")
    op.execute(f"ALTER TABLE task ADD CONSTRAINT task_status_check CHECK (status IN ({_in(TASK_STATUSES)}))")
    op.execute("CREATE SEQUENCE task_version_seq")
    op.execute(
        f"""
        ALTER TABLE task
            ADD COLUMN source          text NOT NULL DEFAULT 'manual' CHECK (source IN ({_in(TASK_SOURCES)})),
            ADD COLUMN service         text,
            ADD COLUMN slot            text,
            ADD COLUMN care_plan_id    bigint REFERENCES care_plan(id),
            ADD COLUMN area_id         integer REFERENCES area(id),
            ADD COLUMN area_path       text,
            ADD COLUMN window_start    timestamptz,
            ADD COLUMN window_end      timestamptz,
            ADD COLUMN duration_minutes integer NOT NULL DEFAULT 30 CHECK (duration_minutes BETWEEN 1 AND 720),
            ADD COLUMN priority        smallint NOT NULL DEFAULT 3 CHECK (priority BETWEEN 1 AND 4),
            ADD COLUMN required_skill  text,
            ADD COLUMN status_reason   text,
            ADD COLUMN assigned_at     timestamptz,
            ADD COLUMN published_at    timestamptz,
            ADD COLUMN accepted_at     timestamptz,
            ADD COLUMN en_route_at     timestamptz,
            ADD COLUMN checked_in_at   timestamptz,
            ADD COLUMN completed_at    timestamptz,
            ADD COLUMN check_in_latitude  double precision,
            ADD COLUMN check_in_longitude double precision,
            ADD COLUMN check_out_latitude double precision,
            ADD COLUMN check_out_longitude double precision,
            ADD COLUMN findings        jsonb NOT NULL DEFAULT '{{}}'::jsonb,
            ADD COLUMN problem_found   boolean NOT NULL DEFAULT false,
            ADD COLUMN follow_up_of    bigint REFERENCES task(id),
            ADD COLUMN meal_order_id   bigint,
            ADD COLUMN updated_at      timestamptz,
            ADD COLUMN updated_by      integer REFERENCES app_user(id),
            ADD COLUMN version         bigint NOT NULL DEFAULT nextval('task_version_seq'),
            ADD CONSTRAINT task_window_valid CHECK (window_end IS NULL OR window_start IS NULL
                OR window_end > window_start),
            ADD CONSTRAINT task_completed_has_times CHECK (status <> 'completed'
                OR kind IN ('alarm_response', 'maintenance', 'substitute_cover') OR completed_at IS NOT NULL)
        """
    )
    op.execute("UPDATE task SET source = CASE WHEN alarm_id IS NOT NULL THEN 'alarm' ELSE 'manual' END")
    op.execute(
        "UPDATE task t SET area_path = a.area_path, window_start = t.created_at, window_end = t.due_at"
        " FROM alarm a WHERE a.id = t.alarm_id"
    )
    # The engine's key: a rerun of the generator never writes a slot twice (whatever became of it).
    op.execute("CREATE UNIQUE INDEX uq_task_slot ON task (resident_id, service, slot) WHERE slot IS NOT NULL")
    op.execute(
        "CREATE UNIQUE INDEX uq_task_alarm_kind ON task (alarm_id, kind)"
        " WHERE status NOT IN ('completed', 'missed', 'cancelled') AND kind IN ('maintenance', 'substitute_cover')"
    )
    op.execute("CREATE INDEX ix_task_area_window ON task (area_path text_pattern_ops, window_start)")
    op.execute("CREATE INDEX ix_task_assignee_window ON task (assignee_staff_id, window_start)")
    op.execute("CREATE INDEX ix_task_resident_window ON task (resident_id, window_start)")
    op.execute(
        "CREATE INDEX ix_task_live ON task (window_start)"
        " WHERE status IN ('planned', 'assigned', 'published', 'en_route', 'checked_in')"
    )
    op.execute("CREATE INDEX ix_task_version ON task (version)")
    op.execute("CREATE INDEX ix_task_follow_up_of ON task (follow_up_of) WHERE follow_up_of IS NOT NULL")
    op.execute(
        """
        CREATE TABLE task_event (
            id              bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
            task_id         bigint NOT NULL REFERENCES task(id) ON DELETE CASCADE,
            at              timestamptz NOT NULL,
            user_id         integer REFERENCES app_user(id),
            staff_id        integer REFERENCES staff(id),
            action          text NOT NULL,
            from_status     text,
            to_status       text NOT NULL,
            reason          text,
            detail          jsonb NOT NULL DEFAULT '{}'::jsonb
        )
        """
    )
    op.execute("CREATE INDEX ix_task_event_task ON task_event (task_id, at, id)")

    # --- meal orders ----------------------------------------------------------------------------------------
    op.execute(
        """
        CREATE TABLE meal_order (
            id              bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
            resident_id     integer NOT NULL REFERENCES resident(id),
            meal_point_id   integer NOT NULL REFERENCES meal_point(id),
            service_date    date NOT NULL,
            meal            text NOT NULL CHECK (meal IN ('breakfast', 'lunch', 'dinner')),
            mode            text NOT NULL CHECK (mode IN ('dine_in', 'pick_up', 'delivery')),
            diet            text[] NOT NULL DEFAULT '{}',
            source          text NOT NULL CHECK (source IN ('plan', 'ad_hoc')),
            status          text NOT NULL DEFAULT 'ordered'
                            CHECK (status IN ('ordered', 'collected', 'delivered', 'not_collected', 'cancelled')),
            status_reason   text,
            care_plan_id    bigint REFERENCES care_plan(id),
            deadline        timestamptz NOT NULL,
            ordered_at      timestamptz NOT NULL,
            ordered_by      integer REFERENCES app_user(id),
            collected_at    timestamptz,
            collected_via   text CHECK (collected_via IN ('terminal', 'staff', 'manual')),
            task_id         bigint REFERENCES task(id),
            welfare_alarm_id bigint REFERENCES alarm(id),
            updated_at      timestamptz,
            UNIQUE (resident_id, service_date, meal)
        )
        """
    )
    op.execute("CREATE INDEX ix_meal_order_point_day ON meal_order (meal_point_id, service_date, meal)")
    op.execute("CREATE INDEX ix_meal_order_open ON meal_order (deadline) WHERE status = 'ordered'")
    op.execute(
        "ALTER TABLE task ADD CONSTRAINT task_meal_order_id_fkey FOREIGN KEY (meal_order_id) REFERENCES meal_order(id)"
    )

    # --- alerts ---------------------------------------------------------------------------------------------
    op.execute(
        """
        CREATE TABLE alert (
            id              bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
            kind            text NOT NULL,
            subject_key     text NOT NULL,
            state           text NOT NULL DEFAULT 'open' CHECK (state IN ('open', 'acknowledged', 'resolved')),
            severity        smallint NOT NULL DEFAULT 3 CHECK (severity BETWEEN 1 AND 4),
            message         text NOT NULL,
            task_id         bigint REFERENCES task(id),
            staff_id        integer REFERENCES staff(id),
            resident_id     integer REFERENCES resident(id),
            area_id         integer REFERENCES area(id),
            area_path       text,
            owner_user_id   integer REFERENCES app_user(id),
            owner_staff_id  integer REFERENCES staff(id),
            detail          jsonb NOT NULL DEFAULT '{}'::jsonb,
            opened_at       timestamptz NOT NULL,
            acknowledged_at timestamptz,
            acknowledged_by integer REFERENCES app_user(id),
            resolved_at     timestamptz,
            resolved_by     integer REFERENCES app_user(id),
            resolution      text,
            version         bigint NOT NULL DEFAULT nextval('task_version_seq'),
            CHECK ((state = 'resolved') = (resolved_at IS NOT NULL))
        )
        """
    )
    op.execute("CREATE UNIQUE INDEX uq_alert_open ON alert (kind, subject_key) WHERE state <> 'resolved'")
    op.execute("CREATE INDEX ix_alert_area ON alert (area_path text_pattern_ops) WHERE state <> 'resolved'")
    op.execute("CREATE INDEX ix_alert_task ON alert (task_id) WHERE task_id IS NOT NULL")

    # --- welfare calls: alarms without a device -------------------------------------------------------------
    op.execute(
        "ALTER TABLE alarm ADD COLUMN source text NOT NULL DEFAULT 'device' CHECK (source IN ('device', 'welfare'))"
    )
    op.execute("ALTER TABLE alarm ADD COLUMN task_id bigint REFERENCES task(id)")
    op.execute("ALTER TABLE alarm ADD COLUMN meal_order_id bigint REFERENCES meal_order(id)")
    op.execute("ALTER TABLE alarm ALTER COLUMN device_serial DROP NOT NULL")
    op.execute(
        "ALTER TABLE alarm ADD CONSTRAINT alarm_device_or_welfare CHECK (source = 'welfare' OR device_serial IS NOT NULL)"
    )
    rows = ", ".join(f"('{t}', {p}, '{zh}', '{en}', {a}, {r}, {s}, false)" for t, p, zh, en, a, r, s in WELFARE_TYPES)
    op.execute(
        "INSERT INTO alarm_type (type, priority, label_zh, label_en, ack_within_s, reach_within_s, resolve_within_s,"
        f" is_device_fault) VALUES {rows}"
    )


def downgrade() -> None:
    """Back to the alarm center's task table; the services' data is dropped."""
    op.execute("DELETE FROM alarm WHERE source = 'welfare'")
    op.execute("DELETE FROM alarm_type WHERE type IN ('meal_not_collected', 'visit_no_answer')")
    op.execute("ALTER TABLE alarm DROP CONSTRAINT alarm_device_or_welfare")
    op.execute("ALTER TABLE alarm ALTER COLUMN device_serial SET NOT NULL")
    op.execute("ALTER TABLE alarm DROP COLUMN meal_order_id, DROP COLUMN task_id, DROP COLUMN source")
    op.execute("DROP TABLE alert")
    op.execute("ALTER TABLE task DROP CONSTRAINT task_meal_order_id_fkey")
    op.execute("DROP TABLE meal_order")
    op.execute("DROP TABLE task_event")
    op.execute("DELETE FROM task WHERE kind NOT IN ('alarm_response', 'visit', 'maintenance', 'substitute_cover')")
    op.execute("DROP INDEX uq_task_slot")
    op.execute("DROP INDEX uq_task_alarm_kind")
    op.execute(
        "ALTER TABLE task DROP CONSTRAINT task_kind_check, DROP CONSTRAINT task_status_check,"
        " DROP CONSTRAINT task_window_valid, DROP CONSTRAINT task_completed_has_times"
    )
    for column in (
        "source", "service", "slot", "care_plan_id", "area_id", "area_path", "window_start", "window_end",
        "duration_minutes", "priority", "required_skill", "status_reason", "assigned_at", "published_at",
        "accepted_at", "en_route_at", "checked_in_at", "completed_at", "check_in_latitude", "check_in_longitude",
        "check_out_latitude", "check_out_longitude", "findings", "problem_found", "follow_up_of", "meal_order_id",
        "updated_at", "updated_by", "version",
    ):  # fmt: skip
        op.execute(f"ALTER TABLE task DROP COLUMN {column}")
    op.execute("DROP SEQUENCE task_version_seq")
    op.execute("ALTER TABLE task ALTER COLUMN status DROP DEFAULT")
    op.execute(
        "UPDATE task SET status = CASE WHEN status IN ('planned', 'published', 'en_route', 'checked_in', 'suspended')"
        " THEN 'open' WHEN status IN ('completed', 'missed') THEN 'done' ELSE status END"
    )
    op.execute("ALTER TABLE task ALTER COLUMN status SET DEFAULT 'open'")
    op.execute(
        "ALTER TABLE task ADD CONSTRAINT task_kind_check"
        " CHECK (kind IN ('alarm_response', 'visit', 'maintenance', 'substitute_cover'))"
    )
    op.execute(
        "ALTER TABLE task ADD CONSTRAINT task_status_check CHECK (status IN ('open', 'assigned', 'done', 'cancelled'))"
    )
    op.execute(
        "CREATE UNIQUE INDEX uq_task_alarm_kind ON task (alarm_id, kind) WHERE status IN ('open', 'assigned')"
        " AND kind IN ('maintenance', 'substitute_cover')"
    )
    op.execute("ALTER TABLE meal_point DROP COLUMN capacity_per_meal")
    op.execute("DROP TABLE staff_preference")
    op.execute("DROP TABLE staff_leave")
    op.execute("DROP INDEX uq_shift_staff_start")
    op.execute("ALTER TABLE shift DROP COLUMN pattern_id")
    op.execute("DROP TABLE shift_pattern")
    op.execute("ALTER TABLE staff ADD COLUMN certifications jsonb NOT NULL DEFAULT '[]'::jsonb")
    op.execute(
        "UPDATE staff s SET certifications = coalesce((SELECT jsonb_agg(jsonb_strip_nulls(jsonb_build_object("
        "'name', c.name, 'number', c.number, 'level', c.level, 'issued_on', c.issued_on, 'expires_on', c.expires_on)))"
        " FROM staff_certification c WHERE c.staff_id = s.id), '[]'::jsonb)"
    )
    op.execute("DROP TABLE staff_certification")
    op.execute(
        "ALTER TABLE staff DROP CONSTRAINT travel_mode_valid, DROP CONSTRAINT max_tasks_valid,"
        " DROP COLUMN travel_mode, DROP COLUMN home_longitude, DROP COLUMN home_latitude,"
        " DROP COLUMN max_tasks_per_shift"
    )
    op.execute("DELETE FROM app_user WHERE role = 'coordinator'")
    op.execute("ALTER TABLE app_user DROP CONSTRAINT supervisor_has_one_scope")
    op.execute(
        "ALTER TABLE app_user ADD CONSTRAINT supervisor_has_one_scope"
        " CHECK (role <> 'supervisor' OR num_nonnulls(scope_area_id, scope_institution_id) = 1)"
    )
    op.execute("ALTER TABLE app_user DROP CONSTRAINT role_valid")
    op.execute(
        "ALTER TABLE app_user ADD CONSTRAINT role_valid CHECK (role IN ('operator', 'caregiver', 'supervisor', 'admin'))"
    )
    op.execute("DROP TABLE resident_state")
    op.execute("DROP TABLE care_plan")
    op.execute("DROP TABLE assessment")
    op.execute("ALTER TABLE resident DROP COLUMN reassessment_due_on")
