"""Root of the test suite: fixtures live in plugin modules, one per area, each owning its own."""

pytest_plugins = [
    "tests.fixtures.processes",
    "tests.fixtures.crypto_profile",
    "tests.fixtures.chain",
    "tests.fixtures.database",
    "tests.fixtures.anchoring",
    "tests.fixtures.running_service",
]
