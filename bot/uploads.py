"""What staff and operators upload (FAQ collections, historical requests): one bilingual error
type and one reader of JSON Lines, so every importer refuses bad input the same way.

No Rasa imports: the knowledge base and the router use it in the app environment.
"""

from __future__ import annotations

import json


class BilingualError(ValueError):
    """Input that will not be used; says why in English and Chinese."""

    def __init__(self, message: str, message_zh: str) -> None:
        super().__init__(message)
        self.message_zh = message_zh

    def message(self, language: str) -> str:
        return self.message_zh if language == "zh" else str(self)


def json_objects(text: str, error: type[BilingualError] = BilingualError,
                 name: str = "") -> list[dict]:
    """The JSON object on each non-blank line of `text`; `error` (naming the file `name`, if
    given) for the first line that is not one."""
    where = f"{name} " if name else ""
    rows = []
    for number, line in enumerate(text.splitlines(), start=1):
        if not line.strip():
            continue
        try:
            row = json.loads(line)
        except ValueError as problem:
            raise error(f"{where}line {number} is not JSON ({problem.args[0]})",
                        f"{where}第 {number} 行不是 JSON（{problem.args[0]}）") from problem
        if not isinstance(row, dict):
            raise error(f"{where}line {number} is not a JSON object",
                        f"{where}第 {number} 行不是 JSON 对象")
        rows.append(row)
    return rows
