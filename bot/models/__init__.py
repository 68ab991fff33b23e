"""The bot's value types, and the pure rules over them, that several layers share.

What RA answers (`ra.py`), members and their links, boards, progress reports, game sets,
schedules, challenges, the site's awards and the news feeds, and the rules of times and titles:
plain immutable values and functions with no I/O and no Discord. Every other package reads them;
they import none of those packages (only each other, and `bot.errors` for the sentence a bad
value gets).
"""
