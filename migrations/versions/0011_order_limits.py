"""order limits: mg_trade takes a limit price, and refuses an amount that buys nothing

Revision ID: 0011_order_limits
Revises: 0010_account_deletion
Create Date: 2026-12-05 03:30:00

A new last parameter, ``p_limit_price`` (price atoms; NULL: any price): a buy whose tick price is
above it, or a sell whose price is below it, answers ``price_moved`` and writes nothing. A buy sized
in dollars arrives as the quantity Python computed at the trade's price; quantity 0 (the amount buys
not one atom) answers ``amount_too_small``. Both checks come after the key lookup, so a retry of a
key that executed replays, however far the price has moved since. The function is 0006's with
those fragments added.
"""

from importlib.util import module_from_spec, spec_from_file_location
from pathlib import Path

from alembic import op


# revision identifiers, used by Alembic.
revision = "0011_order_limits"
down_revision = "0010_account_deletion"
branch_labels = None
depends_on = None

OLD_SIGNATURE = (
    "mg_trade(integer, varchar, timestamp, varchar, varchar, bigint, varchar, varchar, integer,"
    " integer, bigint, bigint)"
)
NEW_SIGNATURE = OLD_SIGNATURE[:-1] + ", bigint)"


def _display_name_function() -> str:
    """0006's mg_trade, the text the database was given (a revision is never edited after release)."""
    path = Path(__file__).with_name("0006_display_names.py")
    spec = spec_from_file_location("martingale_migration_0006", path)
    module = module_from_spec(spec)
    spec.loader.exec_module(module)
    return module._display_name_function()


def _limit_function() -> str:
    old = _display_name_function()
    swaps = (
        (
            "p_price bigint, p_value bigint,\n",
            "p_price bigint, p_value bigint, p_limit_price bigint,\n",
        ),
        (
            """            o_status := 'asset_not_tradable';
            RETURN;
        END IF;
""",
            """            o_status := 'asset_not_tradable';
            RETURN;
        END IF;
        IF p_quantity <= 0 THEN
            o_status := 'amount_too_small';
            RETURN;
        END IF;
        -- a buy's limit is its highest price, a sell's its lowest
        IF (p_side = 'buy' AND p_price > p_limit_price)
           OR (p_side <> 'buy' AND p_price < p_limit_price) THEN
            o_status := 'price_moved';
            RETURN;
        END IF;
""",
        ),
    )
    for before, after in swaps:
        # each fragment exactly once, or this is not the function it was written against
        assert old.count(before) == 1, before
        old = old.replace(before, after)
    return old


def upgrade():
    if op.get_bind().dialect.name == "postgresql":
        op.execute(f"DROP FUNCTION {OLD_SIGNATURE}")
        op.execute(_limit_function())


def downgrade():
    if op.get_bind().dialect.name == "postgresql":
        op.execute(f"DROP FUNCTION {NEW_SIGNATURE}")
        op.execute(_display_name_function())
