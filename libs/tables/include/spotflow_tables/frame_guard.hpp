// The runaway guard every linker shares: detections are counted per frame
// as their batches arrive, before anything of a batch is kept, and a frame
// with more than the limit stops the run with one error line naming the
// frame and the count and pointing to the detector's threshold (a detector
// whose threshold is far too low floods the linker with noise, and a linker
// holding the stream would otherwise grow until memory runs out).
//
// The limit is stated (a linker's max_detections_per_frame) or derived from
// the machine's memory by the linker. Memory: one counter per frame seen.
// Threading: none; one linker instance, one guard.
#pragma once

#include <cstdint>
#include <string>
#include <unordered_map>
#include <vector>

#include "spotflow/host.h"

namespace spotflow::tables {

class FrameGuard {
public:
    // limit: detections one frame may have, > 0; derived: the limit came
    // from memory (the error says so).
    FrameGuard(int64_t limit, bool derived) : limit_(limit), derived_(derived) {}

    // Counts a batch's frames (every row's frame) on top of the batches
    // before. Throws PluginError(SPOTFLOW_ERR_INVALID_ARGUMENT) naming the
    // first frame, in frame order, whose count goes over the limit; the
    // counts are then left as they were.
    void add(const std::vector<int64_t>& frames);

    int64_t limit() const { return limit_; }
    bool derived() const { return derived_; }
    // The fullest frame so far (the lowest of equals) and its count; -1, 0
    // before any detection.
    int64_t fullest_frame() const { return fullest_frame_; }
    int64_t fullest_count() const { return fullest_count_; }

    // What run.json records: {"max_detections_per_frame", "derived",
    // "fullest_frame", "fullest_frame_detections"}, as JSON text.
    std::string record_json() const;
    // A warning when the fullest frame came within half of the limit (the
    // stream is probably noise-heavy, or the limit is about to matter);
    // empty otherwise.
    std::string warning() const;
    // Writes the record into run.json (host->record, ABI 1.1) and logs the
    // warning if there is one. Call once, at finish.
    void report(const spotflow_host* host, const std::string& who) const;

private:
    int64_t limit_;
    bool derived_;
    std::unordered_map<int64_t, int64_t> counts_;
    int64_t fullest_frame_ = -1, fullest_count_ = 0;
};

// The limit a linker that holds the whole detections stream derives when
// none is stated: the count at which the stream (total_frames frames that
// full, bytes_per_detection each, total_frames unknown: <= 0) or one
// frame's candidate pairs (every pair of two full frames, 32 bytes each)
// would take more than a quarter of the machine's memory. At least 1.
int64_t whole_stream_frame_limit(int64_t total_frames, double bytes_per_detection = 512);

// The params' max_detections_per_frame (the linkers' name for the limit);
// 0 when absent (derive it). Throws PluginError for params that are not a
// JSON object or a value that is not a whole number >= 0.
int64_t stated_frame_limit(const char* params_json);

// "1,723": thousands separated, for the guard's messages.
std::string thousands(int64_t n);

} // namespace spotflow::tables
