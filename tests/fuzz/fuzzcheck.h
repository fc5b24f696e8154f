#pragma once
// What every parser's fuzz target checks beyond "no crash": a failure is a value with a code and
// a sentence, and a success leaves a StagedTree whose change set can be built and described.
// Input convention shared by the targets: "<contents of a.txt>\n%%\n<patch>" seeds a.txt (so
// hunks and blocks can match), or the whole input is the patch.
#include "result.h"
#include "stagedtree.h"

#include <cstdlib>

namespace FuzzCheck {
inline void requireWellFormed(const Error &e)
{
    if (e.code.isEmpty() || e.message.isEmpty())
        abort(); // every failure carries a code and a sentence
}

// The outcome of applying onto tree: on success the change set must build; on failure the error
// must be well formed.
inline void requireApplied(const Status &applied, const StagedTree &tree)
{
    if (!applied.ok()) {
        requireWellFormed(applied.error());
        return;
    }
    const Result<ChangeSet> cs = tree.changeSet();
    if (!cs.ok())
        abort();
    (void)cs->filesJson();
}

// Splits "<a.txt>\n%%\n<patch>": seeds a.txt into base and returns the patch part.
inline QByteArray seedAndPatch(const QByteArray &input, MemoryFileSource &base)
{
    const qsizetype split = input.indexOf("\n%%\n");
    if (split < 0)
        return input;
    base.setFile("a.txt", input.left(split + 1));
    return input.mid(split + 4);
}
} // namespace FuzzCheck
