"""The fedora-messaging examples: the TOMLs load with fedora-messaging's own loader and
name the hubs callback and a durable shared queue; the systemd template unit passes
systemd's own check."""

import pathlib

import pytest
from fedora_messaging import config as fm_config

from tests.test_ansible import local_defaults, parse_unit, render, role_defaults, verify_unit

ROOT = pathlib.Path(__file__).resolve().parents[1]
EXAMPLES = ROOT / "examples"


@pytest.mark.parametrize("name", ["hubs-messaging.toml", "hubs-messaging-fedora.toml"])
def test_the_toml_examples_load_and_name_the_hubs_callback(name):
    conf = fm_config.LazyConfig().load_config(str(EXAMPLES / name))
    assert conf["callback"] == "hubs.backend.amqp:Consumer"
    [(queue, settings)] = conf["queues"].items()
    assert settings["durable"] and not settings["auto_delete"] and not settings["exclusive"]
    assert settings["arguments"]["x-queue-type"] == "quorum"
    assert settings["arguments"]["x-delivery-limit"] >= 1
    assert [b["queue"] for b in conf["bindings"]] == [queue]
    assert conf["bindings"][0]["exchange"] == "amq.topic"
    assert conf["qos"]["prefetch_count"] >= 1


def test_the_fedora_example_uses_the_public_broker_with_tls():
    conf = fm_config.LazyConfig().load_config(str(EXAMPLES / "hubs-messaging-fedora.toml"))
    assert conf["amqp_url"].startswith("amqps://") and conf["amqp_url"].endswith("%2Fpublic_pubsub")
    assert set(conf["tls"]) == {"ca_cert", "keyfile", "certfile"}


def test_the_local_example_dead_letters_to_a_queue_the_backend_declares():
    from hubs.backend.amqp import dead_letter_queues

    conf = fm_config.LazyConfig().load_config(str(EXAMPLES / "hubs-messaging.toml"))
    assert dead_letter_queues(conf["queues"]) == ["hubs.dead"]


def test_the_backend_template_unit_is_valid(tmp_path):
    defaults = role_defaults()
    unit = parse_unit(render("hubs-backend@.service.j2", defaults))
    service = unit["Service"]
    assert service["ExecStart"].startswith(f"{defaults['hubs_dev_venv_dir']}/bin/fedora-messaging")
    assert service["ExecStart"].endswith(" consume")
    assert "HUBS_BACKEND_INSTANCE=%H-%i" in service["Environment"]
    assert f"HUBS_CONFIG={defaults['hubs_dev_config_file']}" in service["Environment"]
    assert service["Restart"] == "on-failure"
    path = tmp_path / "hubs-backend@1.service"
    verify_unit(path, render("hubs-backend@.service.j2", local_defaults(tmp_path)))
