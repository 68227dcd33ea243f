// Syntax check of Nextflow files with plain Groovy (no Nextflow here): every
// file given must get through Groovy's parser (phase CONVERSION: the source
// becomes an AST). Nextflow's DSL (process, workflow, include, labels such as
// input:/script:) is Groovy syntax, so a file Groovy cannot parse is broken;
// one that parses may still fail in Nextflow (unknown operators, wrong
// channel shapes, semantics of the DSL), which this does not check.
import org.codehaus.groovy.control.CompilationFailedException
import org.codehaus.groovy.control.CompilationUnit
import org.codehaus.groovy.control.CompilerConfiguration
import org.codehaus.groovy.control.Phases

int failed = 0
for (String path : args) {
    def unit = new CompilationUnit(new CompilerConfiguration())
    unit.addSource(new File(path))
    try {
        unit.compile(Phases.CONVERSION)
        println "groovy parse ok: ${path}"
    } catch (CompilationFailedException e) {
        failed++
        System.err.println "groovy parse FAILED: ${path}\n${e.message}"
    }
}
if (failed) {
    System.err.println "${failed} file(s) failed to parse"
    System.exit(1)
}
