// Reading frame, x, y, track_id rows out of the Arrow batches that arrive.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "spotflow/packet.h"
#include "tracks.hpp"

namespace eval_tracks {

struct RowsIn {
    std::vector<TrackRow> rows;
    int64_t unlinked = 0; // rows skipped for a null track_id
    int64_t seen = 0;     // rows read so far, for error messages
};

// Appends the batch's rows. `what` names the input in errors, e.g.
// "tracks from 'link.tracks'". Throws PluginError for a tensor, a missing or
// non-numeric column, a null frame, or (unless allow_unlinked) a null track_id.
void append_rows(const spotflow_packet& packet, const std::string& what, bool allow_unlinked, RowsIn& into);

} // namespace eval_tracks
