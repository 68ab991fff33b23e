"""Shared fixtures: the fake RA, databases on both backends, and the real bot on fakes."""

pytest_plugins = [
    "tests.fakes.fixtures",
    "tests.fakes.databases",
    "tests.fakes.bot_harness",
    "tests.fakes.redis_server",
    "tests.fakes.pg_cluster",
]
