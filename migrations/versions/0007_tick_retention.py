"""tick retention: a settled asset's stored ticks may be dropped, its path recomputed from the seed

Revision ID: 0007_tick_retention
Revises: 0006_display_names
Create Date: 2026-11-29 21:00:00.000000

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '0007_tick_retention'
down_revision = '0006_display_names'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('assets', schema=None) as batch_op:
        batch_op.add_column(sa.Column('ticks_compacted_at', sa.DateTime(), nullable=True))


def downgrade():
    with op.batch_alter_table('assets', schema=None) as batch_op:
        batch_op.drop_column('ticks_compacted_at')
