# Settings of the hubs consumer, read by fedmsg-hub. The database, the cache and the
# rest come from Hubs' own config (hubs/default_config.py, then $HUBS_CONFIG);
# "hubs.config" may override some of them for the daemon only.
config = {
    # Whether fedmsg-hub runs the hubs consumer (the widget cache daemon).
    "hubs.consumer.enabled": True,
    # Overrides of Hubs settings for the daemon, e.g. {"BACKEND_WORKERS": 8}.
    "hubs.config": {},
    # The consumer handles one message at a time; rebuilds have their own threads.
    "moksha.workers_per_consumer": 1,
    "moksha.threadpool_size": 1,
}
