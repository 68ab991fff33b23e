"""What the commands and the posters ask for: RA's answers cached and coalesced (ra.py, shared
through Redis by shared_cache.py), boards and challenge standings, members and their links,
game sets, the one resolver of `games` options, RA's catalogue and its title search, per-guild
command budgets and the picture worker."""
