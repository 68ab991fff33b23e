"""Posts the bot makes on its own, in guilds' channels: scheduled leaderboards (`scheduler.py`),
challenge standings (`challenges.py`), each made exactly once (`once.py`: claim, look for a
crashed process's post, send with a nonce), waiting for their time in one loop (`due_loop.py`),
and sent through discord.py (`publisher.py`).

Posting sits above the services (it asks them for boards and standings) and formatting (it
writes the posts): the services never write a post themselves.
"""
