"""One way to read the graph (issue 22), checked on the source as ``test_architecture.py`` checks
the layers: no module outside the read layer holds SPARQL text or walks an RDF graph's triples.

The read layer is ``axilla_kg/graph/`` (engines, :class:`~axilla_kg.graph.knowledge.KnowledgeGraph`,
the named queries of ``queries/*.rq`` and the internal ones of ``queries/internal/*.rq`` run by
:mod:`axilla_kg.graph.reads`). Every other module asks it for a query by name.

What is flagged, read from the code with ``ast`` (so comments cannot hide or fake anything):

- a string constant that is a SPARQL query (a query form, SELECT / ASK / CONSTRUCT / DESCRIBE, followed by
  a variable, ``*``, ``(`` or ``{``, in a text holding a group ``{ ... }``). SQL has no braces and its
  SELECT lists columns, so SQLite's queries in ``web/search.py`` and ``cdshooks/feedback.py`` pass;
- a call of an RDF graph's pattern methods (rdflib's ``triples``, ``objects``, ``subjects``, ``value``,
  ``predicate_objects``, ``subject_objects``, ``subject_predicates``, ``predicates``, ``quads``;
  pyoxigraph's ``quads_for_pattern``) or of ``pyoxigraph.parse``, whose result a module would walk.

How the remaining places were classified (``ALLOWED``: file and enclosing function; each says why
it is not a read of the knowledge graph's content):

- ``server/page.py`` ``_DEFAULT_QUERY``: the example query put into the browser page's editor for a
  user to run; the module never runs it.
- ``reasoning/reasoner.py`` ``merged_ntriples`` and ``checks/untrusted.py`` ``without_imports``: copy the whole graph
  into the N-Triples file the OWL reasoners read, dropping ``owl:imports``; they select no content.
- ``checks/logic.py`` ``_module``: builds the OWL module handed to ``pellet`` from that N-Triples
  file (class axioms without some individuals): building an ontology for the reasoner.
- ``checks/shapes.py`` ``check_shapes``: reads pySHACL's *validation report*, a graph pySHACL made,
  not the knowledge graph (pySHACL is handed the data graph whole).
- ``authoring/importing.py`` ``checked_document``: counts the triples of the Turtle text the importer
  just wrote (a self-check of its own output).

Not flagged, and not reads of content either: ``server/__init__.py`` ``graph_ntriples`` dumps the
whole store as N-Triples for the server's workers; ``server/worker.py`` runs the *users'* queries
(the SPARQL endpoint); ``checks/rules.py`` runs the check rules, which are named queries
(``queries/checks/*.rq``); ``web/search.py`` and ``cdshooks/feedback.py`` hold SQLite SQL;
``vocab.py`` ``terminology()`` runs the named query ``queries/internal/vocab-terminology.rq`` on a
store of ``terminology.ttl`` itself, because the foundation layer may not import ``graph/``.

Exporters (``export/``, issue 22's vocab branch, merged): they read through named queries
(``queries/internal/export-*.rq``); what remains is serialisation:

- ``export/oxload.py`` ``read_turtle``: parses the shipped Turtle files into the statements the
  RDF writers serialise (loading, as an engine's ``load`` does).
- ``export/rdf.py`` ``rdf_export``: ``source.triples(topic)`` picks the parsed statements to
  serialise for one topic, by the subjects the named queries say the topic owns.
"""

from __future__ import annotations

import ast
import re
from pathlib import Path

PACKAGE = Path(__file__).resolve().parent.parent / "axilla_kg"

READ_LAYER = "graph"  # axilla_kg/graph/: the one place that holds query text and walks RDF terms

#: (module path under axilla_kg/, enclosing function or "<module>") -> why it is not a content read
ALLOWED: dict[tuple[str, str], str] = {
    ("server/page.py", "<module>"): "example query shown in the page's editor, never run by the module",
    ("reasoning/reasoner.py", "merged_ntriples"): "copies the graph for the reasoners, minus owl:imports",
    ("checks/untrusted.py", "without_imports"): "copies the graph for the OWL API, minus owl:imports",
    ("checks/logic.py", "_module"): "builds the OWL module handed to pellet",
    ("checks/shapes.py", "check_shapes"): "reads pySHACL's validation report, not the knowledge graph",
    ("authoring/importing.py", "checked_document"): "counts the triples of the Turtle it just wrote",
    ("export/oxload.py", "read_turtle"): "parses the shipped files into the statements the writers serialise",
    ("export/rdf.py", "rdf_export"): "picks a topic's parsed statements to serialise (SourceGraph.triples)",
}

_QUERY_FORM = re.compile(r"\b(?:SELECT|ASK|CONSTRUCT|DESCRIBE)\b\s*(?:DISTINCT\s+|REDUCED\s+)?[?$*({]", re.IGNORECASE)
_GROUP = re.compile(r"\{[^{}]*[?$][A-Za-z_]")  # a group pattern mentioning a variable
_PATTERN_METHODS = {
    "triples",
    "objects",
    "subjects",
    "value",
    "predicate_objects",
    "subject_objects",
    "subject_predicates",
    "predicates",
    "quads",
    "quads_for_pattern",
    "triples_choices",
}
_PARSERS = {"pyoxigraph", "ox"}  # names pyoxigraph is imported under


