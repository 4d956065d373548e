from __future__ import annotations

from pathlib import Path

import pytest
from pydantic import ValidationError

from ews.settings import Settings, find_shared_data


def test_defaults_put_the_store_in_the_user_data_dir(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("EWS_STORE", raising=False)
    settings = Settings()
    assert settings.store.endswith("ews.duckdb")
    assert Path(settings.store).is_absolute()


def test_environment_overrides(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("EWS_STORE", ":memory:")
    monkeypatch.setenv("EWS_MAX_FILE_BYTES", "1000")
    settings = Settings()
    assert settings.store_is_memory
    assert settings.max_file_bytes == 1000


@pytest.mark.parametrize(
    ("name", "value"),
    [
        ("EWS_MAX_FILE_BYTES", "0"),
        ("EWS_MAX_FILE_BYTES", "lots"),
        ("EWS_ENV", "staging"),
        ("EWS_NODE_ID", "has space"),
        ("EWS_STORE", "  "),
    ],
)
def test_invalid_values_are_refused(monkeypatch: pytest.MonkeyPatch, name: str, value: str) -> None:
    monkeypatch.setenv(name, value)
    with pytest.raises(ValidationError):
        Settings()


def test_find_shared_data_honours_setting(tmp_path: Path) -> None:
    (tmp_path / "README.md").write_text("data", encoding="utf-8")
    assert find_shared_data(Settings(shared_data=tmp_path)) == tmp_path


def test_every_setting_is_documented_in_the_readme() -> None:
    """A setting nobody can find is a setting nobody can use (datasette's rule)."""
    from ews.settings import project_root

    readme = (project_root() / "README.md").read_text(encoding="utf-8")
    for name, field in Settings.model_fields.items():
        assert field.description, f"setting {name} has no description"
        assert f"EWS_{name.upper()}" in readme, f"EWS_{name.upper()} is not in README.md"
