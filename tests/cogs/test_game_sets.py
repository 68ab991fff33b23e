"""/gameset driven through the fake Discord's gateway, answered by the real bot and store."""

from __future__ import annotations

import asyncio
from types import SimpleNamespace
from typing import Any

import pytest

from bot import autocomplete
from bot.models.game_sets import GameSet
from tests.e2e.fake_discord import Interaction as FakeInteraction
from tests.fakes.bot_harness import Harness

ADMIN_COMMANDS = [
    ("gameset create", {"name": "Summer", "games": "1, 14402"}),
    ("gameset add", {"name": "Spring", "games": "228"}),
    ("gameset remove", {"name": "Spring", "games": "1"}),
    ("gameset delete", {"name": "Spring"}),
]


async def stored_sets(harness: Harness, guild_id: int | None = None) -> list[GameSet]:
    return await harness.bot.store.sets.for_guild(guild_id or harness.discord.guild_ids[0])


async def send(
    harness: Harness,
    command: str,
    *,
    guild_id: int | None = None,
    user_id: int | None = None,
    **options: Any,
) -> FakeInteraction:
    """Send /gameset <sub> (Harness.command takes `name` for itself: the options have one)."""
    opts = [{"name": k, "value": v} for k, v in options.items()]
    return await harness.discord.send_interaction(
        command, opts, guild_id=guild_id, user_id=user_id
    )


async def admin(harness: Harness, command: str, **options: Any) -> dict[str, Any]:
    """Run a /gameset command (as the guild's owner unless user_id says); the final answer."""
    interaction = await send(harness, command, **options)
    return await interaction.wait_final()


async def test_create_confirms_ephemerally_with_the_titles_the_bot_knows(
    harness: Harness,
) -> None:
    await harness.bot.ra.game(1)  # Sonic's title is cached; 14402's and 999999's are not
    asked = len(harness.ra.requests)

    answer = await admin(harness, "gameset create", name="  Summer   Event ", games="1, 999999 1")

    assert answer["ephemeral"]
    assert answer["content"] == (
        "Created the game set **Summer Event** with 2 games: Sonic the Hedgehog (1), 999999. "
        "Its name can now be given to any `games` option."
    )
    assert answer["allowed_mentions"] == {"parse": []}
    (created,) = await stored_sets(harness)
    assert (created.name, created.game_ids) == ("Summer Event", [1, 999999])
    assert created.created_by == harness.discord.member_id(harness.discord.guild_ids[0], 0)
    assert len(harness.ra.requests) == asked  # the set commands never ask RA


@pytest.mark.parametrize(
    ("name", "expected"),
    [
        ("   ", "Give the set a name."),
        ("x" * 33, "Set names are at most 32 characters"),
        ("**Bold** set", "Set names use letters, digits, spaces"),
        ("@everyone", "Set names use letters, digits, spaces"),
        ("<@123456789012345678>", "Set names use letters, digits, spaces"),
        ("2024", "A set name cannot be just numbers"),
    ],
)
async def test_create_refuses_bad_names_at_once(
    harness: Harness, name: str, expected: str
) -> None:
    interaction = await send(harness, "gameset create", name=name, games="1")
    answer = await interaction.wait_final()
    assert answer["source"] == "callback" and answer["ephemeral"]  # before any defer
    assert answer["content"].startswith(expected)
    assert "@everyone" not in answer["content"]
    assert await stored_sets(harness) == []


async def test_create_refuses_a_duplicate_name_whatever_its_case(harness: Harness) -> None:
    await admin(harness, "gameset create", name="Summer", games="1")
    answer = await admin(harness, "gameset create", name="SUMMER", games="14402")
    assert answer["ephemeral"]
    assert answer["content"] == (
        "This server already has a set named **SUMMER**: pick another name or use "
        "`/gameset add`."
    )
    (kept,) = await stored_sets(harness)
    assert kept.game_ids == [1]


