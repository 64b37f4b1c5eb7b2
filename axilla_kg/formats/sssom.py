"""SSSOM/TSV columns: the one table of the mapping slots our two SSSOM files use.

``export --format sssom`` writes the graph's terminology mappings and ``cdshooks.ordermap`` reads
``ontology/order-codes.sssom.tsv``; each names the slots it has, and both take their order from
``SLOTS`` (the order the SSSOM schema lists its mapping slots in), so the two files cannot drift
into different spellings or layouts of the same columns.
"""

from __future__ import annotations

#: the SSSOM mapping slots we use, in the SSSOM schema's order
SLOTS = (
    "subject_id",
    "subject_label",
    "predicate_id",
    "object_id",
    "object_label",
    "mapping_justification",
    "object_source",
    "confidence",
    "see_also",
    "comment",
)
#: the slots every mapping row has (SSSOM's required ones plus the labels we always give)
CORE = ("subject_id", "subject_label", "predicate_id", "object_id", "object_label", "mapping_justification", "comment")


def columns(*extra: str) -> tuple[str, ...]:
    """The header of a file with the ``CORE`` slots and ``extra``, in ``SLOTS`` order."""
    unknown = sorted(set(extra) - set(SLOTS))
    if unknown:
        raise ValueError(f"not an SSSOM slot we use: {', '.join(unknown)}")
    wanted = {*CORE, *extra}
    return tuple(slot for slot in SLOTS if slot in wanted)
