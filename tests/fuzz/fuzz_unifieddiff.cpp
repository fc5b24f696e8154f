// libFuzzer target: parses and applies arbitrary input as a unified diff onto an in-memory tree.
// It must never crash, hang or trip a sanitizer; failures are fine as long as they are values.
// Input: "<contents of a.txt>\n%%\n<diff>" seeds a.txt (so hunks can match), or just "<diff>".
#include "fuzzcheck.h"
#include "unifieddiffparser.h"

#include <cstddef>
#include <cstdint>
#include <cstdlib>

extern "C" int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    const QByteArray input(reinterpret_cast<const char *>(data), qsizetype(size));
    MemoryFileSource base;
    base.setFile("src/x.c", "int main()\n{\n\treturn 0;\n}\n");
    base.setFile("crlf.txt", "one\r\ntwo\r\nthree\r\n");
    base.setFile("nonl.txt", "a\nb\nc", 0755);
    const QByteArray diff = FuzzCheck::seedAndPatch(input, base);

    (void)UnifiedDiffParser::looksLike(diff);
    const Result<QList<FilePatch>> parsed = UnifiedDiffParser::parse(diff);
    if (parsed.ok()) {
        (void)UnifiedDiffParser::summary(parsed.value());
        if (parsed->isEmpty())
            abort(); // parse promises at least one file section on success
    } else {
        FuzzCheck::requireWellFormed(parsed.error());
    }

    // Parsed in pieces, as a long diff is: the same sections, or the same error.
    UnifiedDiffParser::Options pieces;
    pieces.piecewiseFromLines = 1;
    const Result<QList<FilePatch>> piecewise = UnifiedDiffParser::parse(diff, pieces);
    if (piecewise.ok() != parsed.ok())
        abort();
    if (!parsed.ok() && piecewise.error().message != parsed.error().message)
        abort();
    if (parsed.ok()) {
        if (piecewise->size() != parsed->size())
            abort();
        for (qsizetype i = 0; i < parsed->size(); ++i) {
            const FilePatch &a = parsed->at(i);
            const FilePatch &b = piecewise->at(i);
            if (a.oldPath != b.oldPath || a.newPath != b.newPath || a.diffLine != b.diffLine ||
                a.hunks.size() != b.hunks.size() || a.added() != b.added() ||
                a.removed() != b.removed())
                abort();
        }
    }

    StagedTree tree(base);
    FuzzCheck::requireApplied(UnifiedDiffParser::apply(diff, tree), tree);
    return 0;
}
