"""The OWL reasoner (HermiT or Pellet through owlready2): the reference semantics of the graph.

owlready2 reads RDF/XML, OWL/XML and N-Triples but not Turtle, so the graph is handed to it as
one N-Triples file written by Oxigraph. The reasoner runs in a JVM started by owlready2; Java
must be on PATH (``.ci/system-packages`` installs a JRE when it is missing).
"""

from __future__ import annotations

import contextlib
import json
import tempfile
import threading
import time
from collections.abc import Callable, Collection, Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from axilla_kg import vocab
from axilla_kg.contract.cases import PatientCase
from axilla_kg.contract.features import Feature, Registry
from axilla_kg.errors import AxillaKGError, InconsistentGraphError, ReasonerUnavailable
from axilla_kg.graph import engines
from axilla_kg.graph.knowledge import KnowledgeGraph
from axilla_kg.graph.reads import read, texts
from axilla_kg.reasoning import jvm
from axilla_kg.reasoning.hermit import HermitError, HermitSession, Term
from axilla_kg.reasoning.jvm import java_available
from axilla_kg.resources import ontology_dir, ontology_files

if TYPE_CHECKING:
    import pyoxigraph

REASONERS = ("hermit", "pellet")


_TEMPDIR_LOCK = threading.Lock()


@contextlib.contextmanager
def _owlready_temp_files_in(folder: Path) -> Iterator[None]:
    """owlready2's ``sync_reasoner_*`` write a NamedTemporaryFile (1.4 MB for this graph) and
    delete it only when the reasoner succeeds. Pointing ``tempfile`` at our own temporary folder
    for the call means that folder's cleanup removes it on every path."""
    with _TEMPDIR_LOCK:
        saved = tempfile.tempdir
        tempfile.tempdir = str(folder)
        try:
            yield
        finally:
            tempfile.tempdir = saved


@dataclass
class ReasonerReport:
    reasoner: str
    consistent: bool
    unsatisfiable: list[str] = field(default_factory=list)
    message: str = ""
    seconds: float = 0.0
    triples: int = 0


@contextlib.contextmanager
def _hermit(nt: Path, what: str, inconsistent: str) -> Iterator[HermitSession]:
    """HermiT over ``nt`` in the process's JVM, checked consistent (else ``inconsistent`` as the
    error), its errors as ours, closed afterwards: the frame every in-process question shares."""
    try:
        session = HermitSession(nt)
    except jvm.JavaUnavailable as exc:
        raise ReasonerUnavailable(f"{what}: {exc}") from None
    try:
        if not session.consistent():
            raise InconsistentGraphError(inconsistent)
        yield session
    except HermitError as exc:
        raise AxillaKGError(f"HermiT could not answer: {exc}") from None
    finally:
        session.close()


def merged_ntriples(paths: Sequence[Path], target: Path) -> int:
    """Write the union of ``paths`` as one N-Triples file; returns the triple count.

    ``owl:imports`` statements are left out: this file is what the reasoners (owlready2, HermiT,
    the OWL API) read, and they would fetch every imported IRI (``http://`` anywhere, ``file://``
    any local file) — a ``--data`` file must never make them read anything else (issue 19)."""
    import pyoxigraph

    engine = engines.OxigraphEngine()
    engines.load_all(engine, paths)
    store = engine.store
    imports = pyoxigraph.NamedNode("http://www.w3.org/2002/07/owl#imports")
    for quad in list(store.quads_for_pattern(None, imports, None)):
        store.remove(quad)
    with target.open("wb") as handle:
        triples = (quad.triple for quad in store.quads_for_pattern(None, None, None))
        pyoxigraph.serialize(triples, handle, format=pyoxigraph.RdfFormat.N_TRIPLES)
    return len(engine)


def _require(reasoner: str) -> None:
    if reasoner not in REASONERS:
        raise AxillaKGError(f"unknown reasoner '{reasoner}' (expected one of {', '.join(REASONERS)})")
    if not java_available():
        raise ReasonerUnavailable(
            "the OWL reasoner needs Java: install a JRE (e.g. apt-get install default-jre-headless)"
        )


def _reason(nt: Path, reasoner: str) -> Any:
    """A fresh owlready2 world holding ``nt``, after the reasoner ran over it. Raises owlready2's
    OwlReadyInconsistentOntologyError for an inconsistent input; the caller closes the world."""
    import owlready2

    world = owlready2.World()
    onto = world.get_ontology(nt.as_uri()).load(format="ntriples")
    run = owlready2.sync_reasoner_hermit if reasoner == "hermit" else owlready2.sync_reasoner_pellet
    try:
        with onto, _owlready_temp_files_in(nt.parent):
            run(world, infer_property_values=False, debug=0)
    except BaseException:
        world.close()
        raise
    return world


