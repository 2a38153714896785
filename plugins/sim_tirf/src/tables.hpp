// The simulator's tables, as Arrow batches for sim.tirf's ports and as CSV
// text for sim.dataset's files (the same batches through libs/csv: same
// columns, same order, write.csv's formatting).
//   truth:  frame, x, y, photons, track_id
//   events: track_id, onset_frame, peak_frame, amplitude_dff, decay_frames
#pragma once

#include <string>
#include <vector>

#include "spotflow_sim/simulator.hpp"
#include "spotflow/arrow_c.h"

namespace sim {

void truth_table(const std::vector<TruthRow>& rows, ArrowSchema* schema, ArrowArray* array);
void events_table(const std::vector<CalciumEvent>& events, ArrowSchema* schema, ArrowArray* array);

std::string truth_csv_header();
void append_truth_csv(std::string& out, const std::vector<TruthRow>& rows);
std::string events_csv(const std::vector<CalciumEvent>& events);

} // namespace sim
