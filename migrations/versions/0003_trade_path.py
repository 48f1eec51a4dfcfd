"""trade path: one market order in one round trip (PostgreSQL function mg_trade)

The function does what trading.execute_trade did statement by statement, in the same order and
under the same locks, and returns everything the reply and the pushes need, so a trade is one
round trip and nothing is read after its commit. Its SQLite twin is martingale/trade_store.py
(``_sqlite_trade``); the test suite runs every trade test on both. Python computes the tick, the
price and the value (cost rounded up, proceeds down) before the call, from the asset's immutable
fields; the function re-checks under its shared lock that the asset is live and the one Python
priced, that the tick is the clock's tick for that asset and lies before its end.

Statuses: ok, replayed (the stored trade of this key), or a refusal: session_ended,
unknown_player, duplicate_request, unknown_asset, asset_expired, stale_asset, tick_mismatch,
asset_not_tradable, trade_value_too_large, insufficient_funds, insufficient_holdings. A refusal
writes nothing (every check precedes the first write); a CHECK violation raises and the whole
statement rolls back.

Revision ID: 0003_trade_path
Revises: 0002
Create Date: 2026-11-29 18:00:00

"""
from alembic import op


revision = '0003_trade_path'
down_revision = '0002'
branch_labels = None
depends_on = None

# money.MAX_TRADE_VALUE (10**10 dollars in micro-dollars), as the CHECKs embed money.MAX_CASH
MAX_TRADE_VALUE = 10**16

