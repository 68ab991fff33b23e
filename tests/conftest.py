"""Shared fixtures: the fake RA server (tests/fakes) for every test that wants it."""

pytest_plugins = ["tests.fakes.fixtures", "tests.fakes.bot_harness"]
