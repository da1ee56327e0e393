"""Staff CLI: `kb add|update|remove|list|show|reindex|unanswered|seed` (see README)."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

import yaml

from knowledge_base.config import KnowledgeBaseSettings
from knowledge_base.documents import DocumentError
from knowledge_base.index import BuildReport, current_version
from knowledge_base.service import KnowledgeBase


def _metadata(path: str | None) -> dict | None:
    if not path:
        return None
    try:
        data = yaml.safe_load(Path(path).read_text(encoding="utf-8"))
    except (OSError, yaml.YAMLError) as error:
        raise DocumentError(f"cannot read metadata file {path}: {error}") from error
    if not isinstance(data, dict):
        raise DocumentError(f"metadata file {path} must contain a mapping")
    return data


def _report(report: BuildReport | None) -> None:
    if report is None:
        print("knowledge base already initialised; nothing to do")
        return
    print(f"published index version {report.version}: {report.documents} documents, "
          f"{report.chunks} chunks ({report.embedded} embedded, {report.reused} reused) "
          f"in {report.seconds:.1f} s")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="kb", description="Manage the policy knowledge base.")
    commands = parser.add_subparsers(dest="command", required=True)
    for name in ("add", "update"):
        sub = commands.add_parser(name, help=f"{name} a document (md, txt, html, pdf, docx)")
        sub.add_argument("file")
        sub.add_argument("--meta", help="YAML metadata file (else front matter / <file>.meta.yml)")
    commands.add_parser("remove", help="remove a document").add_argument("id")
    commands.add_parser("list", help="list documents")
    commands.add_parser("show", help="show a document's metadata and sections").add_argument("id")
    commands.add_parser("reindex", help="rebuild the index from the stored documents")
    commands.add_parser("seed", help="load the shipped sample documents into an empty store")
    unanswered = commands.add_parser("unanswered", help="questions the assistant could not answer")
    unanswered.add_argument("--limit", type=int, default=30)
    args = parser.parse_args(argv)

    kb = KnowledgeBase(KnowledgeBaseSettings())
    try:
        if args.command in ("add", "update"):
            method = kb.add if args.command == "add" else kb.update
            _report(method(Path(args.file), _metadata(args.meta)))
        elif args.command == "remove":
            _report(kb.remove(args.id))
        elif args.command == "list":
            for stored in kb.list():
                m = stored.metadata
                status = "current" if m.is_current() else "expired/superseded"
                print(f"{m.id:<40} {m.language}  {m.department:<34} "
                      f"{m.effective_date or '-'}  v{m.version}  {status}  {m.title}")
            print(f"index version: {current_version(kb.settings)}")
        elif args.command == "show":
            document = kb.show(args.id)
            print(yaml.safe_dump(document.metadata.to_mapping(), allow_unicode=True,
                                 sort_keys=False))
            for section in document.sections:
                print("## " + " › ".join(section.headings))
                print(section.text + "\n")
        elif args.command == "reindex":
            _report(kb.reindex())
        elif args.command == "seed":
            _report(kb.seed_sample())
        elif args.command == "unanswered":
            from knowledge_base.records import unanswered_summary

            for row in unanswered_summary(args.limit):
                print(f"{row.count:>4}  {row.language}  {row.last_seen[:16]}  {row.text}")
    except DocumentError as error:
        print(f"error: {error}", file=sys.stderr)
        return 2
    return 0


if __name__ == "__main__":
    sys.exit(main())
