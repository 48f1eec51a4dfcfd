"""trading halt: the operator's kill switch, enforced by a trigger on every insert into trades

Revision ID: 0009_trading_halt
Revises: 0008_auth_events
Create Date: 2026-11-29 21:40:00.000000

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '0009_trading_halt'
down_revision = '0008_auth_events'
branch_labels = None
depends_on = None

# a trade that meets the halt aborts whole: nothing of it is written (SQLSTATE MG001 on PostgreSQL)
PG_FUNCTION = """
CREATE FUNCTION mg_refuse_while_halted() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF (SELECT trading_halted FROM market_controls WHERE id = 1) THEN
        RAISE EXCEPTION 'trading_halted' USING ERRCODE = 'MG001';
    END IF;
    RETURN NEW;
END $$
"""
PG_TRIGGER = """
CREATE TRIGGER trades_refused_while_halted BEFORE INSERT ON trades
FOR EACH ROW EXECUTE FUNCTION mg_refuse_while_halted()
"""
SQLITE_TRIGGER = """
CREATE TRIGGER trades_refused_while_halted BEFORE INSERT ON trades
WHEN (SELECT trading_halted FROM market_controls WHERE id = 1)
BEGIN SELECT RAISE(ABORT, 'trading_halted'); END
"""


def upgrade():
    op.create_table(
        'market_controls',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('trading_halted', sa.Boolean(), nullable=False),
        sa.Column('reason', sa.String(length=200), nullable=True),
        sa.Column('changed_at', sa.DateTime(), nullable=True),
        sa.CheckConstraint('id = 1', name=op.f('ck_market_controls_one_row')),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_market_controls')),
    )
    op.execute("INSERT INTO market_controls (id, trading_halted) VALUES (1, false)")
    if op.get_bind().dialect.name == 'postgresql':
        op.execute(PG_FUNCTION)
        op.execute(PG_TRIGGER)
    else:
        op.execute(SQLITE_TRIGGER)


def downgrade():
    op.execute("DROP TRIGGER IF EXISTS trades_refused_while_halted" +
               (" ON trades" if op.get_bind().dialect.name == 'postgresql' else ""))
    if op.get_bind().dialect.name == 'postgresql':
        op.execute("DROP FUNCTION IF EXISTS mg_refuse_while_halted()")
    op.drop_table('market_controls')
