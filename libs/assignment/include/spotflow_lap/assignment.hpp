// spotflow_lap/assignment.hpp: exact minimum-cost one-to-one assignment on a
// sparse rectangular problem where leaving a row or a column unassigned has
// its own cost (the linear assignment problem as u-track and TrackMate pose
// it for linking, gap closing and detection matching).
#pragma once

#include <cstdint>
#include <vector>

namespace spotflow::lap {

// An allowed pair; pairs not listed are forbidden.
struct Candidate {
    int32_t row;
    int32_t col;
    double cost;
};

struct Assignment {
    std::vector<int32_t> row_to_col; // -1 = row left unassigned
    std::vector<int32_t> col_to_row; // -1 = column left unassigned
    double total_cost = 0;           // sum of chosen pair costs + unassigned costs
};

// Minimises
//   sum_{assigned (i,j)} cost_ij + sum_{unassigned rows i} row_unassigned[i]
//                                + sum_{unassigned cols j} col_unassigned[j]
// over one-to-one assignments that use only candidate pairs. The optimum is
// exact (up to floating-point rounding of sums).
//
// Allowed input: n_rows, n_cols >= 0 with n_rows + n_cols < 2^31; every cost
// (pair and unassigned) finite, of any sign; row_unassigned.size() == n_rows,
// col_unassigned.size() == n_cols; candidate indices in range. A pair listed
// more than once counts with its smallest cost. Anything else throws
// std::invalid_argument naming the offending value.
//
// Work grows with the number of candidates (shortest augmenting paths with a
// binary heap on a sparse structure), not with n_rows * n_cols.
Assignment solve(int32_t n_rows, int32_t n_cols, const std::vector<Candidate>& candidates,
                 const std::vector<double>& row_unassigned, const std::vector<double>& col_unassigned);

} // namespace spotflow::lap
