// Class satisfiability questions to HermiT, thousands per JVM: the reference semantics of a
// patient case's matches and refutations (axilla_kg.reasoning.reasoner.CaseQuestions explains why a
// satisfiability question answers them exactly). Compiled on first use against the OWL API and
// HermiT that owlready2's HermiT jar bundles, like checks/java/ProfileCheck.java.
//
// Usage: java -cp <dir>:HermiT.jar ClassQuestions ONTOLOGY
// Protocol: UTF-8 lines, exactly one answer line per request line.
//   at start-up      "READY" once ONTOLOGY is loaded and consistent; otherwise "INCONSISTENT" or
//                    "ERROR\t<message>", and the process exits.
//   DEFINE\t<file>   read <file> (N-Triples or any OWL API syntax) as definitions: each class with
//                    exactly one EquivalentClasses axiom there may be named in later questions and
//                    stands for its defining expression (nothing is added to ONTOLOGY). Replaces
//                    the previous definitions. Answers "DEFINED\t<count>".
//   SAT\t<t>\t<t>... is the intersection of the terms satisfiable with respect to ONTOLOGY? A term
//                    is a class IRI (a class of ONTOLOGY or a defined one) or "!" + IRI for its
//                    complement. Answers "YES" or "NO".
//   Anything wrong answers "ERROR\t<message>" and the process keeps serving. An IRI that is neither
//   a class of ONTOLOGY nor defined is an error: a fresh class would make every question "YES".
import java.io.BufferedReader;
import java.io.File;
import java.io.FileDescriptor;
import java.io.FileOutputStream;
import java.io.InputStreamReader;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.util.HashMap;
import java.util.HashSet;
import java.util.Map;
import java.util.Set;
import org.semanticweb.HermiT.Configuration;
import org.semanticweb.HermiT.Reasoner;
import org.semanticweb.owlapi.apibinding.OWLManager;
import org.semanticweb.owlapi.model.IRI;
import org.semanticweb.owlapi.model.OWLClass;
import org.semanticweb.owlapi.model.OWLClassExpression;
import org.semanticweb.owlapi.model.OWLDataFactory;
import org.semanticweb.owlapi.model.OWLEquivalentClassesAxiom;
import org.semanticweb.owlapi.model.OWLOntology;
import org.semanticweb.owlapi.model.OWLOntologyManager;

public class ClassQuestions {
    private static String oneLine(Object value) {
        return String.valueOf(value).replace('\n', ' ').replace('\r', ' ').replace('\t', ' ');
    }

    private final OWLOntology ontology;
    private final OWLDataFactory factory;
    private final Reasoner reasoner;
    private final Map<IRI, OWLClassExpression> defined = new HashMap<IRI, OWLClassExpression>();

    ClassQuestions(OWLOntology ontology, OWLDataFactory factory) {
        this.ontology = ontology;
        this.factory = factory;
        this.reasoner = new Reasoner(new Configuration(), ontology);
    }

    String define(String path) throws Exception {
        OWLOntologyManager manager = OWLManager.createOWLOntologyManager();
        OWLOntology definitions = manager.loadOntologyFromOntologyDocument(new File(path));
        Map<IRI, OWLClassExpression> found = new HashMap<IRI, OWLClassExpression>();
        Set<IRI> repeated = new HashSet<IRI>();
        for (OWLEquivalentClassesAxiom axiom : definitions.getAxioms(org.semanticweb.owlapi.model.AxiomType.EQUIVALENT_CLASSES)) {
            Set<OWLClass> named = axiom.getNamedClasses();
            if (named.size() != 1 || axiom.getClassExpressions().size() != 2) {
                return "ERROR\tan equivalence in " + path + " does not define one class: " + oneLine(axiom);
            }
            OWLClass cls = named.iterator().next();
            for (OWLClassExpression e : axiom.getClassExpressions()) {
                if (!e.equals(cls) && found.put(cls.getIRI(), e) != null) repeated.add(cls.getIRI());
            }
        }
        if (!repeated.isEmpty()) return "ERROR\tdefined more than once: " + repeated.iterator().next();
        for (IRI iri : found.keySet()) {
            if (ontology.containsClassInSignature(iri)) return "ERROR\talready a class of the ontology: " + iri;
        }
        defined.clear();
        defined.putAll(found);
        return "DEFINED\t" + found.size();
    }

    private OWLClassExpression term(String token) {
        boolean negated = token.startsWith("!");
        IRI iri = IRI.create(negated ? token.substring(1) : token);
        OWLClassExpression e = defined.get(iri);
        if (e == null) {
            if (!ontology.containsClassInSignature(iri)) throw new IllegalArgumentException("not a class: " + iri);
            e = factory.getOWLClass(iri);
        }
        return negated ? factory.getOWLObjectComplementOf(e) : e;
    }

    String satisfiable(String[] fields) {
        Set<OWLClassExpression> terms = new HashSet<OWLClassExpression>();
        for (int k = 1; k < fields.length; k++) terms.add(term(fields[k]));
        if (terms.isEmpty()) throw new IllegalArgumentException("SAT needs at least one term");
        OWLClassExpression question = terms.size() == 1 ? terms.iterator().next() : factory.getOWLObjectIntersectionOf(terms);
        return reasoner.isSatisfiable(question) ? "YES" : "NO";
    }

    public static void main(String[] args) throws Exception {
        PrintStream out = new PrintStream(new FileOutputStream(FileDescriptor.out), false, "UTF-8");
        ClassQuestions questions;
        try {
            OWLOntologyManager manager = OWLManager.createOWLOntologyManager();
            OWLOntology ontology = manager.loadOntologyFromOntologyDocument(new File(args[0]));
            questions = new ClassQuestions(ontology, manager.getOWLDataFactory());
            if (!questions.reasoner.isConsistent()) {
                out.println("INCONSISTENT");
                out.flush();
                return;
            }
        } catch (Exception e) {
            out.println("ERROR\t" + oneLine(e));
            out.flush();
            return;
        }
        out.println("READY");
        out.flush();
        BufferedReader in = new BufferedReader(new InputStreamReader(System.in, StandardCharsets.UTF_8));
        String line;
        while ((line = in.readLine()) != null) {
            String[] fields = line.split("\t", -1);
            String answer;
            try {
                if (fields[0].equals("SAT")) answer = questions.satisfiable(fields);
                else if (fields[0].equals("DEFINE") && fields.length == 2) answer = questions.define(fields[1]);
                else answer = "ERROR\tunknown request: " + oneLine(fields[0]);
            } catch (Exception e) {
                answer = "ERROR\t" + oneLine(e);
            }
            out.println(answer);
            out.flush();
        }
    }
}
