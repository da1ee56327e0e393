"""Staff pass a ticket to another department through the staff API (real HTTP, real
database): the ticket moves, the citizen sees it in the history, the audit log records who did
it, and the text is kept — masked — as a routing example for the next training."""

from __future__ import annotations

import json

import requests

from routing.config import RoutingSettings
from routing.importer import base_examples
from staff.audit import entries
from storage.lookups import status_view
from storage.seed import seed_departments
from storage.tickets import create_ticket

API = {"Authorization": "Bearer api-token"}


def test_reassigning_a_ticket_is_audited_and_becomes_a_masked_example(
        workspace, database_url, tmp_path, monkeypatch):
    monkeypatch.setenv("GOV_STATE_DIR", str(tmp_path / "var"))
    seed_departments(database_url)
    receipt = create_ticket("小区门口的路灯坏了两个星期了，我电话13812345678", "public_security",
                            "zh", "rest", 0.6, "classifier", "5678", url=database_url)
    url = f"{workspace}/api/tickets/{receipt.reference}/reassign"

    moved = requests.post(url, headers=API, json={"staff": "li.na",
                                                  "department": "urban_management"})
    assert moved.status_code == 200, moved.text
    assert moved.json() == {"reference": receipt.reference, "department": "urban_management",
                            "previous": "public_security"}
    # what the citizen sees on a (verified) status look-up
    status = status_view(receipt.reference, "zh", database_url)
    assert status.department.id == "urban_management"
    assert status.history[-1].note == status.next_step == "已转交市城市管理局办理"

    [audit] = entries(action="ticket.reassign", url=database_url)
    assert audit.actor == "li.na" and audit.target == receipt.reference
    assert audit.detail == "public_security -> urban_management"

    stored = (RoutingSettings().examples_dir / "reassignments.jsonl").read_text(encoding="utf-8")
    [row] = [json.loads(line) for line in stored.splitlines()]
    assert row["department"] == "urban_management" and row["by"] == "li.na"
    assert "13812345678" not in stored and "****5678" in row["text"]
    # used at the next training or import
    assert (row["text"], "urban_management") in base_examples()


def test_reassignment_refuses_bad_requests_in_the_callers_language(workspace, database_url):
    seed_departments(database_url)
    receipt = create_ticket("垃圾三天没人清运", "urban_management", "zh", "rest", 0.9,
                            "classifier", "1234", url=database_url)
    url = f"{workspace}/api/tickets/{receipt.reference}/reassign"
    body = {"staff": "li.na", "department": "health"}
    assert requests.post(url, json=body).status_code == 401
    assert requests.post(f"{workspace}/api/tickets/T-00000000-000000/reassign", headers=API,
                         json=body).status_code == 404
    for wrong in ({"staff": "li.na", "department": "roads_bureau"},
                  {"staff": "li.na", "department": "urban_management"}):
        refused = requests.post(url, headers={**API, "Accept-Language": "zh-CN"}, json=wrong)
        assert refused.status_code == 400 and "没有这个部门" in refused.json()["message"]
    refused = requests.post(url, headers=API, data="not json")
    assert refused.status_code == 400 and "department" in refused.json()["message"]
