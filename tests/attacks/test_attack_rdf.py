"""Attack corpus: RDF ``--data`` files (issue 11): entity expansion, endless and odd files."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from axilla_kg.errors import DataError
from axilla_kg.graph import engines
from axilla_kg.graph.knowledge import KnowledgeGraph
from axilla_kg.inputs.rdfscreen import screen_rdf_file

#: The classic "billion laughs": 959 bytes that expand to gigabytes (9 GB reached before).
LAUGHS = """<?xml version="1.0"?>
<!DOCTYPE lolz [
 <!ENTITY lol "lol">
 <!ENTITY lol1 "&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;">
 <!ENTITY lol2 "&lol1;&lol1;&lol1;&lol1;&lol1;&lol1;&lol1;&lol1;&lol1;&lol1;">
 <!ENTITY lol3 "&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;">
 <!ENTITY lol4 "&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;">
 <!ENTITY lol5 "&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;">
 <!ENTITY lol6 "&lol5;&lol5;&lol5;&lol5;&lol5;&lol5;&lol5;&lol5;&lol5;&lol5;">
 <!ENTITY lol7 "&lol6;&lol6;&lol6;&lol6;&lol6;&lol6;&lol6;&lol6;&lol6;&lol6;">
 <!ENTITY lol8 "&lol7;&lol7;&lol7;&lol7;&lol7;&lol7;&lol7;&lol7;&lol7;&lol7;">
 <!ENTITY lol9 "&lol8;&lol8;&lol8;&lol8;&lol8;&lol8;&lol8;&lol8;&lol8;&lol8;">
]>
<rdf:RDF xmlns:rdf="http://www.w3.org/1999/02/22-rdf-syntax-ns#" xmlns:ex="http://example.org/">
  <rdf:Description rdf:about="http://example.org/a"><ex:p>&lol9;</ex:p></rdf:Description>
</rdf:RDF>
"""
PLAIN = """<?xml version="1.0"?>
<rdf:RDF xmlns:rdf="http://www.w3.org/1999/02/22-rdf-syntax-ns#" xmlns:ex="http://example.org/">
  <rdf:Description rdf:about="http://example.org/a"><ex:p>plain</ex:p></rdf:Description>
</rdf:RDF>
"""


@pytest.mark.parametrize("suffix", [".rdf", ".owl", ".xml"])
@pytest.mark.parametrize("engine", ["oxigraph", "rdflib"])
def test_billion_laughs_is_refused_before_parsing(tmp_path: Path, suffix: str, engine: str) -> None:
    path = tmp_path / f"laughs{suffix}"
    path.write_text(LAUGHS)
    with pytest.raises(DataError, match=r"laughs\.\w+:2: RDF/XML with a DOCTYPE"):
        KnowledgeGraph.load([path], engine=engine, include_shipped=False)
    with pytest.raises(DataError, match="DOCTYPE"):  # the loader under check, reasoner and push
        engines.load_all(engines.create(engine), [path])


def test_entity_declaration_split_across_chunks_is_found(tmp_path: Path) -> None:
    path = tmp_path / "split.rdf"
    padding = " " * ((1 << 20) - 4)  # the marker straddles the 1 MiB read boundary
    path.write_text(PLAIN.replace("<rdf:RDF", padding + "<!DOCTYPE r []>\n<rdf:RDF", 1))
    with pytest.raises(DataError, match=r"split\.rdf:2: RDF/XML with a DOCTYPE"):
        screen_rdf_file(path)


def test_utf16_rdfxml_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "wide.rdf"
    path.write_bytes(LAUGHS.encode("utf-16"))
    with pytest.raises(DataError, match="must be UTF-8"):
        screen_rdf_file(path)


def test_plain_rdfxml_still_loads(tmp_path: Path) -> None:
    path = tmp_path / "plain.rdf"
    path.write_text(PLAIN)
    for engine in ("oxigraph", "rdflib"):
        assert len(KnowledgeGraph.load([path], engine=engine, include_shipped=False)) == 1


def test_devices_pipes_and_folders_are_refused_without_reading(tmp_path: Path) -> None:
    fifo = tmp_path / "pipe.ttl"
    os.mkfifo(fifo)  # opening it for reading would block forever
    for path in (Path("/dev/zero"), fifo, tmp_path):
        with pytest.raises(DataError, match="not a regular file"):
            KnowledgeGraph.load([path])


def test_size_cap(tmp_path: Path) -> None:
    path = tmp_path / "big.ttl"
    path.write_text("# " + "x" * 200 + "\n")
    with pytest.raises(DataError, match="larger than the 100 bytes limit"):
        screen_rdf_file(path, limit=100)
