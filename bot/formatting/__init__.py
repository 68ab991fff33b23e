"""Pure functions from values to what Discord shows: embeds, text within Discord's limits, and
board pictures (PNG). No I/O, no services: data in, messages out."""
