"""Proves tests/e2e/fake_discord.py with a real, unmodified, in-process discord.py client."""

from __future__ import annotations

import asyncio
import contextlib
import io
import time
from collections.abc import AsyncIterator
from typing import Any, TypeVar

import aiohttp
import discord
import pytest
import yarl
from discord import app_commands
from discord.ext import commands

from tests.e2e.fake_discord import FAKE_DISCORD_TOKEN, FakeDiscord


class ProbeBot(commands.Bot):
    errors: list[BaseException]

    async def before_identify_hook(self, shard_id: int | None, *, initial: bool = False) -> None:
        return None  # the default sleeps 5 s before every non-initial IDENTIFY


class ShardedProbeBot(commands.AutoShardedBot):
    errors: list[BaseException]

    async def before_identify_hook(self, shard_id: int | None, *, initial: bool = False) -> None:
        return None  # the default sleeps 5 s before every non-initial IDENTIFY


BotT = TypeVar("BotT", ProbeBot, ShardedProbeBot)


def make_bot(cls: type[BotT], intents: discord.Intents | None = None, **kwargs: Any) -> BotT:
    # with the members intent the GUILD_CREATE members are cached (and guild.chunked is True:
    # member_count == len(members), so no op 8 request); without it only guild.me is kept
    if intents is None:
        intents = discord.Intents.default()
        intents.members = True
    bot = cls(command_prefix="!", intents=intents, **kwargs)
    bot.errors = []
    tree = bot.tree

    @tree.error
    async def on_error(interaction: discord.Interaction, error: Exception) -> None:
        bot.errors.append(error)

    @tree.command(description="Defer, then edit the original response")
    async def echo(interaction: discord.Interaction, text: str, times: int = 1,
                   loud: bool = False) -> None:
        await interaction.response.defer(thinking=True)
        out = " ".join([text] * times)
        await interaction.edit_original_response(content=out.upper() if loud else out)

    @tree.command(description="Ephemeral reply about the caller's permissions")
    async def secret(interaction: discord.Interaction) -> None:
        manage = interaction.permissions.manage_guild
        await interaction.response.send_message(f"manage_guild={manage}", ephemeral=True)

    @tree.command(description="Reply, follow up, delete the original")
    async def multi(interaction: discord.Interaction) -> None:
        await interaction.response.send_message("one")
        await interaction.followup.send("two", ephemeral=True)
        await interaction.delete_original_response()

    @tree.command(description="Ephemeral defer answered by a followup with a file")
    async def later(interaction: discord.Interaction) -> None:
        await interaction.response.defer(ephemeral=True)
        await interaction.followup.send("done", file=discord.File(io.BytesIO(b"x"), "a.png"))

    ra = app_commands.Group(name="ra", description="RetroAchievements")

    @ra.command(description="A subcommand with a member and a channel option")
    async def profile(interaction: discord.Interaction, user: discord.Member,
                      where: discord.TextChannel | None = None) -> None:
        assert interaction.guild is not None
        place = f" in #{where.name}" if where else ""
        await interaction.response.send_message(
            f"{user.name} of {interaction.guild.name}{place}")

    tree.add_command(ra)
    return bot


@contextlib.asynccontextmanager
async def running(fake: FakeDiscord, bot: ProbeBot | ShardedProbeBot, *,
                  patch_gateway: bool = True) -> AsyncIterator[None]:
    """Run ``bot`` against ``fake`` until ready (gateway side and ``on_ready``)."""
    old_base = discord.http.Route.BASE
    old_gateway = discord.gateway.DiscordWebSocket.DEFAULT_GATEWAY
    discord.http.Route.BASE = fake.base_url
    if patch_gateway:  # an AutoShardedClient takes the URL from GET /gateway/bot instead
        discord.gateway.DiscordWebSocket.DEFAULT_GATEWAY = yarl.URL(fake.gateway_url)
    task = asyncio.create_task(bot.start(FAKE_DISCORD_TOKEN))
    try:
        ready = asyncio.ensure_future(asyncio.gather(fake.wait_ready(), bot.wait_until_ready()))
        both: list[asyncio.Future[Any]] = [task, ready]
        await asyncio.wait(both, return_when=asyncio.FIRST_COMPLETED)
        if task.done():
            ready.cancel()
            task.result()  # raises what killed the client
            pytest.fail("bot.start() returned before ready")
        ready.result()
        yield
        assert bot.errors == []
    finally:
        await bot.close()
        await asyncio.wait_for(task, 10)
        discord.http.Route.BASE = old_base
        discord.gateway.DiscordWebSocket.DEFAULT_GATEWAY = old_gateway


