"""Logic stage: the OWL reasoner (HermiT, or Pellet) on the shipped graph plus ``--data``.

The reasoner does what only it can do, and no more (measured in ``benchmarks/bench_check.py``):

* consistency (``HermiT -k``) on the whole graph, every individual included: it grows linearly;
* unsatisfiable classes (``-U``) on a module: the class axioms, the individuals named in class
  expressions (the feature values), and nothing else. Asking ``-U`` of the whole graph tests
  every class against every individual (hours at ACR scale); leaving assertions out can only
  remove entailments, so a class the module finds unsatisfiable is unsatisfiable, and the other
  way round holds because the individuals left out (variants, ratings, source records...) occur
  in no class expression and the whole graph is consistent (tests compare with the whole graph);
* the variant classes the compiled classifier reads exactly are left out of the module too: an
  empty box of :mod:`axilla_kg.checks.regions` is an unsatisfiable class (held equal to HermiT
  by the tests), and the algebra says which field's tests contradict each other, where a
  ``pellet explain`` run per class would cost a JVM start on the whole graph.

The two HermiT runs are independent JVMs and run at the same time.

The reasoners are the ones owlready2 bundles (its HermiT and Pellet jars and its Java settings,
from ``axilla_kg.reasoning.jvm``), called through their own command lines so that only what the
check needs is computed (see ``_run_hermit``). Reports an inconsistent graph and every
unsatisfiable class as ERROR findings. HermiT only says *that* the ontology is inconsistent;
Pellet's ``explain`` command (in owlready2's Pellet jars) says *why*: the smallest set of axioms
that clash (a justification). So whichever reasoner decided, the explanation comes from
``pellet explain`` run on the same N-Triples file, and the entities named in it are mapped back
to IRIs and labels.
"""

from __future__ import annotations

import re
import subprocess
from dataclasses import dataclass, field
from pathlib import Path

from axilla_kg.checks.context import CheckContext
from axilla_kg.checks.findings import Finding, Level
from axilla_kg.graph.reads import texts
from axilla_kg.reasoning.jvm import hermit_classpath, java_available, pellet_classpath, run_java
from axilla_kg.reasoning.reasoner import ReasonerUnavailable
from axilla_kg.vocab import BASE, local_name

STAGE = "logic"
INCONSISTENT = "logic-inconsistent"
REASONER_TIMEOUT_S = 600
MAX_UNSAT_EXPLAINED = 10  # each explanation is one more JVM start; beyond this, list without a reason


def check_logic(ctx: CheckContext) -> list[Finding]:
    """Consistency and class satisfiability, with explanations."""
    if not java_available():
        raise ReasonerUnavailable(
            "the OWL reasoner needs Java: install a JRE (e.g. apt-get install default-jre-headless)"
        )
    nt = ctx.ntriples()
    symbolic: dict[str, str] = {}
    if ctx.reasoner == "pellet":
        outcome = _run_pellet(ctx, nt)
        explain_in = nt
    else:
        compiled = _compiled_classes(ctx)
        explain_in = _module(ctx, nt, set(compiled))
        from concurrent.futures import ThreadPoolExecutor

        with ThreadPoolExecutor(max_workers=2) as pool:
            whole = pool.submit(_run_hermit, nt, ["-k"])
            module = pool.submit(_run_hermit, explain_in, ["-k", "-U"])
            outcome, classes = whole.result(), module.result()
        if not outcome.error and outcome.consistent:
            outcome = classes if classes.error else _Outcome(unsatisfiable=classes.unsatisfiable)
        symbolic = {iri: why for iri, why in compiled.items() if why}
        outcome.unsatisfiable = sorted(set(outcome.unsatisfiable) | set(symbolic))
    if outcome.error:
        message = f"{ctx.reasoner} could not process the graph: {outcome.error}"
        return [Finding("logic-reasoner-failed", Level.ERROR, message, stage=STAGE)]
    if not outcome.consistent:
        return [_inconsistent(ctx, nt)]
    findings = []
    explained = 0
    for iri in outcome.unsatisfiable:
        if iri in symbolic:
            explanation = symbolic[iri]
        elif explained < MAX_UNSAT_EXPLAINED:
            explained += 1
            explanation = _explain(explain_in, ["--unsat", iri])
        else:
            explanation = ""
        entities = _entities(ctx, explanation, first=iri) if iri not in symbolic else (ctx.entity(iri),)
        message = f"class {local_name(iri)} is unsatisfiable: no individual can be a member of it"
        if explanation:
            message += f"; because: {explanation}"
        findings.append(Finding("logic-unsatisfiable-class", Level.ERROR, message, entities, STAGE))
    return findings


