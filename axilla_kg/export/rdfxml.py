"""A small deterministic RDF/XML writer.

rdflib's RDF/XML serializers walk the store's subjects and namespaces in hash order, so two runs
print the same graph differently; its "pretty" variant also drops assertions on list nodes.
This writer prints subjects, properties and namespace declarations in sorted order: one node
element per subject, property elements with ``rdf:resource``, ``rdf:nodeID`` or a literal
(``xml:lang`` / ``rdf:datatype``). With ``typed_nodes`` the first OWL/RDFS type of a subject
becomes the element name (``<owl:Class rdf:about=...>``), the layout ontology editors write.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from xml.sax.saxutils import escape, quoteattr

from rdflib import OWL, RDF, BNode, Literal, URIRef
from rdflib.term import Node

_NCNAME = re.compile(r"[A-Za-z_][A-Za-z0-9_.\-]*$")
RDF_NS = str(RDF)
_TYPED_NODE_NAMESPACES = ("http://www.w3.org/2002/07/owl#", "http://www.w3.org/2000/01/rdf-schema#")


def _split(iri: str) -> tuple[str, str]:
    """Namespace and local name of a property or class IRI (the local name must be an NCName)."""
    for cut in range(len(iri) - 1, 0, -1):
        if iri[cut] in "#/:" and _NCNAME.match(iri[cut + 1 :]):
            return iri[: cut + 1], iri[cut + 1 :]
    raise ValueError(f"cannot write <{iri}> as an RDF/XML element name")


def _node_attr(node: Node) -> str:
    if isinstance(node, BNode):
        return f"rdf:nodeID={quoteattr(str(node))}"
    return f"rdf:about={quoteattr(str(node))}"


def serialize(
    triples: Iterable[tuple[Node, Node, Node]],
    prefixes: dict[str, str],
    *,
    typed_nodes: bool = False,
    comment: str = "",
) -> str:
    """RDF/XML text for ``triples``; ``prefixes`` name the namespaces (others get ns1, ns2...)."""
    by_subject: dict[Node, list[tuple[Node, Node]]] = {}
    for s, p, o in triples:
        by_subject.setdefault(s, []).append((p, o))
    names = {iri: prefix for prefix, iri in prefixes.items()}
    names[RDF_NS] = "rdf"
    used: set[str] = {RDF_NS}
    generated = 0

    def qname(iri: str) -> str:
        nonlocal generated
        namespace, local = _split(iri)
        if namespace not in names:
            generated += 1
            names[namespace] = f"ns{generated}"
        used.add(namespace)
        return f"{names[namespace]}:{local}"

    ontologies = {s for s, pairs in by_subject.items() if (RDF.type, OWL.Ontology) in pairs}

    def sort_key(node: Node) -> tuple[int, str]:
        # the ontology header first, then named resources, then blank nodes
        return (0 if node in ontologies else 2 if isinstance(node, BNode) else 1, str(node))

    body: list[str] = []
    for subject in sorted(by_subject, key=sort_key):
        pairs = sorted(by_subject[subject], key=lambda po: (str(po[0]), po[1].n3()))
        element = "rdf:Description"
        if typed_nodes:
            for p, o in pairs:
                if p == RDF.type and isinstance(o, URIRef) and str(o).startswith(_TYPED_NODE_NAMESPACES):
                    element = qname(str(o))
                    pairs.remove((p, o))
                    break
        if not pairs:
            body.append(f"  <{element} {_node_attr(subject)}/>")
            continue
        body.append(f"  <{element} {_node_attr(subject)}>")
        for p, o in pairs:
            name = qname(str(p))
            if isinstance(o, BNode):
                body.append(f"    <{name} rdf:nodeID={quoteattr(str(o))}/>")
            elif isinstance(o, URIRef):
                body.append(f"    <{name} rdf:resource={quoteattr(str(o))}/>")
            elif isinstance(o, Literal):
                attr = ""
                if o.language:
                    attr = f" xml:lang={quoteattr(o.language)}"
                elif o.datatype is not None:
                    attr = f" rdf:datatype={quoteattr(str(o.datatype))}"
                text = escape(str(o)).replace("\r", "&#13;")
                body.append(f"    <{name}{attr}>{text}</{name}>")
        body.append(f"  </{element}>")
    declarations = sorted((names[ns], ns) for ns in used)
    head = ['<?xml version="1.0" encoding="utf-8"?>']
    if comment:
        head.append(f"<!-- {comment.replace('--', '- -')} -->")
    head.append("<rdf:RDF")
    head += [f"  xmlns:{prefix}={quoteattr(ns)}" for prefix, ns in declarations]
    head[-1] += ">"
    return "\n".join([*head, *body, "</rdf:RDF>"]) + "\n"
