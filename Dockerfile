# The bot in a container: slim Python, installed as a package, run as a non-root user.
#   docker build -t ra-bot .
#   docker run --env-file .env ra-bot          # python -m bot
#   docker run --env-file .env ra-bot check    # python -m bot check
#   docker run --env-file .env ra-bot migrate  # python -m bot migrate
FROM python:3.12-slim

ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PIP_NO_CACHE_DIR=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1

WORKDIR /src
COPY pyproject.toml README.md ./
COPY bot ./bot
RUN pip install . && rm -rf /src

# The embedded SQLite default (data/bot.sqlite3) lives under /app/data; mount a volume there, or
# set DATABASE_URL to PostgreSQL.
RUN useradd --create-home --uid 10001 --user-group bot \
    && mkdir -p /app/data && chown -R bot:bot /app
WORKDIR /app
VOLUME ["/app/data"]
USER bot

# SIGTERM closes the gateway, the HTTP session and the store, then exits 0.
STOPSIGNAL SIGTERM
ENTRYPOINT ["python", "-m", "bot"]
CMD []
