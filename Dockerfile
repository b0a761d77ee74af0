# Jiayuan (家园) — the bot, ready for `docker run` with BOT_TOKEN set.
FROM python:3.11-slim

# A CJK font: ranking boards and rectification notices are drawn in Chinese.
RUN apt-get update \
    && apt-get install -y --no-install-recommends fonts-wqy-microhei fontconfig tzdata \
    && rm -rf /var/lib/apt/lists/*

WORKDIR /app
COPY pyproject.toml README.md ./
COPY bot ./bot
COPY handlers ./handlers
COPY storage ./storage
RUN pip install --no-cache-dir . && useradd --create-home --uid 10001 jiayuan \
    && mkdir -p /data && chown jiayuan /data

USER jiayuan
ENV JIAYUAN_DATA_DIR=/data \
    PYTHONUNBUFFERED=1
VOLUME ["/data"]

# Healthy while the bot keeps fetching updates and ticking (see bot/health.py): a bot
# whose update loop stalled fails this within three minutes.
HEALTHCHECK --interval=60s --timeout=10s --start-period=30s \
    CMD ["jiayuan", "health"]

ENTRYPOINT ["jiayuan"]
CMD ["run"]
