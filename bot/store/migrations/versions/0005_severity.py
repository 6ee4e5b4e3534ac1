"""severity: 輕微 or 重大, the ground, the note, who and when

Revision ID: 0005
Revises: 0004
Create Date: 2026-12-06 02:00:00
"""
from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op


revision: str = '0005'
down_revision: str | None = '0004'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table('complaints', schema=None) as batch_op:
        batch_op.add_column(sa.Column('severity', sa.String(length=8), server_default='minor',
                                      nullable=False))
        batch_op.add_column(sa.Column('severity_ground', sa.String(length=1), nullable=True))
        batch_op.add_column(sa.Column('severity_note', sa.Text(), nullable=True))
        batch_op.add_column(sa.Column('severity_by', sa.BigInteger(), nullable=True))
        batch_op.add_column(sa.Column('severity_at', sa.DateTime(), nullable=True))
        batch_op.add_column(sa.Column('major_due_at', sa.DateTime(), nullable=True))
    # Complaints already open get their 10-day clock (ground d) from when they were posted
    # (the rule's 10 days: config is not read here). Those already past it become 重大 a
    # day after the upgrade, not all in the first minute.
    later = ("max(datetime(posted_at, '+10 days'), datetime('now', '+1 day'))"
             if op.get_bind().dialect.name == "sqlite" else
             "greatest(posted_at + interval '10 days', "
             "(now() at time zone 'utc') + interval '1 day')")
    op.execute(
        "INSERT INTO deadline_events (complaint_id, kind, before_seconds, due_at) "
        f"SELECT id, 'major', 0, {later} FROM complaints "
        "WHERE posted_at IS NOT NULL AND status IN ('open', 'answered', 'escalated')")


def downgrade() -> None:
    # The complaint's own clocks (10 days, 12 hours, 24-hour feedback): 0004 knows none.
    op.execute("DELETE FROM deadline_events WHERE step_id IS NULL AND chain_step_id IS NULL")
    with op.batch_alter_table('complaints', schema=None) as batch_op:
        for column in ('major_due_at', 'severity_at', 'severity_by', 'severity_note',
                       'severity_ground', 'severity'):
            batch_op.drop_column(column)
