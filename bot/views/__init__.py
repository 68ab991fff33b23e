"""discord.py views (buttons) shared by the commands: the paginator."""