def run_reasoner(extra: Sequence[str | Path] = (), reasoner: str = "hermit") -> ReasonerReport:
    """Load the shipped graph (plus ``extra`` files) into owlready2 and classify it."""
    _require(reasoner)
    import owlready2

    paths = list(ontology_files()) + [Path(p) for p in extra]
    started = time.perf_counter()
    with tempfile.TemporaryDirectory(prefix="axilla-kg-") as tmp:
        nt = Path(tmp) / "graph.nt"
        triples = merged_ntriples(paths, nt)
        try:
            world = _reason(nt, reasoner)
        except owlready2.OwlReadyInconsistentOntologyError as exc:
            return ReasonerReport(reasoner, False, [], _first_line(str(exc)), time.perf_counter() - started, triples)
        unsat = sorted(c.iri for c in world.inconsistent_classes() if c is not owlready2.Nothing)
        world.close()
    return ReasonerReport(reasoner, True, unsat, "", time.perf_counter() - started, triples)


CASE_NS = vocab.CASE
_AX = vocab.AX
_XSD = vocab.XSD
RDF_TYPE = vocab.RDF + "type"
_NOT = "urn:axilla-kg:not:"
#: the ontology files that hold every axiom about patient cases (see realise_cases)
CASE_MODULE = ("core.ttl", "terminology.ttl", "generated/variant-classes.ttl")


def case_object(feature: Feature, value: Any) -> pyoxigraph.NamedNode | pyoxigraph.Literal:
    """The RDF object for one known case field, in the ontology's datatypes (the feature registry
    says which value individual or datatype); one home for the case individual and the case class."""
    import pyoxigraph

    if feature.kind == "enum":
        return pyoxigraph.NamedNode(feature.value_iris[value])
    if feature.kind == "boolean":
        return pyoxigraph.Literal("true" if value else "false", datatype=pyoxigraph.NamedNode(_XSD + "boolean"))
    if feature.kind == "decimal":
        return pyoxigraph.Literal(format(value, "f"), datatype=pyoxigraph.NamedNode(_XSD + "decimal"))
    return pyoxigraph.Literal(str(int(value)), datatype=pyoxigraph.NamedNode(_XSD + "integer"))


def case_ntriples(case: PatientCase, iri: str, registry: Registry) -> list[str]:
    """The case as an OWL individual: one triple per known field (see :func:`case_object`)."""
    subject = f"<{iri}>"
    lines = [
        f"{subject} <{RDF_TYPE}> <{_AX}PatientCase> .",
        f"{subject} <{RDF_TYPE}> <http://www.w3.org/2002/07/owl#NamedIndividual> .",
    ]
    for feature in registry.features:
        value = case.get(feature.name)
        if value is not None:
            lines.append(f"{subject} <{feature.prop}> {case_object(feature, value)} .")
    return lines


@dataclass
class CaseTypes:
    """What the reasoner entails about one case: the variants it belongs to, and the variants
    whose complement it belongs to (refuted). Every other variant is a candidate."""

    matched: set[str]
    refuted: set[str]


def _variant_classes(paths: Sequence[Path]) -> dict[str, str]:
    """Variant class IRI -> variant IRI, from the graph."""
    engine = engines.OxigraphEngine()
    engines.load_all(engine, paths)
    return {str(cls): str(v) for v, cls in texts(read(engine, "patient-classes"))}


