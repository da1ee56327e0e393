"""Demo data: the department catalogue and a few hundred realistic applications.

`python -m storage.seed` is idempotent: the catalogue is updated from storage/seed/*.yml every
time; applications are generated only into an empty table. The generator is deterministic,
so `python -m storage.seed --show-demo 5` can print numbers and verification digits to try.
"""

from __future__ import annotations

import argparse
import datetime as dt
import random
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml
from sqlalchemy import func, select

from storage.clock import add_working_days, utc_now
from storage.database import sessions
from storage.models import Application, ApplicationEvent, Department
from storage.secrets import hash_secret

SEED_DIR = Path(__file__).resolve().parent / "seed"
DEFAULT_APPLICATIONS = 320
_SURNAMES = "王李张刘陈杨黄赵吴周徐孙马朱胡郭何高林罗郑梁谢宋唐许韩冯邓曹彭曾肖田董潘袁蔡蒋" \
            "余于杜叶程魏苏吕丁任沈姚卢"
_GIVEN = "伟芳娜敏静丽强磊军洋勇艳杰娟涛明超秀霞平刚桂英华玉兰萍建国红梅鑫宇浩然子涵欣怡雨轩" \
         "思远晨曦嘉怡"
_EN_FIRST = ["James", "Maria", "Ahmed", "Yuki", "Olga", "David", "Sofia", "Lucas", "Amara", "Ivan"]
_EN_LAST = ["Smith", "Garcia", "Khan", "Tanaka", "Petrova", "Miller", "Rossi", "Silva", "Okafor"]
_FINAL_SIDE_STATES = frozenset({"rejected", "withdrawn"})


def load_yaml(name: str) -> dict[str, Any]:
    return yaml.safe_load((SEED_DIR / name).read_text(encoding="utf-8"))


def _bilingual(value: dict[str, str], prefix: str) -> dict[str, str]:
    return {f"{prefix}_zh": value["zh"], f"{prefix}_en": value["en"]}


def seed_departments(url: str | None = None) -> int:
    rows = load_yaml("departments.yml")["departments"]
    with sessions(url).begin() as session:
        for row in rows:
            department = session.get(Department, row["id"]) or Department(id=row["id"])
            for prefix in ("name", "responsibilities", "address", "hours"):
                for key, text in _bilingual(row[prefix], prefix).items():
                    setattr(department, key, text.strip())
            department.aliases = "|".join(row.get("aliases", []))
            department.phone = str(row.get("phone", ""))
            department.hotline = str(row.get("hotline", "12345"))
            department.portal = row.get("portal", "")
            department.response_days = int(row.get("response_days", 5))
            session.add(department)
    return len(rows)


@dataclass(frozen=True)
class DemoApplicant:
    number: str
    service: dict[str, Any]
    name: str
    phone: str
    id_card: str
    days_ago: int
    step_index: int
    side_state: dict[str, Any] | None
    gaps: list[int]


def demo_applicants(count: int, seed: int = 2026) -> list[DemoApplicant]:
    """The same applicants every time for the same seed and catalogue."""
    services = load_yaml("services.yml")["services"]
    rng = random.Random(seed)
    year = utc_now().year
    used: set[str] = set()
    people = []
    while len(people) < count:
        number = f"GOV-{rng.choice([year - 1, year])}-{rng.randrange(10**6):06d}"
        if number in used:
            continue
        used.add(number)
        service = rng.choice(services)
        if rng.random() < 0.12:
            name = f"{rng.choice(_EN_FIRST)} {rng.choice(_EN_LAST)}"
        else:
            name = rng.choice(_SURNAMES) + "".join(rng.sample(_GIVEN, rng.choice([1, 2])))
        phone = f"1{rng.choice('3456789')}{rng.randrange(10**9):09d}"
        id_card = f"{rng.randrange(110000, 659999)}{rng.randrange(1950, 2006)}" \
                  f"{rng.randrange(1, 13):02d}{rng.randrange(1, 29):02d}" \
                  f"{rng.randrange(1000):03d}{rng.choice('0123456789X')}"
        steps = service["steps"]
        step_index = rng.randrange(len(steps))
        side = None
        if step_index < len(steps) - 1 and service.get("side_states") and rng.random() < 0.15:
            side = rng.choice(service["side_states"])
        days_ago = rng.randrange(1, 150)
        if not _decided(service, step_index, side):
            # still in progress: within the time limit (n working days never span fewer than
            # n calendar days, and the hours below move the submission back by under a day),
            # or every demo application received months ago would look overdue
            days_ago %= int(service["working_days"])
        gaps = [rng.randrange(0, 5) for _ in range(len(steps) + 1)]
        people.append(DemoApplicant(number, service, name, phone, id_card, days_ago,
                                    step_index, side, gaps))
    return people


def _decided(service: dict[str, Any], step_index: int, side: dict[str, Any] | None) -> bool:
    """Finished: the last step reached, or refused or withdrawn on the way."""
    if side is not None:
        return side["status"] in _FINAL_SIDE_STATES
    return step_index == len(service["steps"]) - 1


def _application(person: DemoApplicant, now: dt.datetime) -> Application:
    service, steps = person.service, person.service["steps"]
    submitted = now - dt.timedelta(days=person.days_ago, hours=person.gaps[0] * 2 + 1)
    reached = steps[: person.step_index + 1] + ([person.side_state] if person.side_state else [])
    events, moment = [], submitted
    for gap, step in zip(person.gaps[: len(reached)], reached, strict=True):
        events.append(ApplicationEvent(status=step["status"], at=min(moment, now),
                                       **_bilingual(step["name"], "title"),
                                       **_bilingual(step.get("note", {"zh": "", "en": ""}),
                                                    "note")))
        moment = moment + dt.timedelta(days=gap + 1, hours=3)
    current = reached[-1]
    finished = _decided(service, person.step_index, person.side_state)
    return Application(
        number=person.number, service_type=service["id"],
        **_bilingual(service["name"], "service_name"), applicant_name=person.name,
        phone_last4_hash=hash_secret(person.phone[-4:]),
        id_last4_hash=hash_secret(person.id_card[-4:]),
        department_id=service["department"], status=current["status"],
        **_bilingual(current["next_step"], "next_step"),
        expected_completion=None if finished else
        add_working_days(submitted.date(), int(service["working_days"])),
        submitted_at=submitted, updated_at=events[-1].at, history=events,
    )


def seed_applications(count: int = DEFAULT_APPLICATIONS, url: str | None = None) -> int:
    """Generate applications into an empty table; returns how many were added."""
    with sessions(url).begin() as session:
        if session.scalar(select(func.count()).select_from(Application)):
            return 0
        now = utc_now()
        session.add_all(_application(person, now) for person in demo_applicants(count))
    return count


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="python -m storage.seed", description=__doc__)
    parser.add_argument("--applications", type=int, default=DEFAULT_APPLICATIONS)
    parser.add_argument("--show-demo", type=int, default=0, metavar="N",
                        help="print N demo application numbers with their verification digits")
    args = parser.parse_args(argv)
    if args.show_demo:
        for person in demo_applicants(args.applications)[: args.show_demo]:
            print(f"{person.number}  phone ****{person.phone[-4:]}  "
                  f"ID ****{person.id_card[-4:]}  {person.service['name']['en']}")
        return
    departments = seed_departments()
    added = seed_applications(args.applications)
    print(f"{departments} departments; {added} demo applications added")


if __name__ == "__main__":
    main()
