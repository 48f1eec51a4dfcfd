"""auth events: logins, failures, logouts, password changes and refresh-token reuse, per account

Revision ID: 0008_auth_events
Revises: 0007_tick_retention
Create Date: 2026-11-29 21:30:00.000000

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '0008_auth_events'
down_revision = '0007_tick_retention'
branch_labels = None
depends_on = None

KINDS = ("registered", "login_ok", "login_failed", "login_locked", "logout",
         "password_changed", "refresh_reuse")


def upgrade():
    op.create_table(
        'auth_events',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('at', sa.DateTime(), nullable=False),
        sa.Column('kind', sa.String(length=16), nullable=False),
        sa.Column('player_id', sa.Integer(), nullable=True),
        sa.Column('session_id', sa.String(length=32), nullable=True),
        sa.Column('channel', sa.String(length=8), nullable=True),
        sa.Column('remote', sa.String(length=64), nullable=True),
        sa.Column('request_id', sa.String(length=64), nullable=True),
        sa.CheckConstraint("kind IN (" + ", ".join(f"'{k}'" for k in KINDS) + ")",
                           name=op.f('ck_auth_events_kind_known')),
        sa.ForeignKeyConstraint(['player_id'], ['players.id'],
                                name=op.f('fk_auth_events_player_id_players')),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_auth_events')),
    )
    op.create_index(op.f('ix_auth_events_at'), 'auth_events', ['at'], unique=False)
    op.create_index('ix_auth_events_player_at', 'auth_events', ['player_id', 'at'], unique=False)


def downgrade():
    op.drop_index('ix_auth_events_player_at', table_name='auth_events')
    op.drop_index(op.f('ix_auth_events_at'), table_name='auth_events')
    op.drop_table('auth_events')