def realise_cases(
    cases: Sequence[PatientCase],
    *,
    reasoner: str = "hermit",
    batch_size: int = 250,
    extra: Sequence[str | Path] = (),
    progress: Callable[[int], None] | None = None,
    refute: bool = True,
) -> list[CaseTypes]:
    """The reference semantics: per case, the variants the reasoner puts it in and the variants
    whose complement (a helper class ≡ ¬variant class) it puts it in.

    Cases go to the reasoner in batches because HermiT slows down worse than linearly with the
    number of individuals in one call (about 250 per call ran fastest here). Each batch is a fresh
    owlready2 world holding the whole graph plus the batch's case individuals, in the one JVM
    owlready2 starts per reasoner call.
    """
    _require(reasoner)
    import owlready2

    # The reasoner gets the module of the case signature: the schema, the terminology (features,
    # values, their distinctness) and the variant classes, plus any extra files. Nothing else in the
    # graph mentions ax:PatientCase, a case property or a variant class, so the entailments about
    # case individuals are the same, and HermiT does not re-check thousands of unrelated
    # individuals (ratings, sources...) for every instance question.
    paths = [ontology_dir() / name for name in CASE_MODULE] + [Path(p) for p in extra]
    kg = KnowledgeGraph.load(extra)
    registry = Registry.from_graph(kg)
    class_to_variant = _variant_classes(list(ontology_files()) + [Path(p) for p in extra])
    complements: dict[str, str] = {}
    helper: list[str] = []
    for i, cls in enumerate(sorted(class_to_variant) if refute else ()):
        iri = f"{_NOT}{i}"
        complements[iri] = class_to_variant[cls]
        helper += [
            f"<{iri}> <{RDF_TYPE}> <{_OWL}Class> .",
            f"<{iri}> <{_OWL}equivalentClass> _:not{i} .",
            f"_:not{i} <{RDF_TYPE}> <{_OWL}Class> .",
            f"_:not{i} <{_OWL}complementOf> <{cls}> .",
        ]
    results: list[CaseTypes] = []
    with tempfile.TemporaryDirectory(prefix="axilla-kg-") as tmp:
        base = Path(tmp) / "graph.nt"
        merged_ntriples(paths, base)
        base_text = base.read_text(encoding="utf-8") + "\n".join(helper) + "\n"
        for start in range(0, len(cases), batch_size):
            batch = cases[start : start + batch_size]
            iris = [f"{CASE_NS}{start + i}" for i in range(len(batch))]
            lines = [line for case, iri in zip(batch, iris, strict=True) for line in case_ntriples(case, iri, registry)]
            nt = Path(tmp) / "batch.nt"
            nt.write_text(base_text + "\n".join(lines) + "\n", encoding="utf-8")
            try:
                world = _reason(nt, reasoner)
            except owlready2.OwlReadyInconsistentOntologyError as exc:
                raise InconsistentGraphError(
                    f"the graph with cases {start}-{start + len(batch) - 1} is inconsistent: {_first_line(str(exc))}"
                ) from None
            for iri in iris:
                individual = world[iri]
                types = {c.iri for c in individual.INDIRECT_is_a if hasattr(c, "iri")}
                results.append(
                    CaseTypes(
                        {class_to_variant[t] for t in types if t in class_to_variant},
                        {complements[t] for t in types if t in complements},
                    )
                )
            world.close()
            if progress is not None:
                progress(len(results))
    return results


def entailed_case_types(cases: Sequence[PatientCase], *, extra: Sequence[str | Path] = ()) -> list[CaseTypes]:
    """The entailments :func:`realise_cases` reads off a realisation, asked directly: the cases as
    individuals (:func:`case_ntriples`, one ABox over the case module, as there), and for each
    case individual *a* and variant class V whether HermiT entails V(a) (matched) and ¬V(a)
    (refuted), an instance check each in the process's JVM.

    The same entailments as realising against the complement classes (*a* is an instance of a
    class ≡ ¬V exactly when ¬V(a) is entailed) without what makes that slow: a helper class ≡ ¬V
    is a disjunction on every individual of the module, and the realisation classifies every one
    of them against every helper (minutes for a handful of cases)."""
    _require("hermit")
    paths = [ontology_dir() / name for name in CASE_MODULE] + [Path(p) for p in extra]
    registry = Registry.from_graph(KnowledgeGraph.load(extra))
    variants = dict(sorted(_variant_classes(list(ontology_files()) + [Path(p) for p in extra]).items()))
    iris = [f"{CASE_NS}{k}" for k in range(len(cases))]
    with tempfile.TemporaryDirectory(prefix="axilla-kg-") as tmp:
        nt = Path(tmp) / "cases.nt"
        merged_ntriples(paths, nt)
        lines = [line for case, iri in zip(cases, iris, strict=True) for line in case_ntriples(case, iri, registry)]
        with nt.open("a", encoding="utf-8") as handle:
            handle.write("\n".join(lines) + "\n")
        inconsistent = f"the graph with cases 0-{len(cases) - 1} is inconsistent"
        with _hermit(nt, "the case entailments", inconsistent) as session:
            return [
                CaseTypes(
                    {v for cls, v in variants.items() if session.entailed(iri, cls)},
                    {v for cls, v in variants.items() if session.entailed(iri, "!" + cls)},
                )
                for iri in iris
            ]


def classify_cases(
    cases: Sequence[PatientCase],
    *,
    reasoner: str = "hermit",
    batch_size: int = 250,
    extra: Sequence[str | Path] = (),
    progress: Callable[[int], None] | None = None,
) -> list[set[str]]:
    """The variant IRIs each case is an instance of, per the reasoner."""
    found = realise_cases(cases, reasoner=reasoner, batch_size=batch_size, extra=extra, progress=progress, refute=False)
    return [t.matched for t in found]


