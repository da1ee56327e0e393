"""The staff CLI, in both languages, on a real knowledge base in a temporary folder."""

from __future__ import annotations

from helpers.knowledge import markdown
from knowledge_base.__main__ import main


def test_add_list_remove_in_english(kb_settings, tmp_path, capsys):
    path = tmp_path / "guide.md"
    path.write_bytes(markdown("cli-guide", "Library card guide", "en",
                              "## Fees\n\nA library card is free for residents.\n"))
    assert main(["--lang", "en", "add", str(path)]) == 0
    assert "published index version 1: 1 documents" in capsys.readouterr().out
    assert main(["--lang", "en", "list"]) == 0
    listing = capsys.readouterr().out
    assert "cli-guide" in listing and "current" in listing and "index version: 1" in listing
    assert main(["--lang", "en", "remove", "cli-guide"]) == 0


def test_errors_are_reported_in_chinese_and_change_nothing(kb_settings, tmp_path, capsys):
    broken = tmp_path / "broken.pdf"
    broken.write_bytes(b"%PDF-1.4 not really")
    assert main(["--lang", "zh", "add", str(broken)]) == 2
    assert "错误：PDF 文件无法读取" in capsys.readouterr().err
    assert main(["--lang", "zh", "remove", "nothing-here"]) == 2
    assert "没有编号为 'nothing-here' 的文件" in capsys.readouterr().err
    assert not kb_settings.documents_dir.exists() or not any(kb_settings.documents_dir.iterdir())


def test_language_follows_the_staff_locale(kb_settings, monkeypatch, capsys):
    monkeypatch.setenv("LANG", "zh_CN.UTF-8")
    monkeypatch.delenv("GOV_STAFF_LANGUAGE", raising=False)
    assert main(["list"]) == 0
    assert "当前索引版本" in capsys.readouterr().out
