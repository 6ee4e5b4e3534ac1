"""exactly once at the edge: outbox owner and subjects, card hash, questions per thread, split texts

Revision ID: 0003
Revises: 0002
Create Date: 2026-12-03 10:54:59.171430
"""
from collections.abc import Sequence
from typing import Any

import sqlalchemy as sa
from alembic import op


revision: str = '0003'
down_revision: str | None = '0002'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def _pending_inputs(name: str, *, per_thread: bool) -> None:
    columns: list[sa.Column[Any]] = [sa.Column('user_id', sa.BigInteger(), nullable=False)]
    if per_thread:
        columns.append(sa.Column('complaint_thread', sa.Integer(), nullable=False))
    columns += [sa.Column('purpose', sa.String(length=32), nullable=False),
                sa.Column('ref_id', sa.Integer(), nullable=True),
                sa.Column('data', sa.JSON(), nullable=False),
                sa.Column('created_at', sa.DateTime(), nullable=False)]
    key = ('user_id', 'complaint_thread') if per_thread else ('user_id',)
    op.create_table(name, *columns, sa.PrimaryKeyConstraint(*key))


def upgrade() -> None:
    with op.batch_alter_table('complaints', schema=None) as batch_op:
        batch_op.add_column(sa.Column('card_hash', sa.String(length=64), nullable=True))

    with op.batch_alter_table('users', schema=None) as batch_op:
        batch_op.add_column(sa.Column('split_text_at', sa.DateTime(), nullable=True))
        batch_op.add_column(sa.Column('split_text_chat', sa.BigInteger(), nullable=True))

    with op.batch_alter_table('outbox', schema=None) as batch_op:
        batch_op.add_column(sa.Column('owner', sa.String(length=120), nullable=True))
        batch_op.add_column(sa.Column('subject', sa.String(length=40), nullable=True))
        batch_op.add_column(sa.Column('sent_message_id', sa.Integer(), nullable=True))
        batch_op.create_index(batch_op.f('ix_outbox_subject'), ['subject'], unique=False)

    # A question waiting for a typed answer: one per user in private, one per complaint
    # thread. A step's parts ("step") were already about one complaint: its thread.
    _pending_inputs('pending_inputs_new', per_thread=True)
    op.execute("INSERT INTO pending_inputs_new (user_id, complaint_thread, purpose, ref_id, data, "
               "created_at) SELECT user_id, CASE WHEN purpose = 'step' THEN COALESCE(ref_id, 0) "
               "ELSE 0 END, purpose, ref_id, data, created_at FROM pending_inputs")
    op.drop_table('pending_inputs')
    op.rename_table('pending_inputs_new', 'pending_inputs')


def downgrade() -> None:
    # Back to one question per user: the newest of each user's questions is kept.
    _pending_inputs('pending_inputs_old', per_thread=False)
    op.execute("INSERT INTO pending_inputs_old (user_id, purpose, ref_id, data, created_at) "
               "SELECT user_id, purpose, ref_id, data, created_at FROM pending_inputs AS p "
               "WHERE NOT EXISTS (SELECT 1 FROM pending_inputs AS q WHERE q.user_id = p.user_id "
               "AND (q.created_at > p.created_at OR (q.created_at = p.created_at "
               "AND q.complaint_thread > p.complaint_thread)))")
    op.drop_table('pending_inputs')
    op.rename_table('pending_inputs_old', 'pending_inputs')

    with op.batch_alter_table('outbox', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_outbox_subject'))
        batch_op.drop_column('sent_message_id')
        batch_op.drop_column('subject')
        batch_op.drop_column('owner')

    with op.batch_alter_table('users', schema=None) as batch_op:
        batch_op.drop_column('split_text_chat')
        batch_op.drop_column('split_text_at')

    with op.batch_alter_table('complaints', schema=None) as batch_op:
        batch_op.drop_column('card_hash')
