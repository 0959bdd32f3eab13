pytest_plugins = ["tests.fixtures_servers"]
