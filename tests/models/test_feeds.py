"""Which awards a feed takes (its kinds and hardcore_only; the games filter is resolved
elsewhere)."""

from __future__ import annotations

from datetime import UTC, datetime

from bot.models.awards import AwardKind
from bot.models.feeds import AOTW, Feed

T0 = datetime(2025, 3, 1, tzinfo=UTC)


def feed(*, masteries: bool, beaten: bool, aotw: bool, hardcore_only: bool) -> Feed:
    return Feed(1, 2, masteries, beaten, aotw, hardcore_only, None, T0, 3, None, None, None)


def test_masteries_take_mastered_and_completed_and_beaten_takes_both_modes() -> None:
    masteries = feed(masteries=True, beaten=False, aotw=False, hardcore_only=False)
    assert masteries.takes(AwardKind.MASTERED, True)
    assert masteries.takes(AwardKind.COMPLETED.value, False)
    assert not masteries.takes(AwardKind.BEATEN_HARDCORE, True)
    assert not masteries.takes(AOTW, True)
    beaten = feed(masteries=False, beaten=True, aotw=False, hardcore_only=False)
    assert beaten.takes(AwardKind.BEATEN_HARDCORE, True)
    assert beaten.takes(AwardKind.BEATEN_SOFTCORE, False)
    assert not beaten.takes(AwardKind.MASTERED, True)


def test_hardcore_only_applies_to_every_kind_the_aotw_included() -> None:
    hardcore = feed(masteries=True, beaten=True, aotw=True, hardcore_only=True)
    assert hardcore.takes(AwardKind.MASTERED, True)
    assert not hardcore.takes(AwardKind.COMPLETED, False)
    assert not hardcore.takes(AwardKind.BEATEN_SOFTCORE, False)
    assert hardcore.takes(AOTW, True) and not hardcore.takes(AOTW, False)


def test_the_aotw_and_an_unknown_kind() -> None:
    everything = feed(masteries=True, beaten=True, aotw=True, hardcore_only=False)
    assert everything.takes(AOTW, False)
    assert not everything.takes("participated", True)
    assert not feed(masteries=True, beaten=True, aotw=False, hardcore_only=False).takes(AOTW, True)
