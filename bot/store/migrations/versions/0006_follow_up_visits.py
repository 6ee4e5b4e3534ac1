"""follow-up visits (回訪): follow_ups, and a fine may be for a missed visit

Revision ID: 0006
Revises: 0005
Create Date: 2026-12-06 03:20:00
"""
from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op


revision: str = '0006'
down_revision: str | None = '0005'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        'follow_ups',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('complaint_id', sa.Integer(), nullable=False),
        sa.Column('round', sa.Integer(), nullable=False),
        sa.Column('visitor_id', sa.BigInteger(), nullable=True),
        sa.Column('visitor_department_key', sa.String(length=32), nullable=True),
        sa.Column('severity', sa.String(length=8), nullable=False),
        sa.Column('opened_at', sa.DateTime(), nullable=False),
        sa.Column('due_at', sa.DateTime(), nullable=False),
        sa.Column('method', sa.String(length=8), nullable=True),
        sa.Column('satisfaction', sa.String(length=8), nullable=True),
        sa.Column('words', sa.Text(), nullable=True),
        sa.Column('more_needed', sa.Boolean(), nullable=True),
        sa.Column('done_at', sa.DateTime(), nullable=True),
        sa.Column('done_by', sa.BigInteger(), nullable=True),
        sa.Column('overdue_at', sa.DateTime(), nullable=True),
        sa.Column('reopened_at', sa.DateTime(), nullable=True),
        sa.ForeignKeyConstraint(['complaint_id'], ['complaints.id'], ),
        sa.ForeignKeyConstraint(['visitor_department_key'], ['departments.key'], ),
        sa.PrimaryKeyConstraint('id'),
        sa.UniqueConstraint('complaint_id', 'round'),
    )
    with op.batch_alter_table('follow_ups', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_follow_ups_complaint_id'), ['complaint_id'],
                              unique=False)
        batch_op.create_index(batch_op.f('ix_follow_ups_due_at'), ['due_at'], unique=False)
    with op.batch_alter_table('fines', schema=None) as batch_op:
        batch_op.add_column(sa.Column('follow_up_id', sa.Integer(), nullable=True))
        batch_op.alter_column('step_id', existing_type=sa.Integer(), nullable=True)
        batch_op.create_unique_constraint('uq_fines_follow_up_id', ['follow_up_id'])
        batch_op.create_foreign_key('fk_fines_follow_up', 'follow_ups', ['follow_up_id'], ['id'])


def downgrade() -> None:
    # Fines for missed visits and the visits themselves: 0005 knows neither. Nor a round
    # reopened after a visit: its steps go and the complaint is closed again, as it was.
    revisit_steps = "SELECT id FROM complaint_steps WHERE step_key = 'revisit'"
    op.execute(f"DELETE FROM deadline_events WHERE step_id IN ({revisit_steps})")
    op.execute(f"DELETE FROM fines WHERE step_id IN ({revisit_steps})")
    op.execute("DELETE FROM answers WHERE step_key = 'revisit'")
    op.execute("DELETE FROM complaint_steps WHERE step_key = 'revisit'")
    op.execute("UPDATE complaints SET status = 'closed' WHERE status = 'reopened'")
    op.execute("DELETE FROM fines WHERE follow_up_id IS NOT NULL")
    op.execute("DELETE FROM deadline_events WHERE kind = 'followup'")
    with op.batch_alter_table('fines', schema=None) as batch_op:
        batch_op.drop_constraint('fk_fines_follow_up', type_='foreignkey')
        batch_op.drop_constraint('uq_fines_follow_up_id', type_='unique')
        batch_op.alter_column('step_id', existing_type=sa.Integer(), nullable=False)
        batch_op.drop_column('follow_up_id')
    with op.batch_alter_table('follow_ups', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_follow_ups_due_at'))
        batch_op.drop_index(batch_op.f('ix_follow_ups_complaint_id'))
    op.drop_table('follow_ups')
