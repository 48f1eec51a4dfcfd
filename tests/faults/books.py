"""After a fault: the books reconcile, and every acknowledged trade is in them exactly once."""

from __future__ import annotations

from dataclasses import dataclass

import psycopg

from .load import Traders
from .processes import plain_url, run_flask


@dataclass
class BooksReport:
    trades: int
    acknowledged: int
    refused: int
    unanswered: int
    lost_replies_replayed: int
    failed_attempts: int
    reconcile: str

    def __str__(self) -> str:
        return (
            f"{self.trades} trades booked, {self.acknowledged} acknowledged, {self.refused} "
            f"refused, {self.unanswered} never answered, {self.failed_attempts} attempts without "
            f"an answer, {self.lost_replies_replayed} lost replies answered by a replay"
        )


def assert_books(env: dict[str, str], database_url: str, *traders: Traders) -> BooksReport:
    """``flask reconcile`` passes; no trade lacks its journal entry or the other way round; each
    acknowledged order is booked once under its key with the id the client was given; nothing
    refused was booked; nothing was booked that no client sent."""
    result = run_flask(env, "reconcile")
    assert result.returncode == 0, f"reconcile failed:\n{result.stdout}{result.stderr}"
    with psycopg.connect(plain_url(database_url)) as conn:
        booked = {
            (player, key): trade_id
            for trade_id, player, key in conn.execute(
                "SELECT id, player_id, idempotency_key FROM trades"
            )
        }
        partial = conn.execute(
            "SELECT (SELECT count(*) FROM trades t WHERE NOT EXISTS"
            "         (SELECT 1 FROM postings p WHERE p.entry_id = t.entry_id)),"
            "       (SELECT count(*) FROM journal_entries e WHERE e.kind IN ('buy', 'sell')"
            "         AND NOT EXISTS (SELECT 1 FROM trades t WHERE t.entry_id = e.id))"
        ).fetchone()
    assert partial == (0, 0), f"trades without postings, trade entries without a trade: {partial}"
    total = len(booked)
    acknowledged: dict[tuple[int, str], int] = {}
    attempted: set[tuple[int, str]] = set()
    refused: set[tuple[int, str]] = set()
    for t in traders:
        acknowledged |= t.acknowledged()
        attempted |= t.attempted()
        refused |= t.refused()
    wrong = {k: (v, booked.get(k)) for k, v in acknowledged.items() if booked.get(k) != v}
    assert not wrong, f"acknowledged (player, key): (trade id told, trade id booked) {wrong}"
    assert not refused & booked.keys(), f"refused but booked: {sorted(refused & booked.keys())}"
    unknown = booked.keys() - attempted
    assert not unknown, f"booked but never sent: {sorted(unknown)[:10]}"
    return BooksReport(
        trades=total,
        acknowledged=len(acknowledged),
        refused=len(refused),
        unanswered=sum(len(t.unanswered()) for t in traders),
        lost_replies_replayed=sum(t.lost_replies_replayed() for t in traders),
        failed_attempts=sum(t.failures() for t in traders),
        reconcile=result.stdout,
    )
