"""Chinese word segmentation (jieba) set up once per process, the same way everywhere.

The NLU tokenizer and the knowledge base's lexical search must cut words identically, with
the project's dictionary of government terms and jieba's cache kept in the state folder.
"""

from __future__ import annotations

import logging
from functools import lru_cache
from pathlib import Path

from common.registry import setting

DICTIONARY = Path(__file__).resolve().parent / "jieba_dict.txt"


@lru_cache(maxsize=1)
def segmenter():
    """The initialised `jieba` module (loading takes ~0.7 s, so it is done up front)."""
    import jieba

    cache_dir = setting("GOV_ASSISTANT_CACHE_DIR")
    if cache_dir:
        Path(cache_dir).mkdir(parents=True, exist_ok=True)
        jieba.dt.tmp_dir = str(cache_dir)
    jieba.setLogLevel(logging.WARNING)
    jieba.initialize()
    if DICTIONARY.is_file():
        jieba.load_userdict(str(DICTIONARY))
    return jieba
