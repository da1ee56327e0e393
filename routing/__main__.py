"""Operator CLI (`bin/routing …`, README "Routing"):

  import FILE --mapping MAP.yml   train on the city's historical requests (CSV, JSONL, XLSX)
                                  with the shipped examples; report; activate if not worse
  route FILE.jsonl [-o OUT]       top-3 departments, confidences and route/ask for each message
  status                          which model is in use and how it was measured
  reset                           go back to the model trained on the shipped examples
  prepare                         train the shipped model now unless it is cached (the
                                  launcher runs this before the action servers start)

Messages in the operator's language (--lang, else GOV_STAFF_LANGUAGE, else LANG).
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

from knowledge_base.__main__ import staff_language
from routing.history import ImportRefused, read_history
from routing.importer import Evaluation, ImportResult, ImportWorse, import_history

TEXT = {
    "en": {
        "reading": "reading {file} and training (cross-validation, {folds} folds) ...",
        "rows": "{rows} requests, by department: {departments}",
        "cv": "cross-validated (shipped examples + 4/5 of the history, tested on 1/5):",
        "confusions": "most frequent confusions (expected -> routed):",
        "held": "held-out part: new model {new:.3f}, model in use ({current}) {old:.3f}",
        "activated": "activated: {file} (the running assistant switches on its next request)",
        "dry": "not activated (--dry-run)",
        "routed": "routed {count} messages: {routed} without asking, {asked} to ask; "
                  "written to {output}",
        "status_none": "in use: the model trained on the shipped examples (no import active)",
        "status": "in use: imported history ({rows} rows), imported {at}; {summary}",
        "reset": "the imported model is no longer used; the shipped one is",
        "prepared": "routing model from the shipped examples ready ({seconds:.0f} s)",
        "error": "error: {message}",
    },
    "zh": {
        "reading": "正在读取 {file} 并训练（交叉验证，{folds} 折）……",
        "rows": "共 {rows} 条诉求，各部门数量：{departments}",
        "cv": "交叉验证结果（内置样例 + 4/5 历史记录训练，另 1/5 测试）：",
        "confusions": "最常见的混淆（应为 -> 分派为）：",
        "held": "留出部分：新模型 {new:.3f}，当前模型（{current}）{old:.3f}",
        "activated": "已启用：{file}（运行中的助手在下一次请求时切换）",
        "dry": "未启用（--dry-run）",
        "routed": "已分派 {count} 条：直接分派 {routed} 条，需询问 {asked} 条；结果写入 {output}",
        "status_none": "当前使用：由内置样例训练的模型（未导入历史模型）",
        "status": "当前使用：导入的历史记录模型（{rows} 条），导入时间 {at}；{summary}",
        "reset": "已停用导入的模型，改用内置模型",
        "prepared": "由内置样例训练的分派模型已就绪（{seconds:.0f} 秒）",
        "error": "错误：{message}",
    },
}


def _print_evaluation(evaluation: Evaluation, text: dict[str, str]) -> None:
    print("  " + evaluation.summary())
    print(text["confusions"])
    for expected, routed, count in evaluation.confusions:
        print(f"  {count:>4}  {expected} -> {routed}")


def _import(args: argparse.Namespace, text: dict[str, str]) -> int:
    from routing.importer import FOLDS

    print(text["reading"].format(file=args.file, folds=FOLDS), flush=True)
    try:
        result = import_history(Path(args.file), Path(args.mapping), args.text_column or None,
                                args.category_column, activate=not args.dry_run)
    except ImportWorse as refusal:
        _report(refusal.result, text)
        print(text["error"].format(message=refusal.message(args.language)), file=sys.stderr)
        return 3
    _report(result, text)
    print(text["activated"].format(file=result.model_file) if result.activated else text["dry"])
    _audit("routing.import", args.file, result.cross_validated.summary())
    return 0


def _report(result: ImportResult, text: dict[str, str]) -> None:
    departments = ", ".join(f"{name} {count}" for name, count in result.departments.items())
    print(text["rows"].format(rows=result.rows, departments=departments))
    print(text["cv"])
    _print_evaluation(result.cross_validated, text)
    print(text["held"].format(new=result.held_out_new, old=result.held_out_current,
                              current=result.current))


def _route(args: argparse.Namespace, text: dict[str, str]) -> int:
    from routing.classifier import default_router

    messages = read_history(Path(args.file), args.text_field or None, category_column="",
                            require_category=False)
    router = default_router()
    output = open(args.output, "w", encoding="utf-8") if args.output else sys.stdout
    routed = 0
    try:
        for start in range(0, len(messages), 64):
            batch = messages[start:start + 64]
            rankings = router.rank_many([m.text for m in batch], 3)
            for offset, (message, ranking) in enumerate(zip(batch, rankings, strict=True)):
                ask = router.should_ask(ranking)
                routed += not ask
                row = {"line": start + offset + 1, **({"id": message.id} if message.id else {}),
                       "decision": "ask" if ask else "route", "department": ranking[0].department,
                       "top": [{"department": c.department, "confidence": round(c.confidence, 4)}
                               for c in ranking]}
                output.write(json.dumps(row, ensure_ascii=False) + "\n")
    finally:
        if args.output:
            output.close()
    print(text["routed"].format(count=len(messages), routed=routed, asked=len(messages) - routed,
                                output=args.output or "stdout"), file=sys.stderr)
    return 0


def _status(text: dict[str, str]) -> int:
    from routing.config import RoutingSettings
    from routing.models import model_report

    report = model_report() if RoutingSettings().model_file.exists() else None
    if report is None:
        print(text["status_none"])
        return 0
    evaluation = Evaluation(**report["cross_validated"])
    print(text["status"].format(rows=report["rows"], at=report.get("at", "?"),
                                summary=evaluation.summary()))
    return 0


def _reset(text: dict[str, str]) -> int:
    from routing.config import RoutingSettings

    path = RoutingSettings().model_file
    for file in (path, path.with_suffix(".json")):
        file.unlink(missing_ok=True)
    _audit("routing.reset", str(path), "")
    print(text["reset"])
    return 0


def _prepare(text: dict[str, str]) -> int:
    """Train (or load from the state folder's cache) the model of the shipped examples, so
    that no citizen's first request waits ~40 s for it and several action servers do not
    each train it at once."""
    import time

    from routing.classifier import shipped_router

    started = time.perf_counter()
    shipped_router()
    print(text["prepared"].format(seconds=time.perf_counter() - started))
    return 0


def _audit(action: str, target: str, detail: str) -> None:
    """Operator actions go to the staff audit log when the database is reachable."""
    try:
        from staff.audit import record

        record("cli", action, target, detail)
    except Exception as error:  # the model is already in place; the log is secondary
        print(f"(audit log not written: {error.__class__.__name__})", file=sys.stderr)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="bin/routing", description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--lang", choices=["zh", "en"], default=None)
    commands = parser.add_subparsers(dest="command", required=True)
    importing = commands.add_parser("import", help="train on historical requests")
    importing.add_argument("file", help=".csv, .jsonl or .xlsx")
    importing.add_argument("--mapping", required=True,
                           help="YAML: each category in the file -> a catalogue department id")
    importing.add_argument("--text-column", action="append",
                           help="text column(s), joined in order (default: subject + text)")
    importing.add_argument("--category-column", help="default: category / department / 分类 …")
    importing.add_argument("--dry-run", action="store_true", help="report only, do not activate")
    routing = commands.add_parser("route", help="route a JSONL file of messages")
    routing.add_argument("file")
    routing.add_argument("-o", "--output", help="JSONL output (default: standard output)")
    routing.add_argument("--text-field", action="append",
                         help="field(s) holding the message (default: subject + text)")
    commands.add_parser("status", help="the model in use")
    commands.add_parser("reset", help="use the model trained on the shipped examples again")
    commands.add_parser("prepare", help="train the shipped model now unless it is cached")
    args = parser.parse_args(argv)
    args.language = args.lang or staff_language()
    text = TEXT[args.language]
    try:
        if args.command == "import":
            return _import(args, text)
        if args.command == "route":
            return _route(args, text)
        if args.command == "prepare":
            return _prepare(text)
        return _status(text) if args.command == "status" else _reset(text)
    except ImportRefused as refusal:
        print(text["error"].format(message=refusal.message(args.language)), file=sys.stderr)
        return 2


if __name__ == "__main__":
    sys.exit(main())
