# Hubs' own settings read by the fedmsg-hub consumer. The web app reads its settings
# from hubs/default_config.py and $HUBS_CONFIG; keep the database and cache the same.
config = {
    # Whether fedmsg-hub runs the hubs consumer (the widget cache daemon).
    "hubs.consumer.enabled": True,
}
