from __future__ import annotations

from pathlib import Path

import pytest
from pydantic import ValidationError

from ews.settings import Settings, find_shared_data, project_root


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


def _readme_settings() -> dict[str, str]:
    """The README's settings table: variable -> default column, as written."""
    readme = (project_root() / "README.md").read_text(encoding="utf-8")
    rows: dict[str, str] = {}
    in_table = False
    for line in readme.splitlines():
        if line.startswith("| variable | default | what |"):
            in_table = True
            continue
        if in_table and not line.startswith("|"):
            break
        if in_table and not line.startswith("|---"):
            cells = [cell.strip() for cell in line.strip("|").split("|")]
            variable, default = cells[0].strip("`"), cells[1]
            assert variable not in rows, f"{variable} is listed twice in README.md"
            rows[variable] = default
    return rows


DESCRIBED = object()


def _readme_default(text: str) -> object:
    """A README default as a value: numbers (``1,000,000``, ``2 GiB``), quoted literals,
    ``unset`` as None; anything else (``<user data dir>/...``) is a description, returned as
    :data:`DESCRIBED`."""
    if text == "unset":
        return None
    if text.startswith("`") and text.endswith("`") and text.count("`") == 2 and "<" not in text:
        literal = text.strip("`")
        return {"true": True, "false": False}.get(literal, literal)
    number, _, unit = text.replace(",", "").partition(" ")
    scale = {"": 1, "GiB": 1024**3}.get(unit)
    try:
        return float(number) * scale if scale is not None else DESCRIBED
    except ValueError:
        return DESCRIBED


def test_every_setting_has_a_description() -> None:
    for name, field in Settings.model_fields.items():
        assert field.description, f"setting {name} has no description"


def test_readme_settings_table_matches_the_settings_module() -> None:
    """A setting nobody can find is a setting nobody can use (datasette's rule); a documented
    one that does not exist, or with another default, misleads."""
    documented = _readme_settings()
    fields = {f"EWS_{name.upper()}": field for name, field in Settings.model_fields.items()}
    assert set(documented) == set(fields), (
        f"missing from README.md: {sorted(set(fields) - set(documented))}; "
        f"in README.md but not in ews/settings.py: {sorted(set(documented) - set(fields))}"
    )
    for variable, text in documented.items():
        field = fields[variable]
        written = _readme_default(text)
        if written is DESCRIBED:
            # Computed at run time (a user directory, a folder found nearby): the field
            # leaves it unset or computes it, never a fixed value the README fails to state.
            assert field.default_factory is not None or field.default is None, variable
        else:
            assert written == field.default, (
                f"{variable}: README says {text}, default {field.default!r}"
            )
