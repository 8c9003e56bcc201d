// Runs EPUBCheck's own command-line entry point once per file inside one JVM (tests/support/epubcheck.py).
// The EPUBCheck CLI takes exactly one publication per run, and a JVM start costs ~4-5 s, nearly all
// start-up and schema loading. The JSON written per file is exactly what
// `java -jar epubcheck.jar FILE --json OUT` writes. Run with Java's single-file source launcher:
// `java -cp epubcheck.jar EpubCheckMany.java EPUB1 JSON1 EPUB2 JSON2 ...`
import com.adobe.epubcheck.tool.EpubChecker;

public class EpubCheckMany {
    public static void main(String[] args) {
        for (int i = 0; i + 1 < args.length; i += 2) {
            int rc;
            try {
                rc = new EpubChecker().run(new String[] {args[i], "--json", args[i + 1], "-q"});
            } catch (Throwable t) {
                t.printStackTrace();
                rc = -1;
            }
            System.out.println("EPUBCHECK-RC\t" + rc + "\t" + args[i]);
            System.out.flush();
        }
    }
}
