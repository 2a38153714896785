#include "spotflow_tables/frame_guard.hpp"

#include <unistd.h>

#include <algorithm>
#include <cmath>
#include <map>

#include <nlohmann/json.hpp>

#include "spotflow/plugin_error.hpp"

namespace spotflow::tables {

std::string thousands(int64_t n) {
    std::string s = std::to_string(n);
    for (int i = static_cast<int>(s.size()) - 3; i > (n < 0 ? 1 : 0); i -= 3) s.insert(static_cast<size_t>(i), ",");
    return s;
}

void FrameGuard::add(const std::vector<int64_t>& frames) {
    std::map<int64_t, int64_t> batch; // frame order: the first frame over names itself
    for (const int64_t t : frames) ++batch[t];
    for (const auto& [t, n] : batch) {
        const auto it = counts_.find(t);
        const int64_t total = n + (it == counts_.end() ? 0 : it->second);
        if (total > limit_)
            throw PluginError(SPOTFLOW_ERR_INVALID_ARGUMENT,
                              "detections: frame " + std::to_string(t) + " has " + thousands(total) +
                                  " detections, more than max_detections_per_frame (" + thousands(limit_) +
                                  (derived_ ? ", derived from this machine's memory" : "") +
                                  "): the detector is probably finding noise; raise its threshold (detect.decode: "
                                  "detection_threshold, detect.wavelet: threshold) or raise the limit");
    }
    for (const auto& [t, n] : batch) {
        const int64_t total = counts_[t] += n;
        if (total > fullest_count_ || (total == fullest_count_ && t < fullest_frame_)) {
            fullest_count_ = total;
            fullest_frame_ = t;
        }
    }
}

std::string FrameGuard::record_json() const {
    return "{\"max_detections_per_frame\": " + std::to_string(limit_) + ", \"derived\": " + (derived_ ? "true" : "false") +
           ", \"fullest_frame\": " + std::to_string(fullest_frame_) +
           ", \"fullest_frame_detections\": " + std::to_string(fullest_count_) + "}";
}

std::string FrameGuard::warning() const {
    if (fullest_count_ * 2 <= limit_) return {};
    return "frame " + std::to_string(fullest_frame_) + " has " + thousands(fullest_count_) +
           " detections, more than half of max_detections_per_frame (" + thousands(limit_) +
           "): check the detector's threshold; a noisier movie will stop at the limit";
}

void FrameGuard::report(const spotflow_host* host, const std::string& who) const {
    // host->record is ABI 1.1; an older host has no slot for it.
    if (host->abi.minor >= 1 && host->record) host->record(host, "runaway_guard", record_json().c_str());
    if (const std::string w = warning(); !w.empty()) host->log(host, SPOTFLOW_LOG_WARNING, (who + ": " + w).c_str());
}

int64_t stated_frame_limit(const char* params_json) {
    nlohmann::json p;
    try {
        p = nlohmann::json::parse(params_json ? params_json : "{}");
    } catch (const nlohmann::json::exception& e) {
        throw PluginError(SPOTFLOW_ERR_INVALID_ARGUMENT, std::string("params are not JSON: ") + e.what());
    }
    const auto it = p.is_object() ? p.find("max_detections_per_frame") : p.end();
    if (it == p.end()) return 0;
    if (!it->is_number_integer() || it->get<int64_t>() < 0)
        throw PluginError(SPOTFLOW_ERR_INVALID_ARGUMENT, "param 'max_detections_per_frame' must be a whole number >= 0");
    return it->get<int64_t>();
}

int64_t whole_stream_frame_limit(int64_t total_frames, double bytes_per_detection) {
    const double phys = static_cast<double>(::sysconf(_SC_PHYS_PAGES)) * static_cast<double>(::sysconf(_SC_PAGESIZE));
    const double budget = phys / 4;
    // Every pair of two full frames a candidate (a flood inside the search radius).
    double limit = std::sqrt(budget / 32);
    if (total_frames > 0) limit = std::min(limit, budget / (static_cast<double>(total_frames) * bytes_per_detection));
    return std::max<int64_t>(1, static_cast<int64_t>(limit));
}

} // namespace spotflow::tables
