// Renders the `script:` or `stub:` block of nf-core-style process files the
// way Nextflow does: the block's Groovy code (defs, then a GString) is
// evaluated with task, meta and the staged input files bound, and the
// result's common indentation removed. Nextflow itself is not used: the
// block is cut out of the file by its `script:` / `stub:` labels.
//
// Usage: groovy nf-render.groovy, then one JSON task per line on standard
// input; for each, the rendered script is written to "out" and one line
// `rendered ...` (or `error: ...`) is printed. A task:
//   { "module": "path/main.nf", "block": "script"|"stub", "out": "dir/.command.sh",
//     "task": { "process": ..., "cpus": ..., "ext": {...} },
//     "vars": { "meta": {...}, "reads": ["a.fq.gz", "b.fq.gz"], "fasta": "ref.fa" } }
// A string value in "vars" (other than in meta) is a staged file; a list of
// strings is a list of staged files (Nextflow prints it blank-separated).
import groovy.json.JsonSlurper

class StagedFile {
    final String name
    StagedFile(String name) { this.name = name }
    String getName() { name }
    String getBaseName() { name.lastIndexOf('.') > 0 ? name.substring(0, name.lastIndexOf('.')) : name }
    String getSimpleName() { name.indexOf('.') > 0 ? name.substring(0, name.indexOf('.')) : name }
    String getExtension() { name.lastIndexOf('.') > 0 ? name.substring(name.lastIndexOf('.') + 1) : '' }
    String toString() { name }
}

// Like Nextflow's BlankSeparatedList: list methods, but not a List, so that
// a GString prints it blank-separated.
class StagedList {
    @Delegate(interfaces = false) List<StagedFile> target = []
    String toString() { target.join(' ') }
    // An empty list (an optional input given as []) is false, as in Nextflow.
    boolean asBoolean() { !target.isEmpty() }
}

String block(String text, String label, String path) {
    def lines = text.readLines()
    int start = lines.findIndexOf { it ==~ /\s*${label}:\s*/ }
    if (start < 0) {
        throw new IllegalArgumentException("${path}: no `${label}:` block")
    }
    int end = lines.findIndexOf(start + 1) { it ==~ /\s*(stub|script|shell|exec):\s*/ || it ==~ /}\s*/ }
    if (end < 0) {
        throw new IllegalArgumentException("${path}: `${label}:` block has no end")
    }
    return lines.subList(start + 1, end).join('\n')
}

def staged(value) {
    if (value instanceof String) {
        return new StagedFile(value)
    }
    if (value instanceof List) {
        def list = new StagedList()
        value.each { list.target << new StagedFile(it as String) }
        return list
    }
    return value
}

def slurper = new JsonSlurper()
System.in.eachLine { line ->
    if (!line.trim()) {
        return
    }
    def spec = slurper.parseText(line)
    try {
        render(spec)
    } catch (Exception e) {
        println "error: ${spec.module} ${spec.block}: ${e}"
    }
    System.out.flush()
}

void render(spec) {
    def binding = new Binding()
    def task = [ext: [:], cpus: 1, attempt: 1] + spec.task
    binding.setVariable('task', task)
    spec.vars.each { name, value ->
        binding.setVariable(name, name.startsWith('meta') ? value : staged(value))
    }
    def code = block(new File(spec.module).text, spec.block, spec.module)
    def rendered = new GroovyShell(binding).evaluate(code).toString().stripIndent()
    new File(spec.out).text = rendered.endsWith('\n') ? rendered : rendered + '\n'
    println "rendered ${spec.block} of ${task.process} -> ${spec.out}"
}
