from setuptools import find_packages, setup


def requirements(path: str) -> list[str]:
    with open(path) as handle:
        return [
            line.strip() for line in handle if line.strip() and not line.startswith(("#", "-r"))
        ]


with open("README.rst") as readme:
    long_description = readme.read()

setup(
    name="fedora-hubs",
    version="0.1.0",
    description="A page of live widgets for every Fedora contributor and team",
    long_description=long_description,
    license="AGPLv3+",
    python_requires=">=3.11",
    packages=find_packages(include=["hubs", "hubs.*"]),
    include_package_data=True,
    package_data={
        "hubs": [
            "templates/*.html",
            "widgets/templates/*.html",
            "static/*",
            "static/client/*",
            "migrations/*.mako",
            "demo/services/*.json",
            "translations/*/LC_MESSAGES/*",
            "demo/services/*/*.json",
        ]
    },
    install_requires=requirements("requirements.txt"),
    entry_points={
        "console_scripts": [
            "fedora-hubs=hubs.cli:cli",
            "hubs-sse=hubs.sse.server:main",
            "fedora-hubs-populate=hubs.seed:main",
        ],
        # fedmsg-hub loads the consumer (enabled by hubs.consumer.enabled in fedmsg.d/).
        "moksha.consumer": [
            "hubs=hubs.backend.consumer:HubsConsumer",
        ],
        # fedora-messaging reads hubs' own messages with this schema class.
        "fedora.messages": [
            "hubs.v1=hubs.messaging:HubsMessage",
        ],
        # fedmsg.meta reads hubs' own messages with this processor.
        "fedmsg.meta": [
            "hubs=hubs.meta:HubsProcessor",
        ],
    },
)