#: the case classes CaseQuestions defines, one namespace per definitions batch
CASE_CLASS_NS = "urn:axilla-kg:case-class:"
#: claims confirmed together (two reasoner calls); a larger group costs more than linearly
CONFIRM_GROUP = 250


@dataclass(frozen=True)
class _Claim:
    """A claimed verdict on one case, with the IRI of the case's class in the current batch."""

    case: PatientCase
    iri: str
    types: CaseTypes


class CaseQuestions:
    """HermiT's verdict on each variant for each case, asked as class satisfiability in one JVM.

    A case is a set of facts about one patient *a*: ``a : PatientCase`` and ``P(a, v)`` for every
    known field. Its *case class* is C = PatientCase ⊓ ∃P₁.{v₁} ⊓ … (``owl:hasValue`` restrictions
    with the very values :func:`case_object` writes for the individual). For the case module O and
    a variant class V:

    - O ∪ facts(a) ⊨ V(a)  iff  C ⊓ ¬V is unsatisfiable w.r.t. O (V *matched*);
    - O ∪ facts(a) ⊨ ¬V(a) iff  C ⊓ V is unsatisfiable w.r.t. O (V *refuted*).

    Both follow from one observation: in a model of O, an element x is in C exactly when naming
    it *a* satisfies facts(a) (*a* is a fresh name: nothing in O mentions it). So a model with an
    x in C ⊓ ¬V is a model of O ∪ facts(a) ∪ {¬V(a)}, and conversely aᴵ is such an x; likewise
    for V. :func:`realise_cases` puts up to 250 case individuals into one ABox; they share no
    names, so each gets the entailments it would get alone as long as that ABox is consistent —
    it raises otherwise, and so does this class for a case whose class is unsatisfiable. Its
    helper classes ≡ ¬V only name new classes, which changes no entailment about the others.
    ``tests/test_fast_path_reference.py`` checks this class against those entailments
    (:func:`entailed_case_types`, the same ABox asked by instance checks) on a fixed set of cases.

    Why not the realisation: HermiT realises individuals against complement classes slowly (¬V
    becomes a disjunction on every individual: about 4-9 s per case here), and classifying
    thousands of helper classes ≡ C ⊓ V through owlready2 grows worse than linearly (25 cases
    took 90 s). Here HermiT, in the process's one JVM (:mod:`axilla_kg.reasoning.hermit`, JPype),
    loads the case module once and is asked ``isSatisfiable`` directly: about 21 questions per
    distinct case (C itself, C ⊓ V per variant, and C ⊓ ¬V only where V is not refuted), a
    millisecond or two each.

    Given a claimed verdict per case (the fast path's answers, in the tests), HermiT is asked to
    confirm the claims of up to :data:`CONFIRM_GROUP` cases in two calls instead of answering ~30
    questions per case (:meth:`_confirmed` lists the questions): every question that must be
    unsatisfiable goes into one union (unsatisfiable exactly when each is), and every question
    that must be satisfiable gets a fresh individual in one ABox (consistent only if each is
    satisfiable). A confirmation is a proof by HermiT, by logic alone; a claim it does not confirm
    is never taken: its case is asked question by question. So the verdict returned does not
    depend on the claim, only the time does (``tests/test_fast_path_reference.py`` plants wrong
    claims). The witnesses of different cases share no names but the ontology's value individuals
    (hasValue and oneOf name them), so in principle they could meet there; the case module has no
    inverse properties, no universal or cardinality restrictions other than the functionality of
    the case's own properties, and its value individuals are pairwise different, so nothing flows
    from one witness through a value back to another, and in practice every group of right claims
    is confirmed at once (the tests count it). Were that to fail, the group is split in halves
    down to single cases: slower, never a different answer.
    """

    def __init__(self, extra: Sequence[str | Path] = ()) -> None:
        _require("hermit")
        extras = [Path(p) for p in extra]
        self._tmp = tempfile.TemporaryDirectory(prefix="axilla-kg-")
        self._folder = Path(self._tmp.name)
        self._session: HermitSession | None = None
        self._batches = 0
        #: distinct cases so far whose claimed verdict HermiT confirmed / that were asked question by question
        self.confirmed = 0
        self.asked = 0
        try:
            self.registry = Registry.from_graph(KnowledgeGraph.load(extra))
            # variant class IRI -> variant IRI, in a fixed order
            self.variants = dict(sorted(_variant_classes(list(ontology_files()) + extras).items()))
            for cls in self.variants:
                _plain_iri(cls)
            module = self._folder / "module.nt"
            merged_ntriples([ontology_dir() / name for name in CASE_MODULE] + extras, module)
            try:
                self._session = HermitSession(module)
            except jvm.JavaUnavailable as exc:
                raise ReasonerUnavailable(f"the case verdicts: {exc}") from None
            except HermitError as exc:
                raise ReasonerUnavailable(f"HermiT could not load the case module: {exc}") from None
            if not self._session.consistent():
                raise InconsistentGraphError("the case module of the graph is inconsistent")
        except BaseException:
            self.close()
            raise

    def __enter__(self) -> CaseQuestions:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def close(self) -> None:
        """Free HermiT's structures and remove the temporary files (the process's JVM stays up)."""
        session, self._session = self._session, None
        if session is not None:
            session.close()
        self._tmp.cleanup()

    def verdicts(self, cases: Sequence[PatientCase], claimed: Sequence[CaseTypes] | None = None) -> list[CaseTypes]:
        """Per case, the variants HermiT entails it is in (matched) and not in (refuted).

        ``claimed`` (one per case, e.g. the fast path's answers) changes which questions are asked,
        never the answer: HermiT confirms the claims of many cases at once (:meth:`_confirmed`),
        and a case whose claim it does not confirm is asked its questions one by one, as without
        a claim."""
        unique = list(dict.fromkeys(cases))
        self._batches += 1
        iris = {case: f"{CASE_CLASS_NS}{self._batches}:{k}" for k, case in enumerate(unique)}
        definitions = self._folder / "cases.nt"
        self._write_definitions(iris, definitions)
        defined = self._hermit().define(definitions)
        if defined != len(unique):
            raise AxillaKGError(f"HermiT read {defined} case classes, expected {len(unique)}")
        found: dict[PatientCase, CaseTypes] = {}
        if claimed is not None:
            claims = self._claims(cases, claimed, iris)
            for start in range(0, len(claims), CONFIRM_GROUP):
                for claim in self._confirmed(claims[start : start + CONFIRM_GROUP]):
                    found[claim.case] = claim.types
                    self.confirmed += 1
        for case, iri in iris.items():
            if case not in found:
                found[case] = self._asked(case, iri)
                self.asked += 1
        return [CaseTypes(set(found[c].matched), set(found[c].refuted)) for c in cases]

    def _asked(self, case: PatientCase, iri: str) -> CaseTypes:
        """HermiT's verdict on one case, a question at a time: C, then C ⊓ V per variant, and
        C ⊓ ¬V where V is not refuted."""
        if not self._satisfiable(iri):
            raise InconsistentGraphError(f"the case {json.dumps(case.to_json())} contradicts the graph")
        matched: set[str] = set()
        refuted: set[str] = set()
        for cls, variant in self.variants.items():
            if not self._satisfiable(iri, cls):
                refuted.add(variant)
            elif not self._satisfiable(iri, "!" + cls):
                matched.add(variant)
        return CaseTypes(matched, refuted)

    def _claims(
        self, cases: Sequence[PatientCase], claimed: Sequence[CaseTypes], iris: dict[PatientCase, str]
    ) -> list[_Claim]:
        """The claims worth confirming: about known variants, none both matched and refuted, and
        one claim per case (a case claimed two ways is asked its questions)."""
        if len(claimed) != len(cases):
            raise AxillaKGError(f"{len(claimed)} claimed verdicts for {len(cases)} cases")
        known = set(self.variants.values())
        by_case: dict[PatientCase, CaseTypes | None] = {}
        for case, claim in zip(cases, claimed, strict=True):
            usable = claim.matched | claim.refuted <= known and not claim.matched & claim.refuted
            seen = by_case.get(case, claim)
            same = seen is not None and (seen.matched, seen.refuted) == (claim.matched, claim.refuted)
            by_case[case] = claim if usable and same else None
        return [_Claim(case, iris[case], claim) for case, claim in by_case.items() if claim is not None]

    def _confirmed(self, claims: list[_Claim]) -> list[_Claim]:
        """The claims HermiT confirms, asked together and, where a group is not
        confirmed, in halves down to single cases.

        A claim (M matched, R refuted, the other variants candidates) is HermiT's verdict on case
        class C exactly when C ⊓ ⊔R, and C ⊓ ⊔{¬V | V ∈ M}, are unsatisfiable (every V in R
        refuted, every V in M matched), and C ⊓ V and C ⊓ ¬V are satisfiable for every candidate
        V (neither), or C itself when there is no candidate (C satisfiable, so nothing is both
        matched and refuted). A group is confirmed by two reasoner calls: the union of all its
        unsatisfiable questions is unsatisfiable (:meth:`HermitSession.none_satisfiable`), and
        one model holds a witness of every satisfiable question
        (:meth:`HermitSession.all_satisfiable`). Both are proofs of every claim of the group; a
        failure proves nothing, so the group is split."""
        if not claims:
            return []
        satisfiable: list[list[Term]] = []
        unsatisfiable: list[list[Term]] = []
        for claim in claims:
            yes, no = self._claim_questions(claim)
            satisfiable += yes
            unsatisfiable += no
        session = self._hermit()
        try:
            confirmed = session.none_satisfiable(unsatisfiable) and session.all_satisfiable(satisfiable)
        except HermitError as exc:
            raise AxillaKGError(f"HermiT could not answer: {exc}") from None
        if confirmed:
            return claims
        if len(claims) == 1:
            return []
        half = len(claims) // 2
        return self._confirmed(claims[:half]) + self._confirmed(claims[half:])

    def _claim_questions(self, claim: _Claim) -> tuple[list[list[Term]], list[list[Term]]]:
        """(the questions that must be satisfiable, those that must not) for ``claim`` to be
        HermiT's verdict (see :meth:`_confirmed`)."""
        matched, refuted = claim.types.matched, claim.types.refuted
        candidates = [cls for cls, v in self.variants.items() if v not in matched and v not in refuted]
        satisfiable: list[list[Term]] = [[claim.iri, cls] for cls in candidates]
        satisfiable += [[claim.iri, "!" + cls] for cls in candidates]
        if not candidates:
            satisfiable.append([claim.iri])
        unsatisfiable: list[list[Term]] = []
        if refuted:
            unsatisfiable.append([claim.iri, tuple(cls for cls, v in self.variants.items() if v in refuted)])
        if matched:
            unsatisfiable.append([claim.iri, tuple("!" + cls for cls, v in self.variants.items() if v in matched)])
        return satisfiable, unsatisfiable

    def _write_definitions(self, iris: dict[PatientCase, str], target: Path) -> None:
        """One ``owl:equivalentClass`` per case: its case class (see the class docstring)."""
        import pyoxigraph as ox

        rdf_type, owl_class = ox.NamedNode(RDF_TYPE), ox.NamedNode(_OWL + "Class")
        first, rest, nil = ox.NamedNode(RDF_FIRST), ox.NamedNode(RDF_REST), ox.NamedNode(RDF_NIL)
        triples: list[ox.Triple] = []
        for case, iri in iris.items():
            members: list[ox.NamedNode | ox.BlankNode] = [ox.NamedNode(_AX + "PatientCase")]
            for feature in self.registry.features:
                value = case.get(feature.name)
                if value is None:
                    continue
                restriction = ox.BlankNode()
                triples += [
                    ox.Triple(restriction, rdf_type, ox.NamedNode(_OWL + "Restriction")),
                    ox.Triple(restriction, ox.NamedNode(_OWL + "onProperty"), ox.NamedNode(feature.prop)),
                    ox.Triple(restriction, ox.NamedNode(_OWL + "hasValue"), case_object(feature, value)),
                ]
                members.append(restriction)
            cells = [ox.BlankNode() for _ in members]
            tails: list[ox.NamedNode | ox.BlankNode] = [*cells[1:], nil]
            for cell, member, following in zip(cells, members, tails, strict=True):
                triples += [ox.Triple(cell, first, member), ox.Triple(cell, rest, following)]
            expression = ox.BlankNode()
            triples += [
                ox.Triple(ox.NamedNode(iri), rdf_type, owl_class),
                ox.Triple(ox.NamedNode(iri), ox.NamedNode(_OWL + "equivalentClass"), expression),
                ox.Triple(expression, rdf_type, owl_class),
                ox.Triple(expression, ox.NamedNode(_OWL + "intersectionOf"), cells[0]),
            ]
        with target.open("wb") as handle:
            ox.serialize(triples, handle, format=ox.RdfFormat.N_TRIPLES)

    def _satisfiable(self, *terms: str) -> bool:
        try:
            return self._hermit().satisfiable(terms)
        except HermitError as exc:
            raise AxillaKGError(f"HermiT could not answer: {exc}") from None

    def _hermit(self) -> HermitSession:
        if self._session is None:
            raise AxillaKGError("the case verdicts were asked after close()")
        return self._session


