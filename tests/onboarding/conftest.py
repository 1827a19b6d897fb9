from pathlib import Path

import pytest

FIXTURES = Path(__file__).parent.parent / "importers" / "fixtures"


@pytest.fixture
def fixture_text():
    def read(name: str) -> str:
        return (FIXTURES / name).read_text(encoding="utf-8")

    return read
