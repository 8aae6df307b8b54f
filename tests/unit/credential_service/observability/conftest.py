"""Fixtures shared by the observability tests."""

from __future__ import annotations

import io
import logging
from collections.abc import Iterator

import pytest

from credential_service.observability import configure_logging


@pytest.fixture
def captured() -> Iterator[io.StringIO]:
    stream = io.StringIO()
    root = logging.getLogger()
    saved = (list(root.handlers), root.level)
    configure_logging(level="DEBUG", json_format=True, stream=stream)
    try:
        yield stream
    finally:
        for handler in list(root.handlers):
            root.removeHandler(handler)
        for handler in saved[0]:
            root.addHandler(handler)
        root.setLevel(saved[1])
