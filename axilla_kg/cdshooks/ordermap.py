"""The order mapping (``ontology/order-codes.sssom.tsv``): which ACR procedures an order's codes and
catalogue text name, each mapping with its predicate, confidence and the public page it was read on.

The file is SSSOM/TSV: a ``#`` metadata block (its ``curie_map``), then one row per mapping with
``subject_id`` (``CPT:78815``, ``LOINC:106308-0``, ``HCPCS:G0279`` or a catalogue normal form ``axcat:...``),
``predicate_id``, ``object_id``/``object_label`` (our procedure and its exact ACR name), ``mapping_justification``,
``confidence``, ``see_also`` (the source) and ``comment``. It is read once and checked as it is read: an
unknown predicate, a confidence outside 0..1, a source that is not an http(s) URL or a subject prefix with
no FHIR code system stops the load with the line number (a broken data file is our bug, never the
client's). The tests also check every ``object_label`` against the graph's procedures.
"""

from __future__ import annotations

import csv
from dataclasses import dataclass
from functools import cache
from pathlib import Path

from axilla_kg.errors import MappingFileError as MappingFileError  # re-exported: moved to errors.py
from axilla_kg.formats.sssom import columns
from axilla_kg.resources import ontology_dir

FILE_NAME = "order-codes.sssom.tsv"
SKOS = "skos:"
PREDICATES = frozenset({"skos:exactMatch", "skos:broadMatch", "skos:narrowMatch"})
#: CURIE prefix of a subject -> the FHIR ``Coding.system`` URI of that code system (FHIR R4 "Using Codes",
#: https://hl7.org/fhir/R4/terminologies-systems.html: CPT, LOINC; HCPCS Level II as CMS publishes it).
FHIR_SYSTEMS = {
    "CPT": "http://www.ama-assn.org/go/cpt",
    "HCPCS": "https://www.cms.gov/Medicare/Coding/HCPCSReleaseCodeSets",
    "LOINC": "http://loinc.org",
}
SYSTEM_NAMES = {uri: prefix for prefix, uri in FHIR_SYSTEMS.items()}
CATALOGUE = "axcat"
COLUMNS = columns("confidence", "see_also")


@dataclass(frozen=True)
class Mapping:
    """One SSSOM row."""

    subject_id: str
    subject_label: str
    predicate: str  # exactMatch | broadMatch | narrowMatch (without the skos: prefix)
    procedure: str  # the exact ACR procedure name (object_label)
    confidence: float
    source: str  # see_also: where the code's meaning was read
    comment: str

    @property
    def code(self) -> str:
        return self.subject_id.split(":", 1)[1]

    @property
    def prefix(self) -> str:
        return self.subject_id.split(":", 1)[0]

    def features(self) -> dict[str, str]:
        """A catalogue row's normal form (``modality=US region=axilla`` -> dict)."""
        return dict(part.split("=", 1) for part in self.subject_label.split() if "=" in part)


@dataclass(frozen=True)
class OrderMap:
    by_code: dict[tuple[str, str], tuple[Mapping, ...]]  # (FHIR system, code) -> rows
    catalogue: tuple[Mapping, ...]

    def for_coding(self, system: str, code: str) -> tuple[Mapping, ...]:
        return self.by_code.get((system, code), ())


def _row(line: int, values: dict[str, str]) -> Mapping:
    where = f"{FILE_NAME} line {line}"
    prefix = values["subject_id"].split(":", 1)[0]
    if ":" not in values["subject_id"] or (prefix not in FHIR_SYSTEMS and prefix != CATALOGUE):
        raise MappingFileError(f"{where}: subject_id '{values['subject_id']}' has no known prefix")
    if values["predicate_id"] not in PREDICATES:
        raise MappingFileError(f"{where}: predicate_id '{values['predicate_id']}' is not one of {sorted(PREDICATES)}")
    try:
        confidence = float(values["confidence"])
    except ValueError:
        raise MappingFileError(f"{where}: confidence '{values['confidence']}' is not a number") from None
    if not 0 < confidence <= 1:
        raise MappingFileError(f"{where}: confidence {confidence} is outside (0, 1]")
    if not values["see_also"].startswith(("https://", "http://")):
        raise MappingFileError(f"{where}: see_also (the source) must be an http(s) URL")
    if not values["object_label"] or not values["mapping_justification"].startswith("semapv:"):
        raise MappingFileError(f"{where}: object_label and a semapv: mapping_justification are required")
    return Mapping(
        values["subject_id"],
        values["subject_label"],
        values["predicate_id"].removeprefix(SKOS),
        values["object_label"],
        confidence,
        values["see_also"],
        values["comment"],
    )


def read(path: Path) -> OrderMap:
    """Parse and check one SSSOM/TSV file."""
    lines = path.read_text(encoding="utf-8").splitlines()
    body = [(i + 1, line) for i, line in enumerate(lines) if line.strip() and not line.startswith("#")]
    if not body:
        raise MappingFileError(f"{FILE_NAME}: no header row")
    header = body[0][1].split("\t")
    if tuple(header) != COLUMNS:
        raise MappingFileError(f"{FILE_NAME} line {body[0][0]}: columns must be {', '.join(COLUMNS)}")
    by_code: dict[tuple[str, str], list[Mapping]] = {}
    catalogue: list[Mapping] = []
    for number, line in body[1:]:
        cells = next(csv.reader([line], delimiter="\t", quoting=csv.QUOTE_NONE))
        if len(cells) != len(COLUMNS):
            raise MappingFileError(f"{FILE_NAME} line {number}: {len(cells)} cells, expected {len(COLUMNS)}")
        row = _row(number, dict(zip(COLUMNS, cells, strict=True)))
        if row.prefix == CATALOGUE:
            catalogue.append(row)
        else:
            by_code.setdefault((FHIR_SYSTEMS[row.prefix], row.code), []).append(row)
    return OrderMap({k: tuple(v) for k, v in by_code.items()}, tuple(catalogue))


@cache
def shipped() -> OrderMap:
    """The package's mapping file, read once per process."""
    return read(ontology_dir() / FILE_NAME)
