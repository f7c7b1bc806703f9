# Bus settings shared by fedmsg-hub (the backend), fedmsg-relay and the web app.
# Development works on loopback with no other server: web workers publish through a
# local fedmsg-relay, which the backend listens to.
config = {
    # Topics are org.fedoraproject.<environment>.<service>.<event>
    "topic_prefix": "org.fedoraproject",
    "environment": "dev",
    # Web workers are many processes: they publish through the relay, not bind ports.
    "active": True,
    "relay_inbound": "tcp://127.0.0.1:2003",
    "endpoints": {
        # What the relay re-publishes, for the backend to subscribe to.
        "relay_outbound": ["tcp://127.0.0.1:4001"],
    },
    # High water marks and timeouts of the ZeroMQ sockets.
    "high_water_mark": 0,
    "io_threads": 1,
    "post_init_sleep": 0.5,
    "zmq_enabled": True,
    "zmq_strict": False,
    # Messages are not signed in development.
    "sign_messages": False,
    "validate_signatures": False,
}
