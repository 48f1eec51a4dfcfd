"""account deletion: a player's personal data can be erased while the books keep every row

Revision ID: 0010_account_deletion
Revises: 0009_trading_halt
Create Date: 2026-11-30 10:00:00.000000

``players.deleted_at`` marks an account deleted (its names are then placeholders, see
martingale/account_deletion.py); a CHECK keeps such an account from ever holding a password; the
auth events may record ``account_deleted``.
"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '0010_account_deletion'
down_revision = '0009_trading_halt'
branch_labels = None
depends_on = None

OLD_KINDS = ("registered", "login_ok", "login_failed", "login_locked", "logout",
             "password_changed", "refresh_reuse")
NEW_KINDS = (*OLD_KINDS, "account_deleted")


def _kinds(kinds):
    return "kind IN (" + ", ".join(f"'{k}'" for k in kinds) + ")"


def upgrade():
    with op.batch_alter_table('players', schema=None) as batch_op:
        batch_op.add_column(sa.Column('deleted_at', sa.DateTime(), nullable=True))
        batch_op.create_check_constraint(
            op.f('ck_players_deleted_cannot_log_in'),
            "deleted_at IS NULL OR password_hash IS NULL",
        )
    with op.batch_alter_table('auth_events', schema=None) as batch_op:
        batch_op.drop_constraint(op.f('ck_auth_events_kind_known'), type_='check')
        batch_op.create_check_constraint(op.f('ck_auth_events_kind_known'), _kinds(NEW_KINDS))


def downgrade():
    op.execute("DELETE FROM auth_events WHERE kind = 'account_deleted'")
    with op.batch_alter_table('auth_events', schema=None) as batch_op:
        batch_op.drop_constraint(op.f('ck_auth_events_kind_known'), type_='check')
        batch_op.create_check_constraint(op.f('ck_auth_events_kind_known'), _kinds(OLD_KINDS))
    with op.batch_alter_table('players', schema=None) as batch_op:
        batch_op.drop_constraint(op.f('ck_players_deleted_cannot_log_in'), type_='check')
        batch_op.drop_column('deleted_at')