def case_verdicts(
    cases: Sequence[PatientCase],
    *,
    extra: Sequence[str | Path] = (),
    batch_size: int = 250,
    progress: Callable[[int], None] | None = None,
) -> list[CaseTypes]:
    """HermiT's matched and refuted variants per case, like :func:`realise_cases` (the same
    entailments, see :class:`CaseQuestions`) but fast enough for thousands of cases: one JVM,
    one satisfiability question at a time. Every variant neither matched nor refuted is a
    candidate."""
    results: list[CaseTypes] = []
    with CaseQuestions(extra) as questions:
        for start in range(0, len(cases), batch_size):
            results += questions.verdicts(cases[start : start + batch_size])
            if progress is not None:
                progress(len(results))
    return results


def _plain_iri(iri: str) -> str:
    """An IRI that can be a question's term: no whitespace or control characters, not starting with
    the complement marker ``!`` (RDF parsers refuse such IRIs anyway)."""
    if not iri or iri.startswith("!") or any(ch.isspace() or ord(ch) < 32 for ch in iri):
        raise AxillaKGError(f"the class IRI {iri!r} cannot be asked of HermiT")
    return iri


_OWL = "http://www.w3.org/2002/07/owl#"


@dataclass
class ClassRelations:
    """What the reasoner says about pairs of classes."""

    unsatisfiable_pairs: set[tuple[str, str]]
    subsumptions: set[tuple[str, str]]  # (sub, super) among the given classes
    seconds: float


