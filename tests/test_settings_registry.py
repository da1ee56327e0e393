"""The one settings registry (common/registry.py): every `GOV_*` name the code, the Makefile or
the deployment files mention is in it, each of its entries is used, settings objects read
through it, docs/configuration.md is generated from it, and the staff settings page shows it
in both languages without ever showing a secret."""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path

import pytest

from common import settings_doc
from common.registry import ENTRIES, PROJECT_ROOT, SECTIONS, SERVICES, entry_for, setting, text
from common.settings import Settings
from helpers.staff import sign_in
from knowledge_base.config import KnowledgeBaseSettings

# `GOV_` followed by a letter: "GOV_2022_…" in a test is a reference number, and a name ending
# in "_" is a prefix (`GOV_WECHAT_*`, f"GOV_RASA_{i}"), not a variable.
NAME = re.compile(r"\bGOV_[A-Z][A-Z0-9_]*[A-Z0-9]\b")
# Names that are not environment variables: JavaScript globals of the web chat pages.
NOT_SETTINGS = {"GOV_CHAT_CONFIG", "GOV_VOICE_CONFIG"}
SKIPPED = {".venvs", "node_modules", "models", "var", ".git", "__pycache__", "docs"}
GENERATED_OR_REGISTRY = {Path("common/registry.py"), Path("docs/configuration.md")}


def sources() -> Iterator[Path]:
    """The code, the Makefile, Rasa's endpoint files and everything under deploy/."""
    for path in PROJECT_ROOT.rglob("*"):
        relative = path.relative_to(PROJECT_ROOT)
        if (not path.is_file() or SKIPPED.intersection(relative.parts)
                or relative in GENERATED_OR_REGISTRY):
            continue
        if (path.suffix in (".py", ".yml", ".cfg") or path.name == "Makefile"
                or relative.parts[0] == "deploy"):
            yield relative


def names_in_sources() -> dict[str, Path]:
    found: dict[str, Path] = {}
    for relative in sources():
        for name in NAME.findall((PROJECT_ROOT / relative).read_text(encoding="utf-8")):
            found.setdefault(name, relative)
    return found


def test_every_name_in_the_code_is_in_the_registry() -> None:
    missing = []
    for name, where in names_in_sources().items():
        try:
            entry_for(name)
        except KeyError:
            if name not in NOT_SETTINGS:
                missing.append(f"{name} ({where})")
    assert missing == [], "add these to common/registry.py"


def test_every_registry_entry_is_used() -> None:
    used = names_in_sources()
    unused = [entry.name for entry in ENTRIES
              if not any(entry.pattern.match(name) for name in used)]
    assert unused == [], "read nowhere: remove them from common/registry.py"


def test_entries_are_complete_and_unique() -> None:
    assert len({entry.name for entry in ENTRIES}) == len(ENTRIES)
    for entry in ENTRIES:
        assert entry.section in SECTIONS and entry.services
        assert set(entry.services) <= set(SERVICES), entry.name
        assert entry.en and re.search(r"[\u4e00-\u9fff]", entry.zh), entry.name


def test_the_configuration_doc_is_generated_from_the_registry() -> None:
    assert settings_doc.DOC.read_text(encoding="utf-8") == settings_doc.render(), (
        "docs/configuration.md is stale: run `python -m common.settings_doc`")
    assert settings_doc.main(["--check"]) == 0
    page = settings_doc.render()
    for entry in ENTRIES:
        assert f"`{entry.name}`" in page


def test_a_setting_is_its_default_when_unset_or_empty(monkeypatch) -> None:
    monkeypatch.delenv("GOV_KB_CHUNK_CHARS", raising=False)
    assert setting("GOV_KB_CHUNK_CHARS") == 360
    monkeypatch.setenv("GOV_KB_CHUNK_CHARS", "")
    assert setting("GOV_KB_CHUNK_CHARS") == 360
    monkeypatch.setenv("GOV_KB_CHUNK_CHARS", "500")
    assert setting("GOV_KB_CHUNK_CHARS") == 500
    assert KnowledgeBaseSettings().chunk_chars == 500


def test_paths_follow_the_state_folder_and_the_project_root(monkeypatch, tmp_path) -> None:
    monkeypatch.delenv("GOV_TRACKER_DB", raising=False)
    monkeypatch.setenv("GOV_STATE_DIR", "elsewhere")
    assert setting("GOV_STATE_DIR") == PROJECT_ROOT / "elsewhere"
    assert Settings().tracker_db == PROJECT_ROOT / "elsewhere" / "rasa.db"
    monkeypatch.setenv("GOV_STATE_DIR", str(tmp_path))
    assert Settings().tracker_db == tmp_path / "rasa.db"
    assert text("GOV_TRACKER_DB") == f"{tmp_path}/rasa.db"


def test_unset_without_a_default_is_none_and_unknown_names_fail(monkeypatch) -> None:
    monkeypatch.delenv("GOV_KB_MIN_CONFIDENCE", raising=False)
    assert setting("GOV_KB_MIN_CONFIDENCE") is None
    assert entry_for("GOV_RASA_3").name == "GOV_RASA_<n>"
    with pytest.raises(KeyError):
        setting("GOV_" + "NOT_A_SETTING")  # split: the scan above must not see it


@pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)
def test_the_settings_page_lists_the_registry_in_both_languages(workspace, monkeypatch):
    secret = "tg-secret-token-value-0123456789"
    monkeypatch.setenv("GOV_TELEGRAM_TOKEN", secret)
    monkeypatch.delenv("GOV_WECHAT_TOKEN", raising=False)
    monkeypatch.setenv("GOV_OFFICE_HOURS", "mon-sat 08:30-17:30")
    admin = sign_in(workspace, "admin.one")
    shown = [entry for entry in ENTRIES if entry.section != "tests" and "<n>" not in entry.name]

    english = admin.get(f"{workspace}/settings").text
    for entry in shown:
        assert f"<code>{entry.name}</code>" in english
    assert "mon-sat 08:30-17:30" in english  # the value in effect
    assert entry_for("GOV_STAFF_IDLE_MINUTES").en in english
    assert secret not in english
    telegram = english.split("<code>GOV_TELEGRAM_TOKEN</code>")[1].split("</tr>")[0]
    wechat = english.split("<code>GOV_WECHAT_TOKEN</code>")[1].split("</tr>")[0]
    assert "(secret)" in telegram and "<td>set</td>" in telegram
    assert "<td>not set</td>" in wechat

    admin.get(f"{workspace}/lang/zh")
    chinese = admin.get(f"{workspace}/settings").text
    assert entry_for("GOV_STAFF_IDLE_MINUTES").zh in chinese and SECTIONS["knowledge"][1] in chinese
    assert "<td>已设置</td>" in chinese and secret not in chinese
