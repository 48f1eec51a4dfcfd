"""display names: a public name for every player, apart from the username they log in with

Revision ID: 0006_display_names
Revises: 0005_engine_term
Create Date: 2026-11-29 21:00:00

Every existing player gets a generated name (Trader-XXXXX, nothing taken from the username) and
the skeletons of both names (martingale.names.skeleton). The leaderboard read model held usernames:
its rows now hold the display names. mg_trade answered the trader's username for the tape: it now
answers the display name (the function is 0003's with that one column changed).
"""
from importlib.util import module_from_spec, spec_from_file_location
from pathlib import Path

from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '0006_display_names'
down_revision = '0005_engine_term'
branch_labels = None
depends_on = None

SKELETON_LENGTH = 72
MG_TRADE = (
    "mg_trade(integer, varchar, timestamp, varchar, varchar, bigint, varchar, varchar, integer,"
    " integer, bigint, bigint)"
)


def _trade_path_function() -> str:
    """0003's mg_trade, the text the database was given (a revision is never edited after release)."""
    path = Path(__file__).with_name('0003_trade_path.py')
    spec = spec_from_file_location('martingale_migration_0003', path)
    module = module_from_spec(spec)
    spec.loader.exec_module(module)
    return module.FUNCTION


def _display_name_function() -> str:
    old = _trade_path_function()
    swaps = (
        ('OUT o_username varchar', 'OUT o_display_name varchar'),
        ('SELECT p.username, p.cash', 'SELECT p.display_name, p.cash'),
        ('INTO o_username, o_cash', 'INTO o_display_name, o_cash'),
    )
    for before, after in swaps:
        # each fragment exactly once, or this is not the function it was written against
        assert old.count(before) == 1, before
        old = old.replace(before, after)
    return old


def _backfill(bind) -> None:
    # the app's own skeleton: a copy here could disagree with what the app later compares
    from martingale.names import generated_name, skeleton

    players = bind.execute(sa.text('SELECT id, username FROM players ORDER BY id')).all()
    login_skeletons = {skeleton(username) for _, username in players}
    shown: set[str] = set()
    rows = []
    for player_id, username in players:
        name = generated_name()
        while skeleton(name) in shown or skeleton(name) in login_skeletons:
            name = generated_name()
        shown.add(skeleton(name))
        rows.append({
            'id': player_id, 'username_skeleton': skeleton(username), 'display_name': name,
            'display_skeleton': skeleton(name),
        })
    if rows:
        bind.execute(
            sa.text(
                'UPDATE players SET username_skeleton = :username_skeleton,'
                ' display_name = :display_name, display_skeleton = :display_skeleton'
                ' WHERE id = :id'
            ),
            rows,
        )
    # the read model showed usernames until the next ranking pass: show the new names at once
    bind.execute(sa.text(
        'UPDATE leaderboard_ranks SET name = (SELECT p.display_name FROM players p'
        ' WHERE p.id = leaderboard_ranks.player_id)'
    ))


def upgrade():
    bind = op.get_bind()
    with op.batch_alter_table('players', schema=None) as batch_op:
        batch_op.add_column(sa.Column('username_skeleton', sa.String(length=SKELETON_LENGTH), nullable=True))
        batch_op.add_column(sa.Column('display_name', sa.String(length=24), nullable=True))
        batch_op.add_column(sa.Column('display_skeleton', sa.String(length=SKELETON_LENGTH), nullable=True))
    _backfill(bind)
    with op.batch_alter_table('players', schema=None) as batch_op:
        batch_op.alter_column('username_skeleton', existing_type=sa.String(length=SKELETON_LENGTH), nullable=False)
        batch_op.alter_column('display_name', existing_type=sa.String(length=24), nullable=False)
        batch_op.alter_column('display_skeleton', existing_type=sa.String(length=SKELETON_LENGTH), nullable=False)
        batch_op.create_index(batch_op.f('ix_players_username_skeleton'), ['username_skeleton'], unique=False)
        batch_op.create_unique_constraint(batch_op.f('uq_players_display_name'), ['display_name'])
        batch_op.create_unique_constraint(batch_op.f('uq_players_display_skeleton'), ['display_skeleton'])

    with op.batch_alter_table('leaderboard_ranks', schema=None) as batch_op:
        batch_op.alter_column('name', existing_type=sa.String(length=20), type_=sa.String(length=24),
                              existing_nullable=False)

    if bind.dialect.name == 'postgresql':
        # the OUT columns change: CREATE OR REPLACE cannot change a function's result type
        op.execute(f'DROP FUNCTION {MG_TRADE}')
        op.execute(_display_name_function())


def downgrade():
    bind = op.get_bind()
    if bind.dialect.name == 'postgresql':
        op.execute(f'DROP FUNCTION {MG_TRADE}')
        op.execute(_trade_path_function())
    # usernames back in the read model: it is rebuilt by the next pass anyway
    op.execute(sa.text('DELETE FROM leaderboard_ranks'))
    with op.batch_alter_table('leaderboard_ranks', schema=None) as batch_op:
        batch_op.alter_column('name', existing_type=sa.String(length=24), type_=sa.String(length=20),
                              existing_nullable=False)

    with op.batch_alter_table('players', schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f('uq_players_display_skeleton'), type_='unique')
        batch_op.drop_constraint(batch_op.f('uq_players_display_name'), type_='unique')
        batch_op.drop_index(batch_op.f('ix_players_username_skeleton'))
        batch_op.drop_column('display_skeleton')
        batch_op.drop_column('display_name')
        batch_op.drop_column('username_skeleton')
