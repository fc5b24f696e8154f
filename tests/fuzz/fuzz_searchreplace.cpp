// libFuzzer target: parses and applies arbitrary input as search_replace blocks onto an in-memory
// tree. It must never crash, hang or trip a sanitizer; failures are fine as long as they are
// values. Input: "<contents of a.txt>\n%%\n<patch>" seeds a.txt (so blocks can match), or just
// "<patch>".
#include "fuzzcheck.h"
#include "searchreplaceparser.h"

#include <cstddef>
#include <cstdint>
#include <cstdlib>

extern "C" int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    const QByteArray input(reinterpret_cast<const char *>(data), qsizetype(size));
    MemoryFileSource base;
    base.setFile("src/x.c", "int main()\n{\n\treturn 0;\n}\n");
    base.setFile("app.py", "def f():\n    if x:\n        return 1\n    return 2\n");
    base.setFile("crlf.txt", "one\r\ntwo\r\nthree\r\n");
    base.setFile("nonl.txt", "a\nb\nc", 0755);
    const QByteArray patch = FuzzCheck::seedAndPatch(input, base);

    const bool looks = SearchReplaceParser::looksLike(patch);
    const Result<QList<SearchReplaceBlock>> parsed = SearchReplaceParser::parse(patch);
    if (parsed.ok()) {
        if (parsed->isEmpty() || !looks)
            abort(); // parse promises at least one block, and a block has a SEARCH line
        for (const SearchReplaceBlock &b : parsed.value()) {
            if (b.path.isEmpty() || b.patchLine < 1)
                abort();
        }
    } else {
        FuzzCheck::requireWellFormed(parsed.error());
    }

    StagedTree tree(base);
    FuzzCheck::requireApplied(SearchReplaceParser::apply(patch, tree), tree);
    return 0;
}