@pytest.mark.parametrize(
    ("games", "expected", "at_once"),
    [
        # May be a set's name: looked up (after the defer), then read as a title.
        ("1, abc!", "`abc!` is not a game id", False),
        # Can be neither a set's name nor (with no catalogue yet) a title: answered at once.
        ("1 @everyone", "`1 @\u200beveryone` is not a game id", True),
        ("0", "`0` is not a valid game id", True),
        (" ".join(str(i) for i in range(1, 52)), "more than 50 games", True),
    ],
)
async def test_create_refuses_games_that_do_not_resolve(
    harness: Harness, games: str, expected: str, at_once: bool
) -> None:
    interaction = await send(harness, "gameset create", name="Summer", games=games)
    answer = await interaction.wait_final()
    assert answer["ephemeral"]
    assert (answer["source"] == "callback") is at_once
    assert expected in answer["content"]
    assert await stored_sets(harness) == []


async def test_games_may_name_another_set_but_not_a_missing_one(harness: Harness) -> None:
    await admin(harness, "gameset create", name="Spring", games="1, 14402")
    answer = await admin(harness, "gameset create", name="Summer", games="spring")
    assert answer["content"].startswith("Created the game set **Summer** with 2 games")

    answer = await admin(harness, "gameset create", name="Autumn", games="no such set")
    assert answer["ephemeral"]
    assert answer["content"].startswith("`no such set` is not a game id, a game link or one of "
                                        "this server's game sets")
    assert [s.name for s in await stored_sets(harness)] == ["Spring", "Summer"]


async def test_unknown_game_ids_are_allowed_in_a_set(harness: Harness) -> None:
    answer = await admin(harness, "gameset create", name="Mystery", games="999999, 888888")
    assert answer["content"].startswith("Created the game set **Mystery** with 2 games: 999999")
    assert harness.ra.requests == []


async def test_add_appends_and_says_what_was_there_already(harness: Harness) -> None:
    await admin(harness, "gameset create", name="Summer", games="1")
    answer = await admin(harness, "gameset add", name="summer", games="14402, 1, 228")
    assert answer["ephemeral"]
    assert answer["content"] == (
        "Added 2 games to **Summer**: 14402, 228. It has 3 games now. Already in it: 1."
    )
    (game_set,) = await stored_sets(harness)
    assert game_set.game_ids == [1, 14402, 228]


async def test_add_of_games_already_in_says_so(harness: Harness) -> None:
    await admin(harness, "gameset create", name="Summer", games="1, 2")
    answer = await admin(harness, "gameset add", name="Summer", games="2 1")
    assert answer["ephemeral"]
    assert answer["content"] == "Those games are in **Summer** already: nothing changed."


async def test_a_set_never_exceeds_the_games_a_command_takes(harness: Harness) -> None:
    await admin(harness, "gameset create", name="Big", games=" ".join(map(str, range(1, 49))))
    answer = await admin(harness, "gameset add", name="Big", games="100 101 102")
    assert answer["ephemeral"]
    assert answer["content"] == (
        "A set holds at most 50 games and **Big** would have 51: leave some out."
    )
    (game_set,) = await stored_sets(harness)
    assert len(game_set.game_ids) == 48


@pytest.mark.parametrize("command", ["gameset add", "gameset remove"])
async def test_add_and_remove_on_a_missing_set(harness: Harness, command: str) -> None:
    answer = await admin(harness, command, name="Nope_Set", games="1")
    assert answer["ephemeral"]
    assert answer["content"] == (
        "This server has no game set named **Nope\\_Set**: `/gameset list` shows its sets."
    )
    assert await stored_sets(harness) == []


async def test_remove_says_which_games_were_not_in_the_set(harness: Harness) -> None:
    await admin(harness, "gameset create", name="Summer", games="1, 14402, 228")
    answer = await admin(harness, "gameset remove", name="Summer", games="14402, 5")
    assert answer["ephemeral"]
    assert answer["content"] == (
        "Removed 1 game from **Summer**: 14402. It has 2 games now. "
        "Not in the set, so left alone: 5."
    )

    answer = await admin(harness, "gameset remove", name="Summer", games="7, 8")
    assert answer["content"] == (
        "**Summer** does not have the games 7, 8: nothing changed (`/gameset list` shows its "
        "games)."
    )
    (game_set,) = await stored_sets(harness)
    assert game_set.game_ids == [1, 228]


