"""engine term: the market engine's leadership term, the fence every engine transaction checks

Revision ID: 0005_engine_term
Revises: 0004_reads
Create Date: 2026-11-30 09:00:00.000000

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '0005_engine_term'
down_revision = '0004_reads'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('engine_beats', schema=None) as batch_op:
        batch_op.add_column(sa.Column('term', sa.BigInteger(), server_default=sa.text('0'), nullable=False))


def downgrade():
    with op.batch_alter_table('engine_beats', schema=None) as batch_op:
        batch_op.drop_column('term')
