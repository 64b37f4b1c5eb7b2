"""The batch fast path (axilla_kg.contract.fastline) answers every line exactly as the strict path does.

Hypothesis writes case lines the way programs and attackers do — fields in any order, any JSON
spacing, numbers as ``2``, ``2.0``, ``2.0000001``, ``1e0``, ``"2"``, ``40.0``, huge or negative,
explicit nulls, repeated keys, unknown or misspelt fields, nested values, escapes, colons inside
strings, a byte-order mark, invalid UTF-8 — and every line must get byte-for-byte the answer of a
batch answerer with the fast path switched off (which decodes with ``inputs.safejson`` and checks
with ``cases.CaseReader``). The test also counts how many lines the fast path took, so it fails if
the fast path silently never engages.
"""

from __future__ import annotations

import json
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from axilla_kg.contract.features import shipped_registry
from axilla_kg.graph.knowledge import KnowledgeGraph
from axilla_kg.recommend.batch import BatchRecommender
from axilla_kg.recommend.recommender import Recommender

REGISTRY = shipped_registry()
NUMBERS = ["2", "2.0", "2.00", "2.0000001", "1.9999999", "0.3", "7", "150", "151", "0", "-1", "0.0", "1e0", "2E1",
           "1.5e0", '"2"', "40.0", "18", "17", "true", "null", "1" * 120, "0.1234567890123456", "3.25"]  # fmt: skip
SPACES = ["", " ", "\t", "\n", "  "]


@pytest.fixture(scope="module")
def answerers() -> tuple[BatchRecommender, BatchRecommender]:
    recommender = Recommender.load(KnowledgeGraph.load())
    fast, strict = BatchRecommender(recommender), BatchRecommender(recommender)
    assert fast.fast is not None, "the shipped registry must allow the fast path"
    strict.fast = None
    return fast, strict


def _value(draw: st.DrawFn, name: str) -> str:
    feature = next(f for f in REGISTRY.features if f.name == name)
    choices: list[str] = ["null"]
    if feature.kind == "enum":
        choices += [json.dumps(v) for v in feature.values] + ['"nonsense"', '"New"', "1", '"fem\\u0061le"']
    elif feature.kind == "boolean":
        choices += ["true", "false", "1", '"true"']
    else:
        choices += NUMBERS
    return draw(st.sampled_from(choices))


@st.composite
def lines(draw: st.DrawFn) -> bytes:
    """A case line: mostly valid fields, now and then a hostile twist."""
    names = draw(st.lists(st.sampled_from(list(REGISTRY.fields)), min_size=0, max_size=8, unique=True))
    if draw(st.booleans()):
        names = ["sex", *[n for n in names if n != "sex"]]
    members: list[tuple[str, str]] = [(json.dumps(n), _value(draw, n)) for n in names]
    twist = draw(st.sampled_from(["none"] * 6 + ["repeat", "unknown", "nested", "colon", "escape-key", "array"]))
    if twist == "repeat" and members:
        members.append((members[0][0], draw(st.sampled_from([members[0][1], '"male"', "null"]))))
    elif twist == "unknown":
        members.append(('"tumour_size_cm"', "1.5"))
    elif twist == "nested":
        members.append(('"age"', '{"a":1}'))
    elif twist == "colon":
        members.append(('"sex"', '"female:male"'))
    elif twist == "escape-key":
        members.append(('"\\u0073ex"', '"female"'))
    elif twist == "array" and members:
        members[-1] = (members[-1][0], "[" + members[-1][1] + "]")
    space = draw(st.sampled_from(SPACES))
    body = ("," + space).join(f"{k}{draw(st.sampled_from(SPACES))}:{space}{v}" for k, v in members)
    text = "{" + space + body + space + "}"
    raw = text.encode()
    ending = draw(st.sampled_from(["plain"] * 8 + ["bom", "latin1", "trailing", "not-object"]))
    if ending == "bom":
        raw = b"\xef\xbb\xbf" + raw
    elif ending == "latin1":
        raw = raw.replace(b"female", b"f\xe9male")
    elif ending == "trailing":
        raw += b" x"
    elif ending == "not-object":
        raw = b"[" + raw + b"]"
    return raw


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(batch=st.lists(lines(), min_size=50, max_size=50))
def test_fast_path_answers_like_the_strict_path(
    answerers: tuple[BatchRecommender, BatchRecommender], batch: list[bytes]
) -> None:
    fast, strict = answerers
    for number, raw in enumerate(batch, start=1):
        assert b"".join(fast.answer_line(number, raw)[:2]) == b"".join(strict.answer_line(number, raw)[:2]), raw


WHOLE = ["0", "1", "17", "18", "40", "150", "151", "-1", "null"]


