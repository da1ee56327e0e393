"""Knowledge-base settings, read through the settings registry (common/registry.py)."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

from common.registry import from_env, setting

SAMPLE_DIR = Path(__file__).resolve().parent / "sample"
DEFAULT_MODEL = "use-multilingual-v3"


@dataclass(frozen=True)
class KnowledgeBaseSettings:
    # Where documents and index versions live.
    home: Path = from_env("GOV_KB_DIR")
    # "use-multilingual-v3" (built in) or "sentence-transformers:/path/to/model".
    model: str = from_env("GOV_KB_MODEL")
    max_file_bytes: int = field(
        default_factory=lambda: int(setting("GOV_KB_MAX_FILE_MB") * 1024 * 1024)
    )
    chunk_chars: int = from_env("GOV_KB_CHUNK_CHARS")
    overlap_sentences: int = 1
    # Answers scoring below this are "not found" (calibrated with `make bench-kb`).
    # How "answer or decline" is decided (README "Knowledge base"): by default the fitted
    # answerability classifier shipped in knowledge_base/data/answerability.json (a path here
    # replaces it; "off" disables it). It only applies to the embedding model it was fitted
    # with; otherwise, or when off, the best passage's cosine score is compared with min_score.
    answerability: str = from_env("GOV_KB_ANSWERABILITY")
    # Answers whose answerability probability is below this are "not found"; empty = the
    # threshold chosen by cross-validation on the training questions, stored with the model.
    min_confidence: float | None = from_env("GOV_KB_MIN_CONFIDENCE")
    # A request that also asks about the rules gets a passage beside it only this sure.
    related_min_confidence: float = from_env("GOV_KB_RELATED_MIN_CONFIDENCE")
    # Without a classifier for the configured model: answers whose cosine score is below this
    # are "not found" (calibrated with `make bench-kb`).
    min_score: float = from_env("GOV_KB_MIN_SCORE")
    # A question within this many seconds of the conversation's last answered one (same
    # session, no other flow in between) may be read as its follow-up; 0 turns that off.
    followup_seconds: float = from_env("GOV_KB_FOLLOWUP_SECONDS")
    # Seconds between checks for a newly published index version.
    reload_interval: float = from_env("GOV_KB_RELOAD_SECONDS")

    @property
    def documents_dir(self) -> Path:
        return self.home / "documents"

    @property
    def versions_dir(self) -> Path:
        return self.home / "versions"

    @property
    def current_pointer(self) -> Path:
        return self.home / "CURRENT"

    @property
    def database(self) -> Path:
        return self.home / "kb.db"
