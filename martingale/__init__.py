"""Martingale: a realtime play-money trading game with provably balanced books."""

from .app import create_app

__all__ = ["create_app"]
