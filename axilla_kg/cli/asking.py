"""``recommend --ask``: the next question on a terminal, until the answer is decided.

Clinicians do not type seventeen facts; they answer one or two questions. Each round asks the
answer's ``next_question`` (prompts on stderr, like ``read -p``, so stdout carries only the final
answer and ``--format json`` stays one JSON document), reads one line from stdin, checks it with
the case contract, and asks again until ``next_question`` is null. An empty line (or ``?``) means
"not known": that field is not asked again. A wrong answer gets a one-line error and the same
question again, three times at most; then the run stops with that error (exit 2). Stdin ending
early stops the questions and prints the answer as it stands.
"""

from __future__ import annotations

from typing import IO, Any

from axilla_kg.contract.cases import CaseError
from axilla_kg.contract.features import Feature
from axilla_kg.inputs.numbers import NumberSyntaxError, parse_decimal, parse_whole
from axilla_kg.recommend.recommender import Recommender

#: tries per question before the run stops with the last error
TRIES = 3
#: longest answer line read (anything longer is refused, not buffered)
MAX_LINE = 4096
NOT_KNOWN = ("", "?")
YES = ("true", "yes", "y")
NO = ("false", "no", "n")


def ask(
    recommender: Recommender,
    data: dict[str, Any],
    procedure: str | None,
    detail: str,
    stdin: IO[bytes],
    prompts: IO[str],
) -> dict[str, Any]:
    """Ask until decided; the final answer carries ``asked``: each question's field and the
    answer given (``null``: not known)."""
    data = dict(data)
    skip: set[str] = set()
    asked: list[dict[str, Any]] = []
    case = recommender.reader.parse(data)
    for _ in range(len(recommender.registry.fields) + 1):  # each round gives or skips a field
        result = recommender.recommend(case, detail=detail, procedure=procedure, skip=frozenset(skip))
        question = result["next_question"]
        if question is None:
            break
        feature = recommender.registry[question["field"]]
        for decided in result["decided"]:
            prompts.write(f"decided: {decided['procedure']}: {decided['category']}\n")
        prompts.write(f"{question['label']}? - {question['why']}\n")
        answered = _one_answer(recommender, data, feature, question, stdin, prompts)
        if answered is _EOF:
            prompts.write("(no more answers: the answer as it stands)\n")
            break
        if answered is None:
            skip.add(feature.name)
        else:
            data[feature.name] = answered
            case = recommender.reader.parse(data)
            answered = case.to_json()[feature.name]  # as the contract writes it (a size as a JSON number)
        asked.append({"field": feature.name, "answer": answered})
    result["asked"] = asked
    return result


_EOF = object()


def _one_answer(
    recommender: Recommender,
    data: dict[str, Any],
    feature: Feature,
    question: dict[str, Any],
    stdin: IO[bytes],
    prompts: IO[str],
) -> Any:
    choices = _choices(question)
    error: CaseError | None = None
    for _ in range(TRIES):
        if error is not None:
            prompts.write(f"axilla-kg: error: {printable(str(error))}\n")
        prompts.write(f"{feature.name} [{choices}, Enter: not known]: ")
        prompts.flush()
        raw = stdin.readline(MAX_LINE + 1)
        if raw == b"":
            return _EOF
        if not stdin.isatty():  # piped answers: show each in the transcript
            prompts.write(printable(raw.decode("utf-8", "replace").strip()[:80]) + "\n")
        try:
            if len(raw) > MAX_LINE:
                raise CaseError(feature.name, f"answer longer than {MAX_LINE} bytes")
            text = raw.decode("utf-8").strip()
            if text in NOT_KNOWN:
                return None
            value = _typed(feature, text)
            recommender.reader.parse({**data, feature.name: value})  # contradictions name both fields
            return value
        except UnicodeDecodeError:
            error = CaseError(feature.name, "the answer is not UTF-8 text")
        except CaseError as exc:
            error = exc
        if len(raw) > MAX_LINE:  # drop the rest of the over-long line
            while raw and not raw.endswith(b"\n"):
                raw = stdin.readline(MAX_LINE + 1)
    assert error is not None
    raise error


def printable(text: str) -> str:
    """Text echoed to the terminal with control characters (escape sequences) shown as '?'."""
    return "".join(c if c.isprintable() else "?" for c in text)


def _choices(question: dict[str, Any]) -> str:
    values = question.get("values")
    if values is None:
        unit = f" {question['unit']}" if question.get("unit") else ""
        return f"a number{unit}: " + " or ".join(question.get("ranges") or [])
    return "/".join(("true" if v else "false") if isinstance(v, bool) else str(v) for v in values)


def _typed(feature: Feature, text: str) -> Any:
    """The answer typed as the JSON contract types the field (the contract then checks it)."""
    if feature.kind == "boolean":
        lowered = text.lower()
        if lowered in YES or lowered in NO:
            return lowered in YES
        raise CaseError(feature.name, f"expected true or false (yes/no), got '{text}'")
    if feature.kind in ("integer", "decimal"):
        try:
            return parse_whole(text) if feature.kind == "integer" else parse_decimal(text)
        except NumberSyntaxError as exc:
            raise CaseError(feature.name, f"expected {exc}") from None
    return text