@st.composite
def plain_lines(draw: st.DrawFn) -> bytes:
    """A line of known fields with values of the right JSON type (so a block of them decodes as one),
    valid or not under the contract: out-of-range numbers, contradictions, a missing required field."""
    names = draw(st.lists(st.sampled_from(list(REGISTRY.fields)), min_size=0, max_size=10, unique=True))
    members = []
    for name in names:
        feature = next(f for f in REGISTRY.features if f.name == name)
        if feature.kind == "enum":
            value = draw(st.sampled_from([*map(json.dumps, feature.values), "null"]))
        elif feature.kind == "boolean":
            value = draw(st.sampled_from(["true", "false", "null"]))
        elif feature.kind == "integer":
            value = draw(st.sampled_from(WHOLE))
        else:
            value = draw(st.sampled_from([n for n in NUMBERS if n not in ('"2"', "true")]))
        members.append(f"{json.dumps(name)}{draw(st.sampled_from(SPACES))}:{draw(st.sampled_from(SPACES))}{value}")
    return ("{" + draw(st.sampled_from([",", ", "])).join(members) + "}").encode()


def _strict_lines(strict: BatchRecommender, batch: list[bytes]) -> bytes:
    return b"".join(b"".join(strict.answer_line(number, raw)[:2]) for number, raw in enumerate(batch, start=1))


