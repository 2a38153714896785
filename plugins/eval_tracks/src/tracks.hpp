// The track model (gap-filled tracks) and the challenge measures with their
// pairing live in libs/tracks, shared with tracks.metrics' curation labels;
// this plugin uses them by their short names.
#pragma once

#include "spotflow_tracks/challenge_score.hpp"
#include "spotflow_tracks/tracks.hpp"

namespace eval_tracks {
using namespace spotflow::tracks;
} // namespace eval_tracks
