"""Staff CLI: `kb add|update|import-faq|remove|list|show|reindex|unanswered|seed` (README)."""

from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path

import yaml

from common.registry import setting
from knowledge_base.config import KnowledgeBaseSettings
from knowledge_base.documents import DocumentError
from knowledge_base.index import BuildReport, current_version
from knowledge_base.service import KnowledgeBase

TEXT = {
    "en": {
        "nothing": "knowledge base already initialised; nothing to do",
        "published": "published index version {version}: {documents} documents, {chunks} chunks "
                     "({embedded} embedded, {reused} reused) in {seconds:.1f} s",
        "current": "current", "stale": "expired/superseded",
        "index": "index version: {version}", "error": "error: {message}",
    },
    "zh": {
        "nothing": "知识库已初始化，无需操作",
        "published": "已发布索引版本 {version}：{documents} 个文件，{chunks} 个段落"
                     "（新计算 {embedded}，复用 {reused}），用时 {seconds:.1f} 秒",
        "current": "现行", "stale": "已过期/已废止",
        "index": "当前索引版本：{version}", "error": "错误：{message}",
    },
}


def staff_language() -> str:
    """--lang, else GOV_STAFF_LANGUAGE, else the terminal's locale (zh_CN.UTF-8 → zh)."""
    chosen = setting("GOV_STAFF_LANGUAGE") or os.environ.get("LANG") or "en"
    return "zh" if chosen.lower().startswith("zh") else "en"


def _metadata(path: str | None) -> dict | None:
    if not path:
        return None
    try:
        data = yaml.safe_load(Path(path).read_text(encoding="utf-8"))
    except (OSError, yaml.YAMLError) as error:
        raise DocumentError(f"cannot read metadata file {path}: {error}",
                            f"无法读取元数据文件 {path}：{error}") from error
    if not isinstance(data, dict):
        raise DocumentError(f"metadata file {path} must contain a mapping",
                            f"元数据文件 {path} 必须是“字段: 值”的形式")
    return data


def _report(report: BuildReport | None, text: dict[str, str]) -> None:
    if report is None:
        print(text["nothing"])
        return
    print(text["published"].format(**vars(report)))


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="kb", description="Manage the policy knowledge base.")
    commands = parser.add_subparsers(dest="command", required=True)
    for name in ("add", "update"):
        sub = commands.add_parser(name, help=f"{name} a document (md, txt, html, pdf, docx)")
        sub.add_argument("file")
        sub.add_argument("--meta", help="YAML metadata file (else front matter / <file>.meta.yml)")
    faq = commands.add_parser("import-faq", help="add or update one document per FAQ entry "
                              "(csv, jsonl, xml: id, question, answer, department, keywords, date)")
    faq.add_argument("file")
    faq.add_argument("--format", choices=["csv", "jsonl", "xml"], default=None,
                     help="default: from the file name's suffix")
    commands.add_parser("remove", help="remove a document").add_argument("id")
    commands.add_parser("list", help="list documents")
    commands.add_parser("show", help="show a document's metadata and sections").add_argument("id")
    commands.add_parser("reindex", help="rebuild the index from the stored documents")
    commands.add_parser("seed", help="load the shipped sample documents into an empty store")
    unanswered = commands.add_parser("unanswered", help="questions the assistant could not answer")
    unanswered.add_argument("--limit", type=int, default=30)
    parser.add_argument("--lang", choices=["zh", "en"], default=None,
                        help="language of messages (default: GOV_STAFF_LANGUAGE or LANG)")
    args = parser.parse_args(argv)
    language = args.lang or staff_language()
    text = TEXT[language]

    kb = KnowledgeBase(KnowledgeBaseSettings())
    try:
        if args.command in ("add", "update"):
            method = kb.add if args.command == "add" else kb.update
            _report(method(Path(args.file), _metadata(args.meta)), text)
        elif args.command == "import-faq":
            _report(kb.import_faq(Path(args.file), args.format), text)
        elif args.command == "remove":
            _report(kb.remove(args.id), text)
        elif args.command == "list":
            for stored in kb.list():
                m = stored.metadata
                status = text["current"] if m.is_current() else text["stale"]
                print(f"{m.id:<40} {m.language}  {m.department:<34} "
                      f"{m.effective_date or '-'}  v{m.version}  {status}  {m.title}")
            print(text["index"].format(version=current_version(kb.settings)))
        elif args.command == "show":
            document = kb.show(args.id)
            print(yaml.safe_dump(document.metadata.to_mapping(), allow_unicode=True,
                                 sort_keys=False))
            for section in document.sections:
                print("## " + " › ".join(section.headings))
                print(section.text + "\n")
        elif args.command == "reindex":
            _report(kb.reindex(), text)
        elif args.command == "seed":
            _report(kb.seed_sample(), text)
        elif args.command == "unanswered":
            from knowledge_base.records import unanswered_summary

            for row in unanswered_summary(args.limit):
                print(f"{row.count:>4}  {row.language}  {row.last_seen[:16]}  {row.text}")
    except DocumentError as error:
        print(text["error"].format(message=error.message(language)), file=sys.stderr)
        return 2
    return 0


if __name__ == "__main__":
    sys.exit(main())