@dataclass
class _Outcome:
    consistent: bool = True
    unsatisfiable: list[str] = field(default_factory=list)
    error: str = ""


def _compiled_classes(ctx: CheckContext) -> dict[str, str]:
    """Variant class IRI → why it is unsatisfiable ('' when it is not), for every variant class
    the compiled classifier reads exactly; {} when some class is outside its fragment (then
    HermiT decides them all)."""
    from axilla_kg.checks.regions import empty_field, feasible, region_of
    from axilla_kg.recommend.classify import Classifier, CompileError

    try:
        classifier = Classifier.from_graph(ctx.kg)
    except CompileError:
        return {}
    features = {f.name: f for f in classifier.registry.features}
    derivations = tuple(getattr(classifier.registry, "derivations", ()))
    out: dict[str, str] = {}
    for v in classifier.variants:
        name = empty_field(v, features)
        if name is not None:
            tests = "; ".join(f"{name} {t.describe()}" for t in v.tests if t.field == name)
            out[v.class_iri] = f"its definition's tests on {name} cannot all hold ({tests})"
            continue
        box = region_of(v, features)
        if box is not None and feasible(box, derivations, features) is None:
            rules = ", ".join(sorted(d.label for d in derivations if d.feature in box))
            out[v.class_iri] = f"the derivation rules of its derived fields rule out every case it describes ({rules})"
            continue
        out[v.class_iri] = ""
    return out


def _module(ctx: CheckContext, nt: Path, drop_classes: set[str]) -> Path:
    """The graph's class axioms and the individuals named in class expressions, without the
    definitions of ``drop_classes``: what ``-U`` needs (see the module docstring)."""
    import pyoxigraph as ox

    owl, rdf = "http://www.w3.org/2002/07/owl#", "http://www.w3.org/1999/02/22-rdf-syntax-ns#"
    triples = list(ox.parse(path=str(nt), format=ox.RdfFormat.N_TRIPLES))
    a, named = ox.NamedNode(rdf + "type"), ox.NamedNode(owl + "NamedIndividual")
    individuals = {t.subject for t in triples if t.predicate == a and t.object == named}
    nominals = {t.object for t in triples if t.predicate.value in (owl + "hasValue", rdf + "first")}
    left_out: set[object] = (individuals - nominals) | {ox.NamedNode(c) for c in drop_classes}
    by_subject: dict[object, list[object]] = {}
    for t in triples:
        if isinstance(t.subject, ox.BlankNode):
            by_subject.setdefault(t.subject, []).append(t.object)
    todo = [t.object for t in triples if t.subject in left_out and isinstance(t.object, ox.BlankNode)]
    while todo:  # the blank nodes of the left-out class expressions
        node = todo.pop()
        if node in left_out:
            continue
        left_out.add(node)
        todo += [o for o in by_subject.get(node, []) if isinstance(o, ox.BlankNode)]
    kept = [t for t in triples if t.subject not in left_out and t.object not in left_out]
    target = nt.with_name("module.nt")
    with target.open("wb") as handle:
        ox.serialize(kept, handle, ox.RdfFormat.N_TRIPLES)
    return target


def _run_hermit(nt: Path, flags: list[str]) -> _Outcome:
    """HermiT's own command line: consistency (-k) and unsatisfiable classes (-U).

    owlready2's ``sync_reasoner_hermit`` also realises every individual (-I) and classifies the
    property hierarchies, which is what grows with the number of ratings; the check needs neither.
    """
    done = run_java(
        hermit_classpath(),
        ["org.semanticweb.HermiT.cli.CommandLine", *flags, nt.as_uri()],
        timeout=REASONER_TIMEOUT_S,
    )
    output = done.stdout + done.stderr
    if "InconsistentOntologyException" in output or "Inconsistent ontology" in output:
        return _Outcome(consistent=False)
    if done.returncode != 0:
        return _Outcome(error=_first_line(output))
    unsat: list[str] = []
    if "owl:Nothing':" in output:
        section = output.split("owl:Nothing':", 1)[1]
        unsat = [iri for iri in re.findall(r"<([^>]+)>", section) if not iri.endswith("#Nothing")]
    return _Outcome(unsatisfiable=sorted(set(unsat)))


