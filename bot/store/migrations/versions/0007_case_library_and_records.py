"""case library (典型案例) and purged records: typical_cases, purged_complaints; a visit's
decision not to reopen (follow_ups.kept_closed_at)

Revision ID: 0007
Revises: 0006
Create Date: 2026-12-06 03:40:00
"""
from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op


revision: str = '0007'
down_revision: str | None = '0006'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table('follow_ups', schema=None) as batch_op:
        batch_op.add_column(sa.Column('kept_closed_at', sa.DateTime(), nullable=True))
    op.create_table(
        'typical_cases',
        sa.Column('complaint_id', sa.Integer(), nullable=False),
        sa.Column('lesson', sa.Text(), nullable=False),
        sa.Column('tags', sa.JSON(), nullable=False),
        sa.Column('marked_by', sa.BigInteger(), nullable=False),
        sa.Column('marked_at', sa.DateTime(), nullable=False),
        sa.ForeignKeyConstraint(['complaint_id'], ['complaints.id'], ),
        sa.PrimaryKeyConstraint('complaint_id'),
    )
    with op.batch_alter_table('typical_cases', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_typical_cases_marked_at'), ['marked_at'],
                              unique=False)
    op.create_table(
        'purged_complaints',
        sa.Column('number', sa.String(length=20), nullable=False),
        sa.Column('kind', sa.String(length=16), nullable=False),
        sa.Column('filed_at', sa.DateTime(), nullable=False),
        sa.Column('closed_at', sa.DateTime(), nullable=True),
        sa.Column('purged_at', sa.DateTime(), nullable=False),
        sa.Column('fines', sa.Integer(), nullable=False),
        sa.Column('fines_cents', sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint('number'),
    )


def downgrade() -> None:
    op.drop_table('purged_complaints')
    with op.batch_alter_table('typical_cases', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_typical_cases_marked_at'))
    op.drop_table('typical_cases')
    with op.batch_alter_table('follow_ups', schema=None) as batch_op:
        batch_op.drop_column('kept_closed_at')
