"""reads: the leaderboard read model, and indexes that bound the history reads

Revision ID: 0004_reads
Revises: 0003_trade_path
Create Date: 2026-11-29 17:40:00

leaderboard_ranks is derived data, rebuilt whole by every ranking pass of the engine: on
PostgreSQL it is UNLOGGED (no WAL for a table rewritten every few seconds; a crash empties it and
the next pass refills it). SQLite has no such option and needs none.
"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '0004_reads'
down_revision = '0003_trade_path'
branch_labels = None
depends_on = None


def upgrade():
    unlogged = ['UNLOGGED'] if op.get_bind().dialect.name == 'postgresql' else []
    op.create_table('leaderboard_ranks',
    sa.Column('player_id', sa.Integer(), autoincrement=False, nullable=False),
    sa.Column('rank', sa.Integer(), nullable=False),
    sa.Column('name', sa.String(length=20), nullable=False),
    sa.Column('total_pnl', sa.BigInteger(), nullable=False),
    sa.Column('granted', sa.BigInteger(), nullable=False),
    sa.PrimaryKeyConstraint('player_id', name=op.f('pk_leaderboard_ranks')),
    prefixes=unlogged,
    )
    with op.batch_alter_table('leaderboard_ranks', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_leaderboard_ranks_rank'), ['rank'], unique=False)

    op.create_table('leaderboard_passes',
    sa.Column('id', sa.Integer(), autoincrement=False, nullable=False),
    sa.Column('tick_seq', sa.BigInteger(), nullable=False),
    sa.Column('computed_at', sa.DateTime(), nullable=False),
    sa.Column('players', sa.Integer(), nullable=False),
    sa.Column('took_us', sa.BigInteger(), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_leaderboard_passes'))
    )
    with op.batch_alter_table('trades', schema=None) as batch_op:
        batch_op.create_index('ix_trades_player_id_executed_at', ['player_id', 'executed_at'], unique=False)

    with op.batch_alter_table('settlements', schema=None) as batch_op:
        batch_op.create_index('ix_settlements_player_id_id', ['player_id', 'id'], unique=False)
        batch_op.create_index('ix_settlements_player_id_settled_at', ['player_id', 'settled_at'], unique=False)


def downgrade():
    with op.batch_alter_table('settlements', schema=None) as batch_op:
        batch_op.drop_index('ix_settlements_player_id_settled_at')
        batch_op.drop_index('ix_settlements_player_id_id')

    with op.batch_alter_table('trades', schema=None) as batch_op:
        batch_op.drop_index('ix_trades_player_id_executed_at')

    op.drop_table('leaderboard_passes')
    with op.batch_alter_table('leaderboard_ranks', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_leaderboard_ranks_rank'))

    op.drop_table('leaderboard_ranks')
