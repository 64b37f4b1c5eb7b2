// OWL 2 DL profile check, the way ROBOT's `validate-profile` does it: the OWL API's own
// OWL2DLProfile. Compiled on first use by axilla_kg.checks.profile against the OWL API that
// owlready2's HermiT jar bundles; no other library is needed.
//
// Usage: java -cp <dir>:HermiT.jar ProfileCheck FILE [FILE ...]
// Output, per file: "FILE\t<path>", then one "<ViolationClass>\t<text>" line per violation,
// then "IN-PROFILE" or "NOT-IN-PROFILE" (or "UNREADABLE\t<message>" when the OWL API cannot
// parse the file). Each file is loaded into its own manager, so files are checked independently.
import java.io.File;
import org.semanticweb.owlapi.apibinding.OWLManager;
import org.semanticweb.owlapi.model.OWLOntology;
import org.semanticweb.owlapi.model.OWLOntologyManager;
import org.semanticweb.owlapi.profiles.OWL2DLProfile;
import org.semanticweb.owlapi.profiles.OWLProfileReport;
import org.semanticweb.owlapi.profiles.OWLProfileViolation;

public class ProfileCheck {
    private static String oneLine(Object value) {
        return String.valueOf(value).replace('\n', ' ').replace('\r', ' ').replace('\t', ' ');
    }

    public static void main(String[] args) {
        for (String path : args) {
            System.out.println("FILE\t" + path);
            OWLOntologyManager manager = OWLManager.createOWLOntologyManager();
            OWLOntology ontology;
            try {
                ontology = manager.loadOntologyFromOntologyDocument(new File(path));
            } catch (Exception e) {
                System.out.println("UNREADABLE\t" + oneLine(e.getMessage()));
                continue;
            }
            OWLProfileReport report = new OWL2DLProfile().checkOntology(ontology);
            for (OWLProfileViolation v : report.getViolations()) {
                System.out.println(v.getClass().getSimpleName() + "\t" + oneLine(v));
            }
            System.out.println(report.isInProfile() ? "IN-PROFILE" : "NOT-IN-PROFILE");
        }
        System.out.flush();
    }
}
