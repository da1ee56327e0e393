"""The department catalogue as citizens see it, in their language."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import select

from storage.database import sessions
from storage.models import Department


@dataclass(frozen=True)
class DepartmentView:
    id: str
    name: str
    phone: str
    hotline: str
    address: str
    hours: str
    portal: str
    response_days: int
    aliases: tuple[str, ...] = ()

    def contact(self) -> str:
        return " · ".join(part for part in (self.phone, self.address, self.hours, self.portal)
                          if part)


def department_view(department: Department, language: str) -> DepartmentView:
    zh = language == "zh"
    return DepartmentView(
        id=department.id, name=department.name_zh if zh else department.name_en,
        phone=department.phone, hotline=department.hotline,
        address=department.address_zh if zh else department.address_en,
        hours=department.hours_zh if zh else department.hours_en,
        portal=department.portal, response_days=department.response_days,
        aliases=tuple(filter(None, (department.aliases or "").split("|"))),
    )


def list_departments(language: str, url: str | None = None) -> list[DepartmentView]:
    with sessions(url)() as session:
        rows = session.scalars(select(Department).order_by(Department.id)).all()
    return [department_view(row, language) for row in rows]


def department_names(url: str | None = None) -> dict[str, tuple[str, ...]]:
    """Every name a citizen may use for each department (both languages' full names and the
    catalogue's short names), from one query."""
    with sessions(url)() as session:
        rows = session.scalars(select(Department).order_by(Department.id)).all()
    return {row.id: (row.name_zh, row.name_en, *department_view(row, "zh").aliases)
            for row in rows}


def get_department(department_id: str, language: str,
                   url: str | None = None) -> DepartmentView | None:
    with sessions(url)() as session:
        row = session.get(Department, department_id)
    return department_view(row, language) if row else None


def responsibility_line(department_id: str, language: str, max_chars: int | None = None,
                        url: str | None = None) -> str:
    """What the department handles, in one short line for the citizen ("物业管理纠纷…；房屋
    质量与开发商延期交房"): whole items of the catalogue's list while they fit in `max_chars`."""
    with sessions(url)() as session:
        row = session.get(Department, department_id)
    if row is None:
        return ""
    text = row.responsibilities_zh if language == "zh" else row.responsibilities_en
    separator = "；" if language == "zh" else "; "
    max_chars = max_chars or (60 if language == "zh" else 140)
    line = ""
    for item in text.split(separator):
        candidate = f"{line}{separator}{item}" if line else item
        if line and len(candidate) > max_chars:
            return line + ("…" if language == "zh" else " …")
        line = candidate
    return line
