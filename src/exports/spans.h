#pragma once

// Text spans of a snapshot as brat standoff and BioC JSON (docs/export.md, "Text spans").
// Internal to the exports part.

#include <map>
#include <string>
#include <vector>

#include "caliper/exports/snapshot.h"

namespace caliper::exports {

// Adds, for the note items (sorted by id) that have text and span labels, the files
// spans/bioc.json (one BioC collection) and spans/brat/<item_id>.txt, .ann and
// spans/brat/annotation.conf. Offsets are Unicode code points of the stored, de-identified
// text. Adds nothing when no item has a span. Errors: kInvalidArgument when a span lies
// outside its text.
Status AddSpanFiles(const SnapshotInput& input, const std::vector<const SnapshotItem*>& items,
                    const std::map<std::string, std::string>& split_of, Snapshot& snapshot);

}  // namespace caliper::exports
