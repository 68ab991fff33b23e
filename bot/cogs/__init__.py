"""The slash commands, one feature a file (loaded by bot.bot.EXTENSIONS): each parses its
options, checks, defers before any I/O, asks a service and replies through bot.replies."""
