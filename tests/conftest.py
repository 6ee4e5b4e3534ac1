"""The database under every test: SQLite files, or PostgreSQL with `make test-pg`
(tests/databases.py)."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from tests.databases import POSTGRESQL, SERVER, fresh_databases


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    if POSTGRESQL:
        skip = pytest.mark.skip(reason="about SQLite itself")
        for item in items:
            if "sqlite_only" in item.keywords:
                item.add_marker(skip)


@pytest.fixture(autouse=True)
def _databases() -> Iterator[None]:
    with fresh_databases():
        yield


def pytest_sessionfinish(session: pytest.Session, exitstatus: int) -> None:
    if POSTGRESQL:
        SERVER.stop()
