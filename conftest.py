"""The repository's root conftest: loads the conformance suite's pytest plugin, so every case of every
kit's case files (conformance/cases, a test path) is collected as a test item."""

pytest_plugins = ["conformance.pytest_plugin"]