FUNCTION = f"""
CREATE FUNCTION mg_trade(
    p_player_id integer, p_session_id varchar, p_now timestamp,
    p_symbol varchar, p_side varchar, p_quantity bigint, p_key varchar, p_fingerprint varchar,
    p_asset_id integer, p_tick integer, p_price bigint, p_value bigint,
    OUT o_status text,
    OUT o_trade_id integer, OUT o_asset_id integer, OUT o_symbol varchar, OUT o_side varchar,
    OUT o_quantity bigint, OUT o_price bigint, OUT o_total bigint, OUT o_realized_pnl bigint,
    OUT o_tick integer, OUT o_executed_at timestamp,
    OUT o_username varchar, OUT o_cash bigint, OUT o_granted bigint, OUT o_player_realized bigint,
    OUT o_holding_assets integer[], OUT o_holding_quantities bigint[], OUT o_holding_costs bigint[]
) LANGUAGE plpgsql AS $fn$
DECLARE
    v_asset_id integer;
    v_born_at timestamp;
    v_tick_us bigint;
    v_end_tick integer;
    v_worthless bigint;
    v_request_hash varchar;
    v_held bigint;
    v_basis bigint;
    v_released bigint;
    v_cash_delta bigint;
    v_units_delta bigint;
    v_entry integer;
    v_elapsed_us bigint;
    v_tick bigint;
BEGIN
    -- the login session the caller's token names: a revocation committed before now refuses
    IF p_session_id IS NOT NULL AND NOT EXISTS (
        SELECT 1 FROM auth_sessions s
         WHERE s.id = p_session_id AND s.player_id = p_player_id
           AND s.revoked_at IS NULL AND s.expires_at > p_now
    ) THEN
        o_status := 'session_ended';
        RETURN;
    END IF;

    -- lock order everywhere: asset (shared: settlement's flip waits for us), player, holding
    SELECT a.id, a.born_at, a.tick_us, a.end_tick, a.worthless_price
      INTO v_asset_id, v_born_at, v_tick_us, v_end_tick, v_worthless
      FROM assets a WHERE a.symbol = p_symbol AND a.status = 'live'
       FOR SHARE;

    SELECT p.username, p.cash, p.granted, p.realized_pnl
      INTO o_username, o_cash, o_granted, o_player_realized
      FROM players p WHERE p.id = p_player_id
       FOR UPDATE;
    IF NOT FOUND THEN
        o_status := 'unknown_player';
        RETURN;
    END IF;

    -- the same key again: the same request replays, another is refused
    SELECT t.id, t.asset_id, a.symbol, t.side, t.quantity, t.price, t.total, t.realized_pnl,
           t.tick, t.executed_at, t.request_hash
      INTO o_trade_id, o_asset_id, o_symbol, o_side, o_quantity, o_price, o_total,
           o_realized_pnl, o_tick, o_executed_at, v_request_hash
      FROM trades t JOIN assets a ON a.id = t.asset_id
     WHERE t.player_id = p_player_id AND t.idempotency_key = p_key;
    IF FOUND THEN
        IF v_request_hash <> p_fingerprint THEN
            o_status := 'duplicate_request';
            RETURN;
        END IF;
        o_status := 'replayed';
    ELSE
        IF v_asset_id IS NULL THEN
            o_status := CASE WHEN EXISTS (SELECT 1 FROM assets a WHERE a.symbol = p_symbol)
                             THEN 'asset_expired' ELSE 'unknown_asset' END;
            RETURN;
        END IF;
        IF p_asset_id IS DISTINCT FROM v_asset_id THEN
            o_status := 'stale_asset';
            RETURN;
        END IF;
        -- integer arithmetic only: microseconds since birth, floor-divided by the tick length
        v_elapsed_us := (EXTRACT(EPOCH FROM p_now - v_born_at) * 1000000)::bigint;
        v_tick := CASE WHEN v_elapsed_us >= 0 THEN v_elapsed_us / v_tick_us
                       ELSE -((v_tick_us - 1 - v_elapsed_us) / v_tick_us) END;
        IF p_tick <> v_tick THEN
            o_status := 'tick_mismatch';
            RETURN;
        END IF;
        IF p_tick < 0 OR p_tick >= v_end_tick OR p_price < v_worthless THEN
            o_status := 'asset_not_tradable';
            RETURN;
        END IF;

        IF p_side = 'buy' THEN
            IF p_value > {MAX_TRADE_VALUE} THEN
                o_status := 'trade_value_too_large';
                RETURN;
            END IF;
            IF p_value > o_cash THEN
                o_status := 'insufficient_funds';
                RETURN;
            END IF;
            -- guarded: even without the row lock this can never take cash below zero
            UPDATE players SET cash = cash - p_value
             WHERE id = p_player_id AND cash >= p_value
            RETURNING cash INTO o_cash;
            IF NOT FOUND THEN
                o_status := 'insufficient_funds';
                RETURN;
            END IF;
            INSERT INTO holdings AS h (player_id, asset_id, quantity, cost_basis)
            VALUES (p_player_id, v_asset_id, p_quantity, p_value)
            ON CONFLICT (player_id, asset_id) DO UPDATE
               SET quantity = h.quantity + EXCLUDED.quantity,
                   cost_basis = h.cost_basis + EXCLUDED.cost_basis;
            v_cash_delta := -p_value;
            v_units_delta := p_quantity;
            o_realized_pnl := NULL;
        ELSE
            SELECT h.quantity, h.cost_basis INTO v_held, v_basis
              FROM holdings h WHERE h.player_id = p_player_id AND h.asset_id = v_asset_id
               FOR UPDATE;
            IF NOT FOUND OR v_held < p_quantity THEN
                o_status := 'insufficient_holdings';
                RETURN;
            END IF;
            IF p_value > {MAX_TRADE_VALUE} THEN
                o_status := 'trade_value_too_large';
                RETURN;
            END IF;
            -- all units release the whole basis; a part, its share rounded to nearest, ties up
            v_released := CASE WHEN p_quantity = v_held THEN v_basis
                               ELSE div(2 * v_basis::numeric * p_quantity + v_held,
                                        2 * v_held::numeric) END;
            UPDATE holdings SET quantity = quantity - p_quantity, cost_basis = cost_basis - v_released
             WHERE player_id = p_player_id AND asset_id = v_asset_id;
            o_realized_pnl := p_value - v_released;
            UPDATE players SET cash = cash + p_value, realized_pnl = realized_pnl + o_realized_pnl
             WHERE id = p_player_id
            RETURNING cash, realized_pnl INTO o_cash, o_player_realized;
            v_cash_delta := p_value;
            v_units_delta := -p_quantity;
        END IF;

        -- one journal entry, balanced by construction: player and house, cash and units
        INSERT INTO journal_entries (kind, player_id, asset_id, created_at)
        VALUES (p_side, p_player_id, v_asset_id, p_now)
        RETURNING id INTO v_entry;
        INSERT INTO postings (entry_id, player_id, asset_id, amount)
        SELECT v_entry, leg.player_id, leg.asset_id, leg.amount
          FROM (VALUES (1, p_player_id, NULL::integer, v_cash_delta),
                       (2, NULL::integer, NULL::integer, -v_cash_delta),
                       (3, p_player_id, v_asset_id, v_units_delta),
                       (4, NULL::integer, v_asset_id, -v_units_delta))
               AS leg(n, player_id, asset_id, amount)
         WHERE leg.amount <> 0
         ORDER BY leg.n;
        INSERT INTO trades (player_id, asset_id, side, quantity, price, total, realized_pnl, tick,
                            executed_at, idempotency_key, request_hash, entry_id)
        VALUES (p_player_id, v_asset_id, p_side, p_quantity, p_price, p_value, o_realized_pnl,
                p_tick, p_now, p_key, p_fingerprint, v_entry)
        RETURNING id INTO o_trade_id;
        o_asset_id := v_asset_id;
        o_symbol := p_symbol;
        o_side := p_side;
        o_quantity := p_quantity;
        o_price := p_price;
        o_total := p_value;
        o_tick := p_tick;
        o_executed_at := p_now;
        o_status := 'ok';
    END IF;

    -- the account the reply and the push show: every open holding of a live asset
    SELECT array_agg(h.asset_id ORDER BY h.asset_id), array_agg(h.quantity ORDER BY h.asset_id),
           array_agg(h.cost_basis ORDER BY h.asset_id)
      INTO o_holding_assets, o_holding_quantities, o_holding_costs
      FROM holdings h JOIN assets a ON a.id = h.asset_id
     WHERE h.player_id = p_player_id AND h.quantity > 0 AND a.status = 'live';
END
$fn$
"""

SIGNATURE = (
    "mg_trade(integer, varchar, timestamp, varchar, varchar, bigint, varchar, varchar, integer,"
    " integer, bigint, bigint)"
)


def upgrade():
    if op.get_bind().dialect.name == "postgresql":
        op.execute(FUNCTION)


def downgrade():
    if op.get_bind().dialect.name == "postgresql":
        op.execute(f"DROP FUNCTION IF EXISTS {SIGNATURE}")