def class_relations(
    classes: Sequence[str], extra: Sequence[str | Path] = (), reasoner: str = "hermit", *, subsumption: bool = True
) -> ClassRelations:
    """Test every pair of ``classes`` for overlap and containment.

    Both questions are satisfiability: a pair is disjoint when A ⊓ B is unsatisfiable, and A ⊑ B
    when A ⊓ ¬B is (A itself satisfiable). HermiT answers in the process's JVM
    (:func:`_hermit_relations`); Pellet through owlready2, in one reasoner call that classifies a
    helper class per question and reads back which are owl:Nothing. (Reading the class hierarchy
    owlready2 rebuilds missed subsumptions whenever a helper class was equivalent to one of the
    pair.)
    """
    _require(reasoner)
    started = time.perf_counter()
    # derived triples are left out: they must not feed back into their own derivation
    paths = list(ontology_files(include_inferred=False)) + [Path(p) for p in extra]
    ordered = sorted(classes)
    pairs = [(a, b) for i, a in enumerate(ordered) for b in ordered[i + 1 :]]
    if reasoner == "hermit":
        unsatisfiable, subsumptions = _hermit_relations(paths, ordered, pairs, subsumption=subsumption)
        return ClassRelations(unsatisfiable, subsumptions, time.perf_counter() - started)
    import owlready2

    lines: list[str] = []
    both: dict[tuple[str, str], str] = {}
    only_first: dict[tuple[str, str], str] = {}  # a and not b: unsatisfiable exactly when a is under b
    for a, b in pairs:
        both[(a, b)] = _helper_class(lines, f"urn:axilla-kg:both:{len(both)}", a, b, negate_second=False)
        for x, y in ((a, b), (b, a)) if subsumption else ():
            only_first[(x, y)] = _helper_class(lines, f"urn:axilla-kg:only:{len(only_first)}", x, y, negate_second=True)
    with tempfile.TemporaryDirectory(prefix="axilla-kg-") as tmp:
        nt = Path(tmp) / "graph.nt"
        merged_ntriples(paths, nt)
        with nt.open("a", encoding="utf-8") as handle:
            handle.write("\n".join(lines) + "\n")
        try:
            world = _reason(nt, reasoner)
        except owlready2.OwlReadyInconsistentOntologyError as exc:
            raise InconsistentGraphError(f"the graph is inconsistent: {_first_line(str(exc))}") from None
        unsat_iris = {c.iri for c in world.inconsistent_classes() if hasattr(c, "iri")}
        world.close()
    unsatisfiable = {pair for pair, iri in both.items() if iri in unsat_iris}
    subsumptions = {pair for pair, iri in only_first.items() if iri in unsat_iris and pair[0] not in unsat_iris}
    return ClassRelations(unsatisfiable, subsumptions, time.perf_counter() - started)