async def test_remove_refuses_to_empty_a_set(harness: Harness) -> None:
    await admin(harness, "gameset create", name="Summer", games="1")
    answer = await admin(harness, "gameset remove", name="Summer", games="1")
    assert answer["content"] == (
        "That would leave **Summer** empty: delete it with `/gameset delete` instead."
    )
    assert len(await stored_sets(harness)) == 1


async def test_delete_and_delete_of_a_missing_set(harness: Harness) -> None:
    await admin(harness, "gameset create", name="Summer Event", games="1")
    answer = await admin(harness, "gameset delete", name="summer EVENT")
    assert answer["ephemeral"]
    assert answer["content"] == "Deleted the game set **Summer Event**."
    assert await stored_sets(harness) == []

    answer = await admin(harness, "gameset delete", name="Summer Event")
    assert answer["ephemeral"]
    assert answer["content"] == (
        "This server has no game set named **Summer Event**: `/gameset list` shows its sets."
    )


async def test_list_is_public_and_open_to_everyone(harness: Harness) -> None:
    guild = harness.discord.guild_ids[0]
    await harness.bot.ra.game(14402)
    await admin(harness, "gameset create", name="Summer", games="14402, 1")
    await admin(harness, "gameset create", name="autumn", games="228")
    await admin(harness, "gameset create", name="Elsewhere", games="5",
                guild_id=harness.discord.guild_ids[1])

    member = harness.discord.member_id(guild, 1)
    answer = await (await send(harness, "gameset list", user_id=member)).wait_final()

    assert not answer["ephemeral"]
    (embed,) = answer["embeds"]
    assert embed["title"] == "Game sets"
    assert embed["description"] == (
        "**autumn** · 1 game: 228\n**Summer** · 2 games: Dragon Quest III (14402), 1"
    )
    assert answer["allowed_mentions"] == {"parse": []}


async def test_list_with_no_sets(harness: Harness) -> None:
    answer = await (await send(harness, "gameset list")).wait_final()
    assert not answer["ephemeral"]
    assert "no game sets yet" in answer["embeds"][0]["description"]


@pytest.mark.parametrize(("command", "options"), ADMIN_COMMANDS)
async def test_members_without_manage_server_are_refused_and_nothing_changes(
    harness: Harness, command: str, options: dict[str, str]
) -> None:
    guild = harness.discord.guild_ids[0]
    await admin(harness, "gameset create", name="Spring", games="1, 14402")
    before = await stored_sets(harness)

    member = harness.discord.member_id(guild, 1)
    interaction = await send(harness, command, user_id=member, **options)
    answer = await interaction.wait_final()

    assert answer["source"] == "callback" and answer["ephemeral"]
    assert answer["content"] == "You need the Manage Server permission to do that."
    assert await stored_sets(harness) == before


async def test_the_commands_are_guild_only_and_list_is_not_hidden(harness: Harness) -> None:
    synced = {c["name"]: c for c in harness.discord.synced_global or []}
    gameset = synced["gameset"]
    assert gameset["dm_permission"] is False  # guilds only
    assert gameset.get("default_member_permissions") is None  # /gameset list is for everyone
    subcommands = {o["name"]: o for o in gameset["options"]}
    assert set(subcommands) == {"create", "add", "remove", "delete", "list"}
    assert [o["name"] for o in subcommands["create"]["options"]] == ["name", "games"]
    assert [o["name"] for o in subcommands["delete"]["options"]] == ["name"]
    autocompleted = {
        (sub, o["name"]) for sub, c in subcommands.items() for o in c.get("options", [])
        if o.get("autocomplete")
    }
    assert autocompleted == {
        ("create", "games"), ("add", "name"), ("add", "games"), ("remove", "name"),
        ("remove", "games"), ("delete", "name"),
    }


# -- autocomplete ----------------------------------------------------------------------------------