async def test_plain_bot_login_ready_sync_and_commands() -> None:
    async with FakeDiscord() as fake:
        bot = make_bot(ProbeBot, guild_ready_timeout=0.1)
        async with running(fake, bot):
            paths = [(r.method, r.path) for r in fake.requests]
            assert ("GET", "/users/@me") in paths
            assert ("GET", "/oauth2/applications/@me") in paths
            assert ("GET", "/gateway/bot") not in paths  # a plain Client goes to /gateway
            assert "shard" not in fake.identifies[0]
            assert bot.application_id == fake.application_id
            assert bot.user is not None and bot.user.id == fake.bot_user_id

            assert sorted(g.id for g in bot.guilds) == sorted(fake.guild_ids)
            for guild in bot.guilds:
                assert guild.chunked and guild.me is not None
                assert guild.owner_id == fake.member_id(guild.id, 0)
                assert guild.get_member(fake.member_id(guild.id, 1)) is not None
                assert guild.get_channel(fake.channel_ids[guild.id]) is not None

            synced = await bot.tree.sync()
            assert {c["name"] for c in fake.synced_global or []} == {
                "echo", "secret", "multi", "later", "ra"}
            assert fake.commands_synced is fake.synced_global
            assert {c.id for c in synced} == {int(c["id"]) for c in fake.synced_global or []}

            it = await fake.send_interaction("echo", [
                {"name": "text", "value": "hi"}, {"name": "times", "value": 2},
                {"name": "loud", "type": 5, "value": True}])
            assert (await it.wait_response())["type"] == 5
            final = await it.wait_final()
            assert final["content"] == "HI HI"
            assert (final["source"], final["ephemeral"]) == ("edit", False)
            assert it.ack_latency is not None and 0 <= it.ack_latency < 5
            assert final["received_at"] >= it.sent_at + it.ack_latency

            owner = await fake.send_interaction("secret")
            assert (await owner.wait_final()).items() >= {
                "content": "manage_guild=True", "flags": 64, "ephemeral": True,
                "source": "callback", "received_at": owner.callback_at, "files": []}.items()
            gid = fake.guild_ids[1]
            plain = await fake.send_interaction(
                "secret", guild_id=gid, user_id=fake.member_id(gid, 1))
            assert (await plain.wait_final())["content"] == "manage_guild=False"

            sub = await fake.send_interaction(
                "ra", [{"name": "user", "type": 6, "value": fake.member_id(gid, 2)},
                       {"name": "where", "type": 7, "value": fake.channel_ids[gid]}],
                guild_id=gid, subcommand="profile")
            assert (await sub.wait_final())["content"] == "member1-2 of Guild 1 in #general"
            sub2 = await fake.send_interaction(
                "ra profile", [{"name": "user", "type": 6,
                                "value": fake.member_id(fake.guild_ids[0], 0)}])
            assert (await sub2.wait_final())["content"] == "owner0 of Guild 0"


async def test_followups_deletes_and_guild_commands() -> None:
    async with FakeDiscord() as fake:
        bot = make_bot(ProbeBot, guild_ready_timeout=0.1)
        async with running(fake, bot):
            gid = fake.guild_ids[2]
            bot.tree.copy_global_to(guild=discord.Object(gid))
            await bot.tree.sync(guild=discord.Object(gid))
            assert "multi" in {c["name"] for c in fake.synced_guild[gid]}
            assert fake.synced_global is None

            it = await fake.send_interaction("multi", guild_id=gid)
            assert it.payload["data"]["guild_id"] == str(gid)  # a guild command
            await it.wait_until(lambda i: bool(i.deletes), what="the delete")
            assert (await it.wait_final())["content"] == "one"
            assert [f["content"] for f in it.followups] == ["two"]
            assert it.followups[0]["flags"] == 64
            assert it.deletes[0]["message_id"] == "@original"

            later = await fake.send_interaction("later", guild_id=gid)
            final = await later.wait_final()
            assert (final["content"], final["source"]) == ("done", "followup")
            assert final["ephemeral"] and final["files"] == ["a.png"]
            assert later.callbacks == [{"type": 5, "data": {"flags": 64}}]


@pytest.mark.parametrize("code", [1006, 4000])
async def test_gateway_drop_then_resume(code: int) -> None:
    async with FakeDiscord() as fake:
        bot = make_bot(ProbeBot, guild_ready_timeout=0.1)
        async with running(fake, bot):
            assert (await (await fake.send_interaction("secret")).wait_final())["ephemeral"]
            await fake.drop_gateway(code)
            during = await fake.send_interaction(  # kept, then delivered after the RESUME
                "echo", [{"name": "text", "value": "while down"}])
            await fake.wait_resume_count(1)
            await fake.wait_ready()
            assert (await during.wait_final())["content"] == "while down"
            after = await fake.send_interaction("echo", [{"name": "text", "value": "after"}])
            assert (await after.wait_final())["content"] == "after"
            assert fake.identify_count == 1
            assert bot.ws is not None and fake.resumes[0]["session_id"] == bot.ws.session_id
            assert bot.is_ready() and not bot.is_closed()


async def test_resume_replays_events_lost_in_flight() -> None:
    async with FakeDiscord() as fake:
        bot = make_bot(ProbeBot, guild_ready_timeout=0.1)
        async with running(fake, bot):
            await fake.drop_gateway(1006)
            # pretend the shard was still up: the event is logged and "sent" to nowhere,
            # like a frame lost with the connection; the RESUME must replay it by sequence
            fake._gw.sessions[0].live = True
            lost = await fake.send_interaction("echo", [{"name": "text", "value": "replayed"}])
            assert not fake._gw.pending
            await fake.wait_resume_count(1)
            assert (await lost.wait_final())["content"] == "replayed"


