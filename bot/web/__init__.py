"""The bot's web server: Open311 GeoReport v2 (and, when webhook and web share a port,
the webhook), served by `jiayuan run` whenever JIAYUAN_WEB_PORT is set."""