async def send_autocomplete(
    harness: Harness, command: str, focused: str, monkeypatch: pytest.MonkeyPatch, **options: str
) -> list[dict[str, Any]]:
    """An APPLICATION_COMMAND_AUTOCOMPLETE interaction through the gateway; the choices sent."""
    fake = harness.discord
    captured: list[tuple[int, str, dict[str, Any]]] = []
    dispatch = fake._gw.dispatch

    async def capture(guild_id: int, event: str, data: dict[str, Any]) -> None:
        captured.append((guild_id, event, data))

    with monkeypatch.context() as patch:
        patch.setattr(fake._gw, "dispatch", capture)
        interaction = await send(harness, command, **options)
    ((guild_id, event, payload),) = captured
    payload["type"] = 4
    for option in payload["data"]["options"][0]["options"]:
        if option["name"] == focused:
            option["focused"] = True
    await dispatch(guild_id, event, payload)
    response = await interaction.wait_response()
    assert response["type"] == 8
    choices: list[dict[str, Any]] = response["data"]["choices"]
    return choices


async def test_name_autocomplete_through_discord(
    harness: Harness, monkeypatch: pytest.MonkeyPatch
) -> None:
    for name in ("Summer", "Spring", "Autumn Summer"):
        await admin(harness, "gameset create", name=name, games="1, 14402")
    choices = await send_autocomplete(
        harness, "gameset delete", "name", monkeypatch, name="sum"
    )
    assert choices == [
        {"name": "Summer (2 games)", "value": "Summer"},
        {"name": "Autumn Summer (2 games)", "value": "Autumn Summer"},
    ]


async def test_games_autocomplete_through_discord(
    harness: Harness, monkeypatch: pytest.MonkeyPatch
) -> None:
    await admin(harness, "gameset create", name="Spring", games="228")
    choices = await send_autocomplete(
        harness, "gameset add", "games", monkeypatch, name="Summer", games="spr"
    )
    assert choices == [{"name": "Set Spring (1 game)", "value": "Spring"}]


def fake_interaction(harness: Harness, guild_id: int | None = 0) -> Any:
    guild = harness.discord.guild_ids[0] if guild_id == 0 else guild_id
    return SimpleNamespace(client=harness.bot, guild_id=guild)


async def test_set_names_are_bounded_to_25_choices_of_100_characters(harness: Harness) -> None:
    guild = harness.discord.guild_ids[0]
    for i in range(30):
        await harness.bot.store.sets.create(guild, f"Set {i:02d}", [1], 1)
    choices = await autocomplete.set_names(fake_interaction(harness), "")
    assert len(choices) == 25
    assert [c.value for c in choices[:2]] == ["Set 00", "Set 01"]
    assert all(len(c.name) <= 100 and len(c.value) <= 100 for c in choices)
    assert len(await autocomplete.games(fake_interaction(harness), "set")) == 25


async def test_games_autocomplete_echoes_ids_with_a_cached_title_and_never_asks_ra(
    harness: Harness,
) -> None:
    await harness.bot.ra.game(14402)
    asked = len(harness.ra.requests)
    interaction = fake_interaction(harness)

    choices = await autocomplete.games(interaction, "1, 14402")
    assert [(c.name, c.value) for c in choices] == [("1, 14402 → Dragon Quest III", "1, 14402")]
    choices = await autocomplete.games(interaction, "228 https://retroachievements.org/game/1")
    assert [c.value for c in choices] == ["228 https://retroachievements.org/game/1"]
    assert await autocomplete.games(interaction, "1, " + "2, " * 60) == []  # too long to echo
    assert len(harness.ra.requests) == asked


async def test_autocomplete_never_raises(
    harness: Harness, monkeypatch: pytest.MonkeyPatch
) -> None:
    assert await autocomplete.set_names(fake_interaction(harness, None), "x") == []
    assert await autocomplete.games(fake_interaction(harness, None), "x") == []

    async def broken(guild_id: int) -> list[GameSet]:
        raise RuntimeError("database on fire")

    monkeypatch.setattr(harness.bot.game_sets, "list_sets", broken)
    assert await autocomplete.set_names(fake_interaction(harness), "x") == []
    assert await autocomplete.games(fake_interaction(harness), "x") == []

    async def slow(guild_id: int) -> list[GameSet]:
        await asyncio.sleep(60)
        return []

    monkeypatch.setattr(harness.bot.game_sets, "list_sets", slow)
    monkeypatch.setattr(autocomplete, "LOOKUP_TIMEOUT", 0.05)
    assert await autocomplete.set_names(fake_interaction(harness), "x") == []