@settings(max_examples=30, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(batch=st.lists(plain_lines(), min_size=1, max_size=120))
def test_a_block_read_at_once_answers_like_the_strict_path(
    answerers: tuple[BatchRecommender, BatchRecommender], batch: list[bytes]
) -> None:
    """Blocks the fast reader decodes as one JSON array (:meth:`FastLine.read_block`): every line
    byte for byte as the strict path answers it, the contract's refusals included."""
    fast, strict = answerers
    assert fast.fast is not None and fast.fast.read_block(batch) is not None
    assert b"".join(fast.answer_block((1, batch))[0]) == _strict_lines(strict, batch)


@st.composite
def repeated_key_lines(draw: st.DrawFn) -> bytes:
    """A plain line with one of its members given twice (the same value or another): msgspec keeps
    the last, the contract refuses the line, and a block of plain lines still decodes as one."""
    line = draw(plain_lines().filter(lambda raw: raw != b"{}"))
    members = line[1:-1].split(b",")
    again = draw(st.sampled_from(members)).strip()
    name = again.split(b":")[0]
    other = draw(st.sampled_from([again, name + b":null", name + b':"x"']))
    return b"{" + b",".join([*members, other]) + b"}"


@settings(max_examples=30, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(
    batch=st.lists(plain_lines(), min_size=1, max_size=60),
    repeated=st.lists(repeated_key_lines(), min_size=1, max_size=3),
    at=st.integers(0, 60),
)
def test_a_block_with_a_repeated_key_answers_like_the_strict_path(
    answerers: tuple[BatchRecommender, BatchRecommender], batch: list[bytes], repeated: list[bytes], at: int
) -> None:
    """A line that repeats a key among plain ones: the block still decodes at once, and that line
    (only it: every other is read with the block) is answered as the strict path answers it."""
    fast, strict = answerers
    batch = batch[:at] + repeated + batch[at:]
    assert b"".join(fast.answer_block((1, batch))[0]) == _strict_lines(strict, batch)


@settings(max_examples=30, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(
    batch=st.lists(st.one_of(plain_lines(), plain_lines(), plain_lines(), lines()), min_size=1, max_size=200),
    cut=st.integers(1, 3),
)
def test_a_block_with_hostile_lines_answers_like_the_strict_path(
    answerers: tuple[BatchRecommender, BatchRecommender], batch: list[bytes], cut: int
) -> None:
    """A block with hostile lines among plain ones (the block, then runs of lines, then single lines
    are read), and lines sent again (answered from the memo of lines seen)."""
    fast, strict = answerers
    batch = batch + batch[::cut]
    assert b"".join(fast.answer_block((1, batch))[0]) == _strict_lines(strict, batch)


def test_the_fast_path_takes_plain_lines_and_declines_the_lenient_ones(
    answerers: tuple[BatchRecommender, BatchRecommender],
) -> None:
    """Independent expectations: what msgspec alone would accept but the contract refuses is
    declined (None); ordinary lines, in any spacing, are taken."""
    fast = answerers[0].fast
    assert fast is not None
    taken: list[Any] = [
        b'{"sex":"female","tumor_size_cm":2.0000001}',
        b'{ "sex" : "male" , "age" : 40, "breast_cancer": "new", "tumor_size_cm": 2 }',
        b'{"sex":"female","age":null,"question":"axilla"}',
    ]
    declined = [
        b'{"sex":"female","sex":"male"}',  # repeated key: msgspec keeps the last one
        b'{"sex":"female","tumor_size_cm":1.5e0}',  # exponent notation
        b'{"sex":"female","tumor_size_cm":"2"}',  # a number as a string
        b'{"sex":"female","age":40.0}',  # the strict path accepts it; the fast path leaves it to it
        b'\xef\xbb\xbf{"sex":"female"}',  # byte-order mark
        b'{"sex":"female","tumor_size_cm":0}',  # not positive
        b'{"sex":"female","tumor_size_cm":' + b"1" * 120 + b"}",  # over the number length cap
        b'{"sex":"f\xe9male"}',  # not UTF-8
        b'{"sex":"female","age":' + b"[" * 3000 + b"]" * 3000 + b"}",  # nested deeply
    ]
    assert all(fast(raw) is not None for raw in taken)
    assert [raw for raw in declined if fast(raw) is not None] == []
    found = fast(taken[1])
    assert found is not None
    key, echo = found
    mine = answerers[0]  # (a number's class is numbered when first met: compare within one answerer)
    assert key == mine.key(mine.load(taken[1]))  # the class key of the strict path
    line = b'{"sex":"male","age":%d,"breast_cancer":"new","tumor_size_cm":2}'
    classes = [fast(line % age) for age in (17, 40, 41)]
    assert classes[0] is not None and classes[1] is not None and classes[2] is not None
    assert classes[0][0] != classes[1][0] == classes[2][0]  # the age only by the sides of the variants' bounds
    assert json.loads(b"{" + echo + b"}") == {"sex": "male", "age": 40, "question": "axilla", "breast_cancer": "new",
                                "tumor_size_cm": 2}  # fmt: skip


def test_a_suspended_default_is_read_on_the_fast_path_as_the_contract_reads_it(
    answerers: tuple[BatchRecommender, BatchRecommender],
) -> None:
    """A palpable breast mass suspends the assumed question (``ax:DefaultException``): the line is
    taken, the question is neither echoed nor assumed, and the class key is the strict path's (one
    line in twenty of the varied benchmark mix is such a line; they used to take the strict path)."""
    mine = answerers[0]
    fast = mine.fast
    assert fast is not None
    for line in (
        b'{"sex":"female","age":45,"breast_presentation":"palpable_mass"}',
        b'{"sex":"male","breast_presentation":"gynecomastia","us_birads":"3"}',
        b'{"sex":"female","breast_cancer":"new","metastatic_suspicion":true,"tumor_size_cm":3.5}',
    ):
        found = fast(line)
        assert found is not None, line
        case = mine.load(line)
        assert "question" not in case.values  # the contract assumes no question here
        assert found[0] == mine.key(case)
        assert json.loads(b"{" + found[1] + b"}") == case.to_json()
        read = fast.read_block([line, b'{"sex":"female"}'])
        assert read is not None and read[0][0] == found[0] and read[1][0] == found[1]


def test_the_memo_stays_bounded_and_answers_stay_equal(
    answerers: tuple[BatchRecommender, BatchRecommender], monkeypatch: pytest.MonkeyPatch
) -> None:
    """With a tiny memo (cleared every few values) the answers still equal the strict path's,
    explicit nulls included, and the memo never grows past its bound."""
    import axilla_kg.contract.fastline as fastline

    monkeypatch.setattr(fastline, "MAX_MEMO", 5)
    fast, strict = answerers
    assert fast.fast is not None
    for number in range(1, 200):
        size = "null" if number % 7 == 0 else f"{number / 40:.3f}"
        raw = f'{{"sex":"female","breast_cancer":"new","tumor_size_cm":{size},"age":{number % 90}}}'.encode()
        assert fast.answer_line(number, raw)[:2] == strict.answer_line(number, raw)[:2], raw
    assert all(len(fast.fast.codes[index]) <= 5 for index in fast.fast.numeric)


def test_a_rule_on_a_numeric_value_turns_the_fast_path_off() -> None:
    """The fast path trusts the cell key to decide every rule; a rule that looks at a number's value
    (not just its presence) is not decided by the key, so such a registry gets the strict path only."""
    import dataclasses
    from decimal import Decimal

    from axilla_kg.contract.fastline import supported
    from axilla_kg.contract.features import Rule

    bounded = {"age", "tumor_size_cm"}
    assert supported(REGISTRY, bounded)
    on_value = Rule("urn:x:r1", "large tumours need a known node status", "tumor_size_cm", "clinical_nodes",
                    frozenset({"positive"}), when=frozenset({Decimal("5")}))  # fmt: skip
    on_other = Rule("urn:x:r2", "lumps need an age", "axillary_lump", "age", frozenset({18}))
    for rule in (on_value, on_other):
        assert not supported(dataclasses.replace(REGISTRY, rules=(*REGISTRY.rules, rule)), bounded)