def looks_like_sparql(text: str) -> bool:
    """Whether a string constant is SPARQL query text (not SQL, not prose)."""
    return bool(_QUERY_FORM.search(text)) and bool(_GROUP.search(text))


def _enclosing(tree: ast.AST) -> dict[ast.AST, str]:
    """Each node -> the name of the function it is in ("<module>" outside any function)."""
    owner: dict[ast.AST, str] = {}

    def visit(node: ast.AST, name: str) -> None:
        for child in ast.iter_child_nodes(node):
            inner = child.name if isinstance(child, ast.FunctionDef | ast.AsyncFunctionDef) else name
            owner[child] = inner
            visit(child, inner)

    visit(tree, "<module>")
    return owner


def _is_docstring(node: ast.Constant, parents: dict[ast.AST, ast.AST]) -> bool:
    expr = parents.get(node)
    return isinstance(expr, ast.Expr)


def violations(source: str, relative: str) -> list[str]:
    """Every read of the graph outside the read layer in one module's source, as 'file:line: what'."""
    tree = ast.parse(source)
    owner = _enclosing(tree)
    parents = {child: node for node in ast.walk(tree) for child in ast.iter_child_nodes(node)}
    found: list[tuple[int, int, str]] = []
    for node in ast.walk(tree):
        what = ""
        if isinstance(node, ast.Constant) and isinstance(node.value, str) and not _is_docstring(node, parents):
            if looks_like_sparql(node.value):
                what = "SPARQL text"
        elif isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute):
            method = node.func.attr
            if method in _PATTERN_METHODS:
                what = f"triple walk .{method}()"
            elif method == "parse" and isinstance(node.func.value, ast.Name) and node.func.value.id in _PARSERS:
                what = f"{node.func.value.id}.parse() of RDF"
        if what and (relative, owner.get(node, "<module>")) not in ALLOWED:
            line, column = getattr(node, "lineno", 0), getattr(node, "col_offset", 0)
            found.append((line, column, f"{relative}:{line}: {what} in {owner.get(node, '<module>')}"))
    return [text for _line, _column, text in sorted(found)]


def _checked_sources() -> list[Path]:
    out = []
    for path in sorted(PACKAGE.rglob("*.py")):
        parts = path.relative_to(PACKAGE).parts
        if "_resources" in parts or parts[0] == READ_LAYER:
            continue
        out.append(path)
    return out


def test_no_module_reads_the_graph_outside_the_read_layer() -> None:
    found = []
    for path in _checked_sources():
        found += violations(path.read_text(encoding="utf-8"), path.relative_to(PACKAGE).as_posix())
    assert found == []


def test_every_allowance_is_still_needed() -> None:
    """An allowance whose read has gone must go too (the list only ever shrinks)."""
    for relative, function in ALLOWED:
        tree = ast.parse((PACKAGE / relative).read_text(encoding="utf-8"))
        names = {n.name for n in ast.walk(tree) if isinstance(n, ast.FunctionDef | ast.AsyncFunctionDef)}
        assert function == "<module>" or function in names, f"{relative}: no function {function}"
        source = (PACKAGE / relative).read_text(encoding="utf-8")
        saved = dict(ALLOWED)
        try:
            del ALLOWED[(relative, function)]
            assert violations(source, relative), f"{relative} {function}: nothing left to allow"
        finally:
            ALLOWED.clear()
            ALLOWED.update(saved)


# --- the checker itself: planted sources it must flag, and ones it must pass -----------------------
PLANTED = '''
import rdflib, pyoxigraph as ox

RATINGS = """SELECT ?v ?p WHERE { ?r ax:ratedVariant ?v ; ax:ratedProcedure ?p }"""

def names(kg):
    return kg.sparql(f"select distinct ?n where {{ ?p ax:procedureName ?n }}")

def ask(kg):
    return kg.sparql("ASK { ?x a ax:Topic }")

def walk(g, node):
    return [o for o in g.objects(node, None)] + [g.value(node, None)]

def stream(path):
    return [t for t in ox.parse(path=path) if t.predicate]
'''


def test_the_checker_flags_planted_reads() -> None:
    found = violations(PLANTED, "recommend/planted.py")
    assert [line.split(": ", 1)[1] for line in found] == [
        "SPARQL text in <module>",
        "SPARQL text in names",
        "SPARQL text in ask",
        "triple walk .objects() in walk",
        "triple walk .value() in walk",
        "ox.parse() of RDF in stream",
    ]


def test_the_checker_passes_sql_prose_and_named_queries() -> None:
    clean = '''
"""Select the rows where { the user } asked: prose in a docstring."""

def search(db, text):
    db.execute("SELECT kind, topic, highlight(docs, 0, ?, ?) FROM docs WHERE docs MATCH ? LIMIT ?", (text,))
    db.execute("SELECT count(*) FROM cards")
    return kg.read("procedure-names").rows + kg.query("variant-ratings", variant=1).rows
'''
    assert violations(clean, "web/planted.py") == []


def test_an_allowance_is_for_one_function_only() -> None:
    source = "def merged_ntriples(store):\n    return store.quads_for_pattern(None, None, None)\n"
    assert violations(source, "reasoning/reasoner.py") == []
    assert violations(source.replace("merged_ntriples", "other"), "reasoning/reasoner.py") != []
