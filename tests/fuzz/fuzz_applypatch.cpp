// libFuzzer target: parses and applies arbitrary input as an apply_patch onto an in-memory tree.
// It must never crash, hang or trip a sanitizer; failures are fine as long as they are values.
// Input: "<contents of a.txt>\n%%\n<patch>" seeds a.txt (so chunks can match), or just "<patch>".
#include "applypatchparser.h"
#include "stagedtree.h"

#include <cstddef>
#include <cstdint>
#include <cstdlib>

namespace {
void requireWellFormed(const Error &e)
{
    if (e.code.isEmpty() || e.message.isEmpty())
        abort(); // every failure carries a code and a sentence
}
} // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    const QByteArray input(reinterpret_cast<const char *>(data), qsizetype(size));
    QByteArray text = input;
    MemoryFileSource base;
    base.setFile("src/x.py", "def f():\n    x = 1\n    return x\n\ndef g():\n    return x\n");
    base.setFile("crlf.txt", "one\r\ntwo\r\nthree\r\n");
    base.setFile("nonl.txt", "a\nb\nc", 0755);
    base.setFile("quotes.md", "It’s “done” — ok\n");
    const qsizetype split = input.indexOf("\n%%\n");
    if (split >= 0) {
        base.setFile("a.txt", input.left(split + 1));
        text = input.mid(split + 4);
        // Applying no chunks gives the contents back byte for byte.
        const Result<QByteArray> same =
            ApplyPatchParser::applyChunks(input.left(split + 1), {}, "a.txt", nullptr);
        if (!same.ok() || same.value() != input.left(split + 1))
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
    if (applied.ok()) {
        if (!parsed.ok())
            abort(); // apply cannot succeed where parse failed
        const Result<ChangeSet> cs = tree.changeSet();
        if (!cs.ok())
            abort();
        (void)cs->filesJson();
    } else {
        requireWellFormed(applied.error());
    }
    return 0;
}
