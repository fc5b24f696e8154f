#pragma once
// The `mutations` format: a list of file operations applied in order onto a StagedTree.
//   {"path","contents"}                          write the whole file (create or replace)
//   {"path","insertAfter":TEXT,"contents"}       insert after the whole line(s) equal to TEXT
//   {"path","insertBefore":TEXT,"contents"}      insert before it
//   {"path","insertAt":N,"contents"}             insert before line N (1-based; N = lines+1
//   appends)
//   {"path","op":"delete"}                       delete the file
//   {"path","op":"chmod","mode":"0755"}          set permission bits (a number 755 = "0755")
// Anchors must occur exactly once: a missing one is no_match, a repeated one ambiguous_match.

#include "stagedtree.h"

#include <QJsonArray>

class MutationsParser
{
public:
    static Status apply(const QJsonArray &mutations, StagedTree &tree);
};
