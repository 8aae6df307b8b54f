from __future__ import annotations

from collections.abc import Callable, Iterator

import pytest

from tests.integration.credential_service.labour.harness import LabourService, open_labour_service


@pytest.fixture(scope="module")
def labour_service(
    tmp_path_factory: pytest.TempPathFactory,
    database_backend: str,
    database_url_factory: Callable[[str], str],
) -> Iterator[LabourService]:
    """The labour-contract service of a test module, once on SQLite and once on PostgreSQL."""
    yield from open_labour_service(
        tmp_path_factory.mktemp("labour-service"),
        database_url=database_url_factory(database_backend),
    )


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """Keep these tests on one xdist worker, so the module's service is built once."""
    from pathlib import Path

    here = Path(__file__).parent
    for item in items:
        if here in item.path.parents:
            item.add_marker(pytest.mark.xdist_group("labour"))
