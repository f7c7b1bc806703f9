# How fedmsg-hub and fedmsg-relay log (logging.config.dictConfig): fedmsg and moksha only
# their warnings (their start-up chatter is long); hubs' consumer
# logs a summary of its counters every minute at INFO, each message at DEBUG.
config = {
    "logging": {
        "version": 1,
        "formatters": {
            "bare": {"format": "[%(asctime)s][%(name)10s %(levelname)7s] %(message)s"},
        },
        "handlers": {
            "console": {
                "class": "logging.StreamHandler",
                "formatter": "bare",
                "level": "INFO",
                "stream": "ext://sys.stdout",
            },
        },
        "loggers": {
            "hubs": {"level": "INFO", "propagate": False, "handlers": ["console"]},
            "fedmsg": {"level": "WARNING", "propagate": False, "handlers": ["console"]},
            "moksha": {"level": "WARNING", "propagate": False, "handlers": ["console"]},
        },
    },
}
