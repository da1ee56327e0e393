"""The administrators' settings page, generated from the settings registry
(common/registry.py): every variable the running system reads, its value in effect, its
default and meaning in the member's language. Secrets only say whether they are set."""

from __future__ import annotations

from dataclasses import dataclass

from common.registry import ENTRIES, SECTIONS, SERVICES, Entry, configured, shown_default, text
from staff.i18n import translate

# Settings of the test suite, and per-instance addresses only HAProxy reads, are not the
# running system's: the page leaves them out (docs/configuration.md lists them).
NOT_SHOWN_SECTIONS = {"tests"}


@dataclass(frozen=True)
class SettingRow:
    name: str
    value: str
    default: str
    meaning: str
    read_by: str
    secret: bool


def _value(entry: Entry, language: str) -> str:
    if entry.secret:
        return translate("settings.set" if configured(entry.name) else "settings.not_set",
                         language)
    value = text(entry.name)
    if value is None:
        return translate("settings.not_set", language)
    return value or translate("settings.empty", language)


def _default(entry: Entry, language: str) -> str:
    default = shown_default(entry, language)
    if default is None:
        return "—"
    return default or translate("settings.empty", language)


def settings_sections(language: str) -> list[tuple[str, list[SettingRow]]]:
    """(section title, rows) in the registry's order, in `language` ("zh" or "en")."""
    chinese = language == "zh"
    sections: dict[str, list[SettingRow]] = {}
    for entry in ENTRIES:
        if entry.section in NOT_SHOWN_SECTIONS or "<n>" in entry.name:
            continue
        sections.setdefault(entry.section, []).append(SettingRow(
            name=entry.name, value=_value(entry, language), default=_default(entry, language),
            meaning=entry.zh if chinese else entry.en,
            read_by=("、" if chinese else ", ").join(
                SERVICES[service][chinese] for service in entry.services),
            secret=entry.secret))
    return [(SECTIONS[key][chinese], rows) for key, rows in sections.items()]