async def test_unresumable_drop_reidentifies() -> None:
    async with FakeDiscord() as fake:
        bot = make_bot(ProbeBot, guild_ready_timeout=0.1)
        async with running(fake, bot):
            await fake.drop_gateway(4000, resumable=False)
            during = await fake.send_interaction("echo", [{"name": "text", "value": "queued"}])
            await fake.wait_identify_count(2)
            await fake.wait_ready()
            assert fake.resume_count == 0  # it tried: INVALID_SESSION, so no RESUMED
            assert (await during.wait_final())["content"] == "queued"
            after = await fake.send_interaction("secret")
            assert (await after.wait_final())["ephemeral"]
            assert len(bot.guilds) == 3


async def test_sharded_bot_uses_gateway_bot_and_routes_by_shard() -> None:
    async with FakeDiscord(guilds=4, shards=2) as fake:
        # the intents bot/bot.py uses: guilds only, no member cache
        bot = make_bot(ShardedProbeBot, discord.Intents(guilds=True), guild_ready_timeout=0.1)
        async with running(fake, bot, patch_gateway=False):
            await fake.wait_for_request(lambda r: r.path == "/gateway/bot")
            assert sorted(d["shard"] for d in fake.identifies) == [[0, 2], [1, 2]]
            assert sorted(g.id for g in bot.guilds) == sorted(fake.guild_ids)
            its = [await fake.send_interaction("secret", guild_id=g) for g in fake.guild_ids]
            for it in its:
                await it.wait_final()
                assert it.shard_id == (it.guild_id >> 22) % 2
            assert {it.shard_id for it in its} == {0, 1}
            gid = fake.guild_ids[3]
            sub = await fake.send_interaction(
                "ra profile", [{"name": "user", "type": 6, "value": fake.member_id(gid, 1)}],
                guild_id=gid)
            assert (await sub.wait_final())["content"] == "member3-1 of Guild 3"

            await fake.drop_gateway(1006)
            await fake.wait_resume_count(2)
            await fake.wait_ready()
            for gid in fake.guild_ids:
                it = await fake.send_interaction("echo", [{"name": "text", "value": "x"}],
                                                 guild_id=gid)
                assert (await it.wait_final())["content"] == "x"
            assert fake.identify_count == 2


async def test_channel_posts_edits_failures_and_unknown_routes() -> None:
    async with FakeDiscord() as fake:
        bot = make_bot(ProbeBot, guild_ready_timeout=0.1)
        async with running(fake, bot):
            cid = fake.channel_ids[fake.guild_ids[0]]
            channel = bot.get_channel(cid)
            assert isinstance(channel, discord.TextChannel)
            msg = await channel.send("hello", embed=discord.Embed(title="Top 10"))
            await msg.edit(content="edited")
            await channel.send(file=discord.File(io.BytesIO(b"\x89PNG"), "chart.png"))
            posts = await fake.wait_channel_messages(cid, 3)
            assert posts[0]["content"] == "hello"
            assert posts[0]["embeds"][0]["title"] == "Top 10"
            assert posts[0]["edited_timestamp"] is None
            assert (posts[1]["id"], posts[1]["content"]) == (str(msg.id), "edited")
            assert posts[1]["edited_timestamp"] is not None
            assert posts[2]["attachments"][0]["filename"] == "chart.png"
            upload = await fake.wait_for_request(lambda r: bool(r.files))
            assert upload.files[0]["data"] == b"\x89PNG"

            fake.fail_channel(cid, 403)
            with pytest.raises(discord.Forbidden) as forbidden:
                await channel.send("nope")
            assert forbidden.value.code == 50013
            fake.fail_channel(cid, 404)
            with pytest.raises(discord.NotFound) as missing:
                await channel.send("nope")
            assert missing.value.code == 10003
            fake.fail_channel(cid, None)
            await channel.send("back")
            assert len(fake.channel_messages[cid]) == 4

            with pytest.raises(discord.NotFound):
                await bot.http.request(discord.http.Route("GET", "/nope/{x}", x=1))
            assert (fake.requests[-1].path, fake.requests[-1].status) == ("/nope/1", 404)

            async with aiohttp.ClientSession() as session, session.get(
                f"{fake.base_url}/users/@me",
                headers={"Authorization": f"Bot {FAKE_DISCORD_TOKEN}"},
            ) as resp:
                assert resp.headers["Content-Type"] == "application/json"
            async with aiohttp.ClientSession() as session, session.get(
                    f"{fake.base_url}/users/@me") as resp:
                assert resp.status == 401


async def test_two_thousand_guilds() -> None:
    async with FakeDiscord(guilds=0) as fake:
        fake.add_guilds(2000)
        started = time.monotonic()
        bot = make_bot(ProbeBot, guild_ready_timeout=0.1)
        async with running(fake, bot):
            assert len(bot.guilds) == 2000
            it = await fake.send_interaction("secret", guild_id=fake.guild_ids[-1])
            await it.wait_final()
        assert time.monotonic() - started < 30