def _run_pellet(ctx: CheckContext, nt: Path) -> _Outcome:
    """Pellet's ``unsat`` command: reports inconsistency, else the unsatisfiable classes."""
    done = run_java(
        pellet_classpath(),
        ["pellet.Pellet", "unsat", "--loader", "Jena", "--input-format", "N-Triples", "--ignore-imports", str(nt)],
        timeout=REASONER_TIMEOUT_S,
    )
    output = done.stdout + done.stderr
    if "Ontology is inconsistent" in output:
        return _Outcome(consistent=False)
    if done.returncode != 0:
        return _Outcome(error=_first_line(output))
    unsat: list[str] = []
    if "unsatisfiable concept(s):" in done.stdout:
        names = done.stdout.split("unsatisfiable concept(s):", 1)[1].split()
        by_local = _local_names(ctx)
        for name in names:  # Pellet prints prefixed names (vocab:Foo) or full IRIs
            local = name.rsplit(":", 1)[-1] if not name.startswith("http") else local_name(name)
            unsat.append(by_local.get(local, name))
    return _Outcome(unsatisfiable=sorted(set(unsat)))


def inconsistency_finding(ctx: CheckContext) -> Finding:
    """The ``logic-inconsistent`` ERROR for a graph known to be inconsistent, explained by
    ``pellet explain`` (for stages that found out while asking the reasoner something else)."""
    return _inconsistent(ctx, ctx.ntriples())


def _inconsistent(ctx: CheckContext, nt: Path) -> Finding:
    explanation = _explain(nt, ["--inconsistent"])
    message = f"the graph is logically inconsistent ({ctx.reasoner})"
    if explanation:
        return Finding(
            INCONSISTENT, Level.ERROR, f"{message}; because: {explanation}", _entities(ctx, explanation), STAGE
        )
    # Pellet cannot explain an individual typed owl:Nothing ("No explanation computed"); that
    # case is a plain assertion in the data, so name it from the graph itself.
    rows = texts(ctx.kg.read("owl-nothing-members"))
    members = [str(row[0]) for row in rows if row[0] is not None]
    if members:
        message += "; asserted members of owl:Nothing (the empty class): " + ", ".join(f"<{m}>" for m in members)
        return Finding(INCONSISTENT, Level.ERROR, message, tuple(ctx.entity(m) for m in members), STAGE)
    return Finding(INCONSISTENT, Level.ERROR, f"{message}; the reasoner gave no explanation", (), STAGE)


def _explain(nt: Path, what: list[str]) -> str:
    """One justification from ``pellet explain``, as a single line of axioms ('' if none)."""
    try:
        done = run_java(
            pellet_classpath(),
            ["pellet.Pellet", "explain", "--ignore-imports", *what, str(nt)],
            timeout=REASONER_TIMEOUT_S,
        )
    except (OSError, subprocess.TimeoutExpired):
        return ""
    return parse_explanation(done.stdout)


def parse_explanation(text: str) -> str:
    """Turn Pellet's multi-line justification into '; '-separated axioms on one line.

    Pellet prints ``1)   axiom`` then one axiom per line indented by five spaces; a long axiom
    continues on lines indented further. Only the first justification is kept.
    """
    lines = text.splitlines()
    try:
        start = next(i for i, line in enumerate(lines) if line.strip().startswith("Explanation(s)"))
    except StopIteration:
        return ""
    axioms: list[str] = []
    for line in lines[start + 1 :]:
        if not line.strip():
            if axioms:
                break
            continue
        numbered = re.match(r"^\s*(\d+)\)\s+(.*)$", line)
        if numbered:
            if axioms:  # a second justification: one is enough
                break
            axioms.append(numbered.group(2).strip())
        elif axioms and len(line) - len(line.lstrip(" ")) > 5:
            axioms[-1] += " " + line.strip()
        else:
            axioms.append(line.strip())
    return "; ".join(" ".join(a.split()) for a in axioms)


_TOKEN = re.compile(r"[A-Za-z_][A-Za-z0-9_.\-]*")


def _entities(ctx: CheckContext, explanation: str, first: str | None = None) -> tuple[tuple[str, str], ...]:
    """The IRIs named in an explanation (Pellet prints local names), in order of appearance."""
    out: list[tuple[str, str]] = [ctx.entity(first)] if first else []
    if explanation:
        by_local = _local_names(ctx)
        for token in _TOKEN.findall(explanation):
            iri = by_local.get(token)
            if iri and all(iri != e[0] for e in out):
                out.append(ctx.entity(iri))
    return tuple(out)


def _local_names(ctx: CheckContext) -> dict[str, str]:
    rows = ctx.kg.read("subjects-under", base=BASE)
    out: dict[str, str] = {}
    for _base, term in texts(rows):
        iri = str(term)
        out.setdefault(local_name(iri), iri)
    return out


def _first_line(text: str) -> str:
    lines = [line.strip() for line in text.splitlines() if line.strip()]
    return lines[0] if lines else "unknown reasoner error"
