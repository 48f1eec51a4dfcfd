"""The models and the migrations describe one schema, on SQLite and on PostgreSQL.

On a freshly migrated database, autogenerate (what ``flask db migrate`` would write) must find
nothing to do: no table, column, type, nullability, server default, index, unique constraint or
foreign key of the models is missing from the migrations, or the other way round. Autogenerate does
not look at CHECK constraints or at the predicates of partial indexes, and those carry the books'
invariants, so they are compared here too: by name and expression on SQLite, by name on PostgreSQL.
The negative controls change a copy of the models and must be caught.
"""

from __future__ import annotations

from collections.abc import Callable

import pytest
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import BigInteger, CheckConstraint, Column, Engine, MetaData, String, inspect

from martingale.extensions import NAMING, db
from martingale.game import game_of

# compare_type is autogenerate's default, stated so that nobody turns it off by accident
COMPARE = {"compare_type": True, "compare_server_default": True}


def engine_of(app) -> Engine:
    return game_of(app).database


def autogenerate(engine: Engine, metadata: MetaData) -> list:
    """The operations a new migration would need to bring the database to ``metadata``."""
    with engine.connect() as conn:
        return compare_metadata(MigrationContext.configure(conn, opts=COMPARE), metadata)


def guard(kind: str, name: str, sql: object, dialect: str) -> str:
    # PostgreSQL keeps its own rewriting of an expression (casts, parentheses), SQLite the text
    # as written: compare the expressions where they can be compared
    return f"{kind} {name}: {sql}" if dialect == "sqlite" else f"{kind} {name}"


def guards_in_models(metadata: MetaData, dialect: str) -> dict[str, set[str]]:
    """Per table: its CHECK constraints and the predicates of its partial indexes."""
    return {
        table.name: {
            guard("CHECK", c.name, c.sqltext, dialect)
            for c in table.constraints
            if isinstance(c, CheckConstraint)
        }
        | {
            guard("WHERE", i.name, where, dialect)
            for i in table.indexes
            if (where := i.dialect_kwargs.get(f"{dialect}_where")) is not None
        }
        for table in metadata.sorted_tables
    }


def guards_in_database(engine: Engine) -> dict[str, set[str]]:
    """The same, reflected from the migrated database."""
    dialect = engine.dialect.name
    with engine.connect() as conn:
        schema = inspect(conn)
        return {
            table: {
                guard("CHECK", c["name"], c["sqltext"], dialect)
                for c in schema.get_check_constraints(table)
            }
            | {
                guard("WHERE", i["name"], where, dialect)
                for i in schema.get_indexes(table)
                if (where := i.get("dialect_options", {}).get(f"{dialect}_where")) is not None
            }
            for table in schema.get_table_names()
            if table != "alembic_version"
        }


def test_autogenerate_finds_nothing_to_migrate(app):
    assert autogenerate(engine_of(app), db.metadata) == []


def test_check_constraints_and_partial_indexes_match_the_models(app):
    engine = engine_of(app)
    in_models = guards_in_models(db.metadata, engine.dialect.name)
    # not vacuous: both kinds are seen on the models' side
    kinds = {g.split()[0] for g in in_models["assets"]}
    assert kinds == {"CHECK", "WHERE"}
    assert guards_in_database(engine) == in_models


# -- negative controls: a model changed without a migration is caught -------------------------


def models_copy() -> MetaData:
    metadata = MetaData(naming_convention=NAMING)
    for table in db.metadata.sorted_tables:
        table.to_metadata(metadata)
    return metadata


def add_column(metadata: MetaData) -> None:
    metadata.tables["players"].append_column(Column("nickname", String(20)))


def widen_column(metadata: MetaData) -> None:
    metadata.tables["price_ticks"].c.tick.type = BigInteger()


def allow_null(metadata: MetaData) -> None:
    metadata.tables["trades"].c.idempotency_key.nullable = True


def drop_unique(metadata: MetaData) -> None:
    table = metadata.tables["settlements"]
    (unique,) = [c for c in table.constraints if c.name == "uq_settlements_player_asset"]
    table.constraints.remove(unique)


@pytest.mark.parametrize(
    ("change", "operation"),
    [
        (add_column, "add_column"),
        (widen_column, "modify_type"),
        (allow_null, "modify_nullable"),
        (drop_unique, "remove_constraint"),
    ],
)
def test_negative_control_autogenerate_sees_a_model_change_without_a_migration(
    app, change: Callable[[MetaData], None], operation: str
):
    metadata = models_copy()
    change(metadata)
    diff = autogenerate(engine_of(app), metadata)
    # one change, one operation: a table-level op is a tuple, column-level ones come in a list
    (op,) = diff
    assert (op[0] if isinstance(op, tuple) else op[0][0]) == operation, diff


def test_negative_control_a_check_constraint_without_a_migration_is_found(app):
    engine = engine_of(app)
    metadata = models_copy()
    metadata.tables["holdings"].append_constraint(CheckConstraint("quantity < 5", name="small"))
    dialect = engine.dialect.name
    missing = (
        guards_in_models(metadata, dialect)["holdings"] - guards_in_database(engine)["holdings"]
    )
    assert missing == {guard("CHECK", "ck_holdings_small", "quantity < 5", dialect)}
    assert autogenerate(engine, metadata) == []  # why the guards are compared by hand
