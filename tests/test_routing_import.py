"""The routing operator commands, as an operator runs them (`python -m routing …`): bad history
files refused in both languages with the model in use untouched; a good import reported and
activated; a worse one refused; batch routing; the active model picked up on change; no
personal data in stored examples."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

from routing.classifier import DepartmentRouter, load_examples
from routing.config import RoutingSettings
from routing.models import active_router, save_model

ROOT = Path(__file__).resolve().parent.parent
PHONE, ID_NUMBER = "13912345678", "110101199003071234"

# A city's history in its own words and its own category names (written for this test).
HISTORY = {
    "物业与住房": ["小区物业不修电梯，老人下不了楼", "开发商延期交房一年了还没有说法",
                "房东不退押金还威胁租客", "物业费涨价没有开业主大会", "楼上装修拆了承重墙",
                "公租房分配不公平，有人转租", "工地脚手架没有安全网", "新房墙体开裂渗水"],
    "劳动保障": ["工地老板拖欠工资半年不给", "公司违法辞退不给补偿", "单位不交社保",
              "加班不给加班费", "工伤认定一直没有结果", "养老金太低请求调整",
              "失业金申请不下来", "劳务派遣同工不同酬"],
    "教育": ["孩子入学被调剂到很远的学校", "学校乱收资料费", "老师体罚学生",
           "培训机构卷款跑路", "学校食堂饭菜太差", "助学金评定不公平",
           "村小撤并孩子上学太远", "幼儿园转学手续办不下来"],
}
MAPPING = {"物业与住房": "housing_urban_rural", "劳动保障": "human_resources_social_security",
           "教育": "education"}


def write_history(path: Path, rows: list[tuple[str, str]]) -> Path:
    path.write_text("".join(json.dumps({"id": str(i), "content": text, "category": category},
                                       ensure_ascii=False) + "\n"
                            for i, (text, category) in enumerate(rows)), encoding="utf-8")
    return path


def history_rows(repeat: int = 2) -> list[tuple[str, str]]:
    """Each text also with a detail sentence (and personal data), so rows are distinct."""
    details = ["请尽快处理。联系电话 " + PHONE, f"我的身份证号 {ID_NUMBER}，希望有人回复。"]
    return [(f"{text}，{details[r % 2]}（第{r + 1}次反映）", category)
            for category, texts in HISTORY.items() for text in texts for r in range(repeat)]


@pytest.fixture
def state(tmp_path, monkeypatch):
    """A private state folder for the routing files, seen by this process and the CLI."""
    monkeypatch.setenv("GOV_STATE_DIR", str(tmp_path / "var"))
    monkeypatch.setenv("GOV_DATABASE_URL", f"sqlite:///{tmp_path / 'gov.db'}")
    monkeypatch.delenv("GOV_ROUTING_MIN_CONFIDENCE", raising=False)
    return tmp_path


def cli(*args: str, language: str = "en") -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "routing", "--lang", language, *args],
                          cwd=ROOT, env=os.environ.copy(), capture_output=True, text=True,
                          timeout=1800)


@pytest.fixture(scope="module")
def small_routers():
    """Two quickly trained routers with different departments (for the hot-reload test)."""
    examples = load_examples()

    def some(*departments: str) -> list[tuple[str, str]]:
        return [e for d in departments for e in [e for e in examples if e[1] == d][:20]]

    return (DepartmentRouter().fit(some("education", "health")),
            DepartmentRouter().fit(some("transport", "taxation", "education")))


def test_the_active_model_is_picked_up_when_its_file_changes(state, small_routers):
    first, second = small_routers
    assert active_router() is None  # nothing imported: the shipped model is used
    save_model(first, {"rows": 1})
    assert active_router().departments == ["education", "health"]
    save_model(second, {"rows": 2})
    assert active_router().departments == ["education", "taxation", "transport"]
    # a damaged file does not take routing down: the last good model stays in use
    RoutingSettings().model_file.write_bytes(b"not a model")
    assert active_router().departments == ["education", "taxation", "transport"]


@pytest.mark.parametrize("case", ["encoding", "columns", "unknown_department", "empty", "huge",
                                  "unmapped", "not_json"])
def test_bad_history_is_refused_in_both_languages_and_the_model_stays(state, small_routers,
                                                                        case, monkeypatch):
    model = save_model(small_routers[0], {"rows": 1})
    before = model.read_bytes()
    history = write_history(state / "history.jsonl", history_rows(1))
    mapping = state / "mapping.yml"
    mapping.write_text(yaml.safe_dump(MAPPING, allow_unicode=True), encoding="utf-8")
    expected = {
        "encoding": ("not UTF-8", "不是 UTF-8"), "columns": ("missing column", "缺少列"),
        "unknown_department": ("unknown department id(s) roads_bureau", "未知的部门编号"),
        "empty": ("is empty", "空文件"), "huge": ("the limit is 1 MB", "上限 1 MB"),
        "unmapped": ("leaves out categories found in the file: 教育", "缺少文件中出现的类别"),
        "not_json": ("line 2 is not JSON", "第 2 行不是 JSON"),
    }[case]
    if case == "encoding":
        history = state / "history.csv"
        history.write_bytes("content,category\n小区物业不修电梯,物业与住房\n".encode("gbk"))
    elif case == "columns":
        history = state / "history.csv"
        history.write_text("内容说明,类型\n电梯坏了,物业与住房\n", encoding="utf-8")
    elif case == "unknown_department":
        mapping.write_text(yaml.safe_dump({**MAPPING, "教育": "roads_bureau"},
                                          allow_unicode=True), encoding="utf-8")
    elif case == "empty":
        history.write_text("", encoding="utf-8")
    elif case == "huge":
        monkeypatch.setenv("GOV_ROUTING_MAX_IMPORT_MB", "1")
        history.write_text(history.read_text(encoding="utf-8") * 400, encoding="utf-8")
        assert history.stat().st_size > 1024 * 1024
    elif case == "unmapped":
        mapping.write_text(yaml.safe_dump({k: v for k, v in MAPPING.items() if k != "教育"},
                                          allow_unicode=True), encoding="utf-8")
    elif case == "not_json":
        history.write_text('{"content": "电梯坏了", "category": "物业与住房"}\n{oops\n',
                           encoding="utf-8")
    for language, message in zip(("en", "zh"), expected, strict=True):
        result = cli("import", str(history), "--mapping", str(mapping), language=language)
        assert result.returncode == 2, result.stderr
        assert message in result.stderr and "Traceback" not in result.stderr
    assert model.read_bytes() == before


@pytest.fixture(scope="module")
def featurize():
    from routing.importer import Featurizer

    return Featurizer()


def test_a_good_import_is_reported_activated_and_stored_masked(state, small_routers):
    save_model(small_routers[0], {"rows": 1})  # in use: a model knowing two departments only
    history = write_history(state / "history.jsonl", history_rows())
    mapping = state / "mapping.yml"
    mapping.write_text(yaml.safe_dump({"categories": MAPPING}, allow_unicode=True),
                       encoding="utf-8")
    result = cli("import", str(history), "--mapping", str(mapping))
    assert result.returncode == 0, result.stderr
    for figure in ("accuracy", "macro-F1", "ECE", "routed without asking", "held-out part",
                   "activated"):
        assert figure in result.stdout
    router = active_router()
    assert router is not None and "imported history" in router.description
    assert router.rank("学校老师打学生，家长很气愤")[0].department == "education"
    stored = (RoutingSettings().examples_dir / "history.jsonl").read_text(encoding="utf-8")
    assert stored.count("\n") == len(history_rows())
    assert PHONE not in stored and ID_NUMBER not in stored and "****5678" in stored
    assert "imported history" in cli("status").stdout

    # the batch command uses the model just imported
    messages = state / "messages.jsonl"
    messages.write_text("".join(json.dumps({"id": f"m{i}", "text": text}, ensure_ascii=False)
                                + "\n" for i, text in enumerate(
                                    ["拖欠工资三个月了，老板不接电话", "物业乱收费", "hello"])),
                        encoding="utf-8")
    output = state / "routed.jsonl"
    routed = cli("route", str(messages), "-o", str(output))
    assert routed.returncode == 0, routed.stderr
    rows = [json.loads(line) for line in output.read_text(encoding="utf-8").splitlines()]
    assert [row["id"] for row in rows] == ["m0", "m1", "m2"]
    for row in rows:
        confidences = [c["confidence"] for c in row["top"]]
        assert len(row["top"]) == 3 and confidences == sorted(confidences, reverse=True)
        assert 0 < sum(confidences) <= 1.0001 and row["decision"] in ("route", "ask")
        assert row["department"] == row["top"][0]["department"]
    assert rows[0]["department"] == "human_resources_social_security"


def test_a_model_worse_on_the_held_out_part_is_refused(state, featurize):
    """The model in use has seen these records (an earlier, fuller import): a new model that
    has not must route the held-out part worse, and is refused; the file stays as it was."""
    from routing.history import ImportRefused
    from routing.importer import ImportWorse, import_history, train_router

    # Categories that say nothing about the content (e.g. the wrong column was exported).
    categories = list(MAPPING)
    rows = [(text, categories[(i * 7) % 3]) for i, (text, _) in enumerate(history_rows())]
    history = write_history(state / "history.jsonl", rows)
    mapping = state / "mapping.yml"
    mapping.write_text(yaml.safe_dump(MAPPING, allow_unicode=True), encoding="utf-8")
    in_use = train_router([(text, MAPPING[c]) for text, c in rows], featurize)
    model = save_model(in_use, {"rows": len(rows)})
    before = model.read_bytes()
    with pytest.raises(ImportWorse) as refused:
        import_history(history, mapping, current=in_use, featurize=featurize)
    assert isinstance(refused.value, ImportRefused)
    assert refused.value.result.held_out_new < refused.value.result.held_out_current
    assert "未启用" in refused.value.message("zh") and "not activated" in str(refused.value)
    assert model.read_bytes() == before


def write_xlsx(path: Path, rows: list[list[str]]) -> Path:
    """A minimal Office Open XML workbook (what Excel writes, reduced to the parts read):
    the header as shared strings, the cells as inline strings."""
    import zipfile
    from xml.sax.saxutils import escape

    shared = rows[0]
    cells = ["<row>" + "".join(f'<c t="s"><v>{i}</v></c>' for i in range(len(shared))) + "</row>"]
    cells += ["<row>" + "".join(f'<c t="inlineStr"><is><t>{escape(v)}</t></is></c>' for v in row)
              + "</row>" for row in rows[1:]]
    main = 'xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main"'
    with zipfile.ZipFile(path, "w") as book:
        book.writestr("xl/sharedStrings.xml", f"<sst {main}>" + "".join(
            f"<si><t>{escape(s)}</t></si>" for s in shared) + "</sst>")
        book.writestr("xl/worksheets/sheet1.xml",
                      f"<worksheet {main}><sheetData>{''.join(cells)}</sheetData></worksheet>")
    return path


def test_history_is_read_from_an_excel_workbook_masked(tmp_path):
    from routing.history import ImportRefused, read_history

    book = write_xlsx(tmp_path / "history.xlsx", [
        ["留言主题", "留言详情", "一级分类"],
        ["电梯坏了", f"物业不修，电话 {PHONE}", "物业与住房"],
        ["拖欠工资", "老板三个月没发工资", "劳动保障"],
    ])
    requests = read_history(book)
    assert [r.category for r in requests] == ["物业与住房", "劳动保障"]
    assert requests[0].text.startswith("电梯坏了\n物业不修") and PHONE not in requests[0].text
    (tmp_path / "broken.xlsx").write_bytes(b"PK not really a workbook")
    with pytest.raises(ImportRefused, match=r"not a readable \.xlsx"):
        read_history(tmp_path / "broken.xlsx")


def test_prepare_trains_the_shipped_model_once_and_then_uses_its_cache(state):
    """The launcher runs `prepare` before the action servers start: no citizen's first
    request waits for the training, and several instances do not each train it."""
    first = cli("prepare")
    assert first.returncode == 0, first.stderr
    assert "routing model from the shipped examples ready" in first.stdout
    [cache] = (state / "var").rglob("shipped-*.npz")
    trained_at = cache.stat().st_mtime_ns
    again = cli("prepare", language="zh")
    assert again.returncode == 0, again.stderr
    assert "由内置样例训练的分派模型已就绪" in again.stdout
    assert cache.stat().st_mtime_ns == trained_at  # loaded, not trained again