def _hermit_relations(
    paths: Sequence[Path], classes: Sequence[str], pairs: Sequence[tuple[str, str]], *, subsumption: bool
) -> tuple[set[tuple[str, str]], set[tuple[str, str]]]:
    """(the disjoint pairs, the subsumptions (A, B) for A ⊑ B) as HermiT answers them in the
    process's JVM, with few reasoner calls where most answers are alike:

    - the unsatisfiable classes: one call when there is none (one model with an element of each),
      else one question per class;
    - the disjoint pairs (most pairs, here): the union of a group's intersections is
      unsatisfiable exactly when each is, so a group is asked at once and split in halves where
      some pair overlaps, down to the single pairs;
    - containment only where the pair overlaps: A ⊑ B with A satisfiable means A ⊓ B = A is
      satisfiable, so a disjoint pair has none (A ⊓ ¬B and B ⊓ ¬A asked for the others)."""
    for iri in classes:
        _plain_iri(iri)
    with tempfile.TemporaryDirectory(prefix="axilla-kg-") as tmp:
        nt = Path(tmp) / "graph.nt"
        merged_ntriples(paths, nt)
        with _hermit(nt, "the class questions", "the graph is inconsistent") as session:
            empty: set[str] = set()
            if not session.all_satisfiable([[c] for c in classes]):
                empty = {c for c in classes if not session.satisfiable([c])}

            def disjoint(group: Sequence[tuple[str, str]]) -> list[tuple[str, str]]:
                if not group or session.none_satisfiable([list(p) for p in group]):
                    return list(group)
                if len(group) == 1:
                    return []
                half = len(group) // 2
                return disjoint(group[:half]) + disjoint(group[half:])

            unsatisfiable = set(disjoint(pairs))
            subsumptions: set[tuple[str, str]] = set()
            for a, b in (p for p in pairs if p not in unsatisfiable) if subsumption else ():
                for x, y in ((a, b), (b, a)):
                    if x not in empty and not session.satisfiable([x, "!" + y]):
                        subsumptions.add((x, y))
            return unsatisfiable, subsumptions


