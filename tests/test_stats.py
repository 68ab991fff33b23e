"""Stats: the last hour's RA requests by kind, turns delayed and refused."""

from __future__ import annotations

from bot.stats import DELAYED_SECONDS, WINDOW_SECONDS, Stats


def test_the_budget_counts_split_and_age_out() -> None:
    now = [0.0]
    stats = Stats(clock=lambda: now[0])
    stats.ra_request(True)
    stats.ra_request(False, scheduled=True)
    stats.ra_turn(DELAYED_SECONDS - 0.01)
    stats.ra_turn(DELAYED_SECONDS)
    stats.ra_refused()
    snap = stats.snapshot()
    assert (snap.ra_requests, snap.ra_errors) == (2, 1)
    assert (snap.ra_scheduled, snap.ra_interactive) == (1, 1)
    assert (snap.ra_delayed, snap.ra_refused) == (1, 1)
    now[0] += WINDOW_SECONDS + 1
    snap = stats.snapshot()
    assert (snap.ra_requests, snap.ra_scheduled, snap.ra_delayed, snap.ra_refused) == (0, 0, 0, 0)
