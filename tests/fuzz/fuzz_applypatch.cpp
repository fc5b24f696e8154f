// libFuzzer target: parses and applies arbitrary input as an apply_patch onto an in-memory tree.
// It must never crash, hang or trip a sanitizer; failures are fine as long as they are values.
// Input: "<contents of a.txt>\n%%\n<patch>" seeds a.txt (so chunks can match), or just "<patch>".
#include "applypatchparser.h"
#include "fuzzcheck.h"

#include <cstddef>
#include <cstdint>
#include <cstdlib>

using FuzzCheck::requireWellFormed;

extern "C" int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    const QByteArray input(reinterpret_cast<const char *>(data), qsizetype(size));
    MemoryFileSource base;
    base.setFile("src/x.py", "def f():\n    x = 1\n    return x\n\ndef g():\n    return x\n");
    base.setFile("crlf.txt", "one\r\ntwo\r\nthree\r\n");
    base.setFile("nonl.txt", "a\nb\nc", 0755);
    base.setFile("quotes.md", "It’s “done” — ok\n");
    const QByteArray text = FuzzCheck::seedAndPatch(input, base);
    if (const Result<FileState> seeded = base.read("a.txt"); seeded.ok() && seeded->exists) {
        // Applying no chunks gives the contents back byte for byte.
        const Result<QByteArray> same =
            ApplyPatchParser::applyChunks(seeded->contents, {}, "a.txt", nullptr);
        if (!same.ok() || same.value() != seeded->contents)
            abort();
    }

    (void)ApplyPatchParser::looksLike(text);
    const Result<ApplyPatch> parsed = ApplyPatchParser::parse(text);
    if (parsed.ok() && parsed->files.isEmpty())
        abort(); // parse promises at least one file section on success
    if (!parsed.ok())
        requireWellFormed(parsed.error());

    StagedTree tree(base);
    const Status applied = ApplyPatchParser::apply(text, tree);
    if (applied.ok() && !parsed.ok())
        abort(); // apply cannot succeed where parse failed
    FuzzCheck::requireApplied(applied, tree);
    return 0;
}
