"""care plans: the assessment's preliminary level and level changes; superseded plan versions

* `assessment.preliminary_level` (the level from the total score) and `assessment.level_adjustments`
  (GB/T 42195-2022 能力等级变更依据: coma, dementia, mental disorder, care-risk events).
* `care_plan.superseded_by`: a version replaced before or on the day it starts (same-day replacement) keeps
  `valid_to = valid_from` (the CHECK needs it) and names its successor; it is valid on no day. A plan valid on
  day D: `valid_from <= D AND (valid_to IS NULL OR valid_to >= D) AND superseded_by IS NULL`.

Revision ID: 0008
Revises: 0007
Create Date: 2026-12-03
"""

from collections.abc import Sequence

from alembic import op

revision: str = "0008"
down_revision: str | None = "0007"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    """Add the columns."""
    op.execute(
        "ALTER TABLE assessment ADD COLUMN preliminary_level text"
        " CHECK (preliminary_level IN ('intact', 'mild', 'moderate', 'severe', 'total'))"
    )
    op.execute("ALTER TABLE assessment ADD COLUMN level_adjustments text[] NOT NULL DEFAULT '{}'")
    op.execute("ALTER TABLE care_plan ADD COLUMN superseded_by bigint REFERENCES care_plan(id)")
    op.execute("CREATE INDEX ix_care_plan_resident_valid ON care_plan (resident_id, valid_from)")


def downgrade() -> None:
    """Drop them."""
    op.execute("DROP INDEX ix_care_plan_resident_valid")
    op.execute("ALTER TABLE care_plan DROP COLUMN superseded_by")
    op.execute("ALTER TABLE assessment DROP COLUMN level_adjustments")
    op.execute("ALTER TABLE assessment DROP COLUMN preliminary_level")