def satisfiable_pairs(
    pairs: Sequence[tuple[str, str]],
    *,
    extra: Sequence[str | Path] = (),
    claimed: Collection[tuple[str, str]] | None = None,
) -> set[tuple[str, str]]:
    """The pairs (A, B) of ``pairs`` whose intersection A ⊓ B HermiT finds satisfiable, over the
    graph :func:`class_relations` reads (asserted triples plus ``extra``), asked in the process's
    JVM instead of classifying a helper class per pair in a reasoner process.

    ``claimed`` (the pairs expected to be satisfiable) changes the questions, never the answer:
    HermiT confirms the whole claim in two calls, one model holding an element of every claimed
    intersection (:meth:`HermitSession.all_satisfiable`) and the union of the other
    intersections unsatisfiable (:meth:`HermitSession.none_satisfiable`), a proof of every
    pair's answer; otherwise every pair is asked on its own."""
    _require("hermit")
    for pair in pairs:
        for iri in pair:
            _plain_iri(iri)
    paths = list(ontology_files(include_inferred=False)) + [Path(p) for p in extra]
    with tempfile.TemporaryDirectory(prefix="axilla-kg-") as tmp:
        nt = Path(tmp) / "graph.nt"
        merged_ntriples(paths, nt)
        with _hermit(nt, "the class questions", "the graph is inconsistent") as session:
            if claimed is not None:
                yes = [p for p in pairs if p in claimed]
                no = [p for p in pairs if p not in claimed]
                if session.all_satisfiable([list(p) for p in yes]) and session.none_satisfiable([list(p) for p in no]):
                    return set(yes)
            return {p for p in pairs if session.satisfiable(list(p))}


def _helper_class(lines: list[str], iri: str, a: str, b: str, *, negate_second: bool) -> str:
    """Append N-Triples for ``iri`` ≡ a ⊓ b (or a ⊓ ¬b); returns ``iri``."""
    n = iri.rsplit(":", 2)[-2] + iri.rsplit(":", 1)[-1]
    second = f"<{b}>"
    if negate_second:
        lines += [f"_:n{n} <{RDF_TYPE}> <{_OWL}Class> .", f"_:n{n} <{_OWL}complementOf> <{b}> ."]
        second = f"_:n{n}"
    lines += [
        f"<{iri}> <{RDF_TYPE}> <{_OWL}Class> .",
        f"<{iri}> <{_OWL}equivalentClass> _:x{n} .",
        f"_:x{n} <{RDF_TYPE}> <{_OWL}Class> .",
        f"_:x{n} <{_OWL}intersectionOf> _:a{n} .",
        f"_:a{n} <{RDF_FIRST}> <{a}> .",
        f"_:a{n} <{RDF_REST}> _:b{n} .",
        f"_:b{n} <{RDF_FIRST}> {second} .",
        f"_:b{n} <{RDF_REST}> <{RDF_NIL}> .",
    ]
    return iri


RDF_FIRST = "http://www.w3.org/1999/02/22-rdf-syntax-ns#first"
RDF_REST = "http://www.w3.org/1999/02/22-rdf-syntax-ns#rest"
RDF_NIL = "http://www.w3.org/1999/02/22-rdf-syntax-ns#nil"


def _first_line(text: str) -> str:
    lines = [line for line in text.splitlines() if line.strip()]
    return lines[0] if lines else "inconsistent ontology"
