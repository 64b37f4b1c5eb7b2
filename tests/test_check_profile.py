"""The `profile` stage of `axilla-kg check`: the whole graph, `ontology/inferred/` included, is
OWL 2 DL, and each kind of DL violation that an edit here could introduce is reported as an ERROR
naming the entity (one fixture per kind in tests/fixtures/profile/, each added to the shipped
graph). The decision is the OWL API's OWL2DLProfile, run in one JVM for all fixtures."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest
import rdflib

from axilla_kg.authoring import derive
from axilla_kg.checks import Level, run_checks
from axilla_kg.checks import profile as profile_module
from axilla_kg.checks.profile import Violation, profile_violations
from axilla_kg.graph.knowledge import KnowledgeGraph
from axilla_kg.reasoning.reasoner import merged_ntriples
from axilla_kg.recommend.classify import Classifier
from axilla_kg.resources import ontology_dir, ontology_files

from conftest import cli_env

FIXTURES = Path(__file__).resolve().parent / "fixtures" / "profile"
AX = "https://w3id.org/axilla-kg/vocab#"
OWL = "http://www.w3.org/2002/07/owl#"
SKOS = "http://www.w3.org/2004/02/skos/core#"

# fixture → (rule, the entity it must name); the only violation the fixture may cause
CASES = {
    "undeclared-class.ttl": ("profile-use-of-undeclared-class", AX + "ImagingProcedur"),
    "undeclared-object-property.ttl": ("profile-use-of-undeclared-object-property", AX + "fxUndeclaredLink"),
    "undeclared-annotation-property.ttl": ("profile-use-of-undeclared-annotation-property", SKOS + "editorialNote"),
    "illegal-punning.ttl": ("profile-illegal-punning", AX + "fxProfilePunned"),
    "non-simple-property-in-cardinality.ttl": (
        "profile-use-of-non-simple-property-in-cardinality-restriction",
        AX + "fxProfilePartOf",
    ),
    "reserved-vocabulary.ttl": ("profile-use-of-reserved-vocabulary-for-class-iri", OWL + "FxProfileClass"),
}


def test_every_fixture_has_an_expectation() -> None:
    assert sorted(p.name for p in FIXTURES.glob("*.ttl")) == sorted(CASES)


CLASS_AXIOMS = {rdflib.RDFS.subClassOf, rdflib.OWL.equivalentClass, rdflib.OWL.disjointWith}


def test_inferred_file_adds_no_class_axioms() -> None:
    """The shipped inferred part asserts no class axiom, and every derived containment relation
    has its ax:patientClassContainedIn annotation between the two patient classes."""
    graph = rdflib.Graph()
    for path in sorted((ontology_dir() / "inferred").glob("*.ttl")):
        graph.parse(path, format="turtle")
    assert [t for t in graph if t[1] in CLASS_AXIOMS] == []
    contained = set(graph.subject_objects(rdflib.URIRef(AX + "patientClassContainedIn")))
    subsumed = set(graph.subjects(rdflib.URIRef(AX + "relationType"), rdflib.URIRef(AX + "SubsumedBy")))
    assert len(contained) == len(subsumed)


def test_derived_containment_is_written_as_an_annotation(kg: KnowledgeGraph) -> None:
    """Containment (whether or not the shipped definitions have any) is rendered as the annotation
    ax:patientClassContainedIn, never as rdfs:subClassOf between defined classes (not OWL 2 DL)."""
    classifier = Classifier.from_graph(kg)
    a, b = classifier.variants[0], classifier.variants[1]
    text = derive.render([derive.Relation(a, b, "SubsumedBy")], {}, classifier.registry)
    graph = rdflib.Graph().parse(data=text, format="turtle")
    assert [t for t in graph if t[1] in CLASS_AXIOMS] == []
    assert set(graph.subject_objects(rdflib.URIRef(AX + "patientClassContainedIn"))) == {
        (rdflib.URIRef(a.class_iri), rdflib.URIRef(b.class_iri))
    }


def test_prov_was_derived_from_keeps_its_prov_o_meaning() -> None:
    """core.ttl declares PROV-O terms but narrows none of them; our subproperty carries the range."""
    graph = rdflib.Graph().parse(ontology_dir() / "core.ttl", format="turtle")
    prov = rdflib.Namespace("http://www.w3.org/ns/prov#")
    for term in (prov.wasDerivedFrom, prov.wasGeneratedBy, prov.used):
        assert (term, rdflib.RDF.type, rdflib.OWL.ObjectProperty) in graph
        assert list(graph.objects(term, rdflib.RDFS.range)) == []
        assert list(graph.objects(term, rdflib.RDFS.domain)) == []
    ours = rdflib.URIRef(AX + "hasSourceRecord")
    assert (ours, rdflib.RDFS.subPropertyOf, prov.wasDerivedFrom) in graph
    assert (ours, rdflib.RDFS.range, rdflib.URIRef(AX + "SourceRecord")) in graph


@pytest.fixture(scope="module")
def fixture_violations(tmp_path_factory: pytest.TempPathFactory) -> dict[str, list[Violation]]:
    """Shipped graph (inferred included) alone and plus each fixture, all checked in one JVM."""
    folder = tmp_path_factory.mktemp("profile")
    inputs = {"shipped": ontology_files()} | {name: [*ontology_files(), FIXTURES / name] for name in CASES}
    files = {}
    for name, paths in inputs.items():
        files[name] = folder / f"{name}.nt"
        merged_ntriples(paths, files[name])
    found = profile_violations(list(files.values()))
    return {name: found[path] for name, path in files.items()}


@pytest.mark.slow
def test_shipped_graph_with_inferred_part_is_owl2_dl(fixture_violations: dict[str, list[Violation]]) -> None:
    assert fixture_violations["shipped"] == []


@pytest.mark.slow
@pytest.mark.parametrize("fixture", sorted(CASES))
def test_fixture_is_reported_as_exactly_its_violation(
    fixture: str, fixture_violations: dict[str, list[Violation]]
) -> None:
    rule, iri = CASES[fixture]
    assert {(v.rule, v.subject) for v in fixture_violations[fixture]} == {(rule, iri)}


@pytest.mark.slow
def test_stage_reports_an_error_with_entity_and_label() -> None:
    report = run_checks([FIXTURES / "undeclared-class.ttl"], stages=["profile"])
    assert [s.name for s in report.stages] == ["profile"]
    (finding,) = report.findings
    assert (finding.rule, finding.level, finding.stage) == ("profile-use-of-undeclared-class", Level.ERROR, "profile")
    assert finding.entities == ((AX + "ImagingProcedur", ""),)
    assert "ImagingProcedur" in finding.message and "OntologyID" not in finding.message
    assert report.fails("error")


def test_without_java_the_stage_says_it_did_not_check(tmp_path: Path) -> None:
    """No Java runtime (no ``java`` on PATH, no JAVA_HOME): one WARN finding, never a silent pass.
    In a fresh interpreter: a JVM, once started, stays for the life of the process."""
    code = (
        "import sys; from pathlib import Path\n"
        "from axilla_kg.checks.context import CheckContext\n"
        "from axilla_kg.checks.profile import check_profile\n"
        "ctx = CheckContext.load([Path(sys.argv[1])])\n"
        "try:\n"
        "    for f in check_profile(ctx): print(f.rule, f.level.name, f.message, sep='\\t')\n"
        "finally:\n"
        "    ctx.close()\n"
    )
    env = cli_env(PATH=str(tmp_path))
    env.pop("JAVA_HOME", None)
    done = subprocess.run(
        [sys.executable, "-c", code, str(FIXTURES / "undeclared-class.ttl")],
        capture_output=True,
        text=True,
        env=env,
        timeout=300,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    (line,) = done.stdout.splitlines()
    rule, level, message = line.split("\t")
    assert (rule, level) == ("profile-not-checked", "WARN")
    assert "Java runtime" in message


def test_no_java_source_is_shipped_or_compiled() -> None:
    """The OWL API is called through JPype: no ``.java`` file in the package, no javac anywhere."""
    package = Path(profile_module.__file__).resolve().parents[1]
    assert list(package.rglob("*.java")) == []
    sources = [p.read_text(encoding="utf-8") for p in package.rglob("*.py")]
    assert not any("javac" in text for text in sources)
