// u-track and TrackMate pose this problem as a perfect matching on the
// (n+m) x (n+m) block matrix of Jaqaman et al. 2008 (Nat. Methods 5:695,
// supplementary note 3): real rows x real columns hold the pair costs, each
// row and each column has a dummy partner at its unassigned cost, and the
// dummy-dummy block (the transposed candidate pattern at cost 0) completes
// the matching. That problem has the same optimum as a smaller one solved
// here: since
//   cost(M) = sum_j col_unassigned[j] + sum_{(i,j) in M} (c_ij - col_unassigned[j])
//                                     + sum_{i unassigned} row_unassigned[i],
// it is enough that every row picks, one-to-one, either a candidate column at
// c_ij - col_unassigned[j] or its own private "unassigned" column at
// row_unassigned[i]: an n x (m + n) problem where all rows are matched and
// columns may stay free. Successive shortest augmenting paths (Dijkstra with
// column potentials, Jonker & Volgenant 1987 without their initialisation
// heuristics) solve it exactly: only matched columns ever get a non-zero
// potential, and a matched column never becomes free, so the duals of free
// columns stay 0 as complementary slackness requires. The graph is CSR and
// every search costs what it explores, never n * m.
#include "spotflow_lap/assignment.hpp"

#include <algorithm>
#include <cmath>
#include <functional>
#include <limits>
#include <stdexcept>
#include <string>
#include <utility>

namespace spotflow::lap {
namespace {

// Sparse square cost matrix, rows in CSR order.
struct Csr {
    std::vector<int64_t> start; // size rows + 1
    std::vector<int32_t> col;
    std::vector<double> cost;
};

void check_input(int32_t n_rows, int32_t n_cols, const std::vector<Candidate>& candidates,
                 const std::vector<double>& row_unassigned, const std::vector<double>& col_unassigned) {
    if (n_rows < 0 || n_cols < 0)
        throw std::invalid_argument("lap::solve: negative problem size " + std::to_string(n_rows) + " x " +
                                    std::to_string(n_cols));
    if (static_cast<int64_t>(n_rows) + n_cols > std::numeric_limits<int32_t>::max())
        throw std::invalid_argument("lap::solve: n_rows + n_cols exceeds 2^31 - 1");
    if (row_unassigned.size() != static_cast<size_t>(n_rows))
        throw std::invalid_argument("lap::solve: row_unassigned has " + std::to_string(row_unassigned.size()) +
                                    " values for " + std::to_string(n_rows) + " rows");
    if (col_unassigned.size() != static_cast<size_t>(n_cols))
        throw std::invalid_argument("lap::solve: col_unassigned has " + std::to_string(col_unassigned.size()) +
                                    " values for " + std::to_string(n_cols) + " columns");
    for (size_t i = 0; i < row_unassigned.size(); ++i)
        if (!std::isfinite(row_unassigned[i]))
            throw std::invalid_argument("lap::solve: row_unassigned[" + std::to_string(i) + "] is not finite");
    for (size_t j = 0; j < col_unassigned.size(); ++j)
        if (!std::isfinite(col_unassigned[j]))
            throw std::invalid_argument("lap::solve: col_unassigned[" + std::to_string(j) + "] is not finite");
    for (size_t k = 0; k < candidates.size(); ++k) {
        const Candidate& c = candidates[k];
        if (c.row < 0 || c.row >= n_rows || c.col < 0 || c.col >= n_cols)
            throw std::invalid_argument("lap::solve: candidate " + std::to_string(k) + " (" + std::to_string(c.row) +
                                        ", " + std::to_string(c.col) + ") is outside the " +
                                        std::to_string(n_rows) + " x " + std::to_string(n_cols) + " problem");
        if (!std::isfinite(c.cost))
            throw std::invalid_argument("lap::solve: candidate " + std::to_string(k) + " (" + std::to_string(c.row) +
                                        ", " + std::to_string(c.col) + ") has a non-finite cost");
    }
}

// Candidates grouped by row, sorted by column, duplicates reduced to their
// cheapest cost.
Csr real_pairs(int32_t n_rows, const std::vector<Candidate>& candidates) {
    Csr p;
    p.start.assign(static_cast<size_t>(n_rows) + 1, 0);
    for (const Candidate& c : candidates) ++p.start[static_cast<size_t>(c.row) + 1];
    for (int32_t i = 0; i < n_rows; ++i) p.start[i + 1] += p.start[i];
    std::vector<std::pair<int32_t, double>> entries(candidates.size());
    std::vector<int64_t> fill(p.start.begin(), p.start.end() - 1);
    for (const Candidate& c : candidates) entries[static_cast<size_t>(fill[c.row]++)] = {c.col, c.cost};

    p.col.reserve(candidates.size());
    p.cost.reserve(candidates.size());
    int64_t out = 0;
    for (int32_t i = 0; i < n_rows; ++i) {
        const auto b = entries.begin() + p.start[i];
        const auto e = entries.begin() + p.start[i + 1];
        std::sort(b, e);
        p.start[i] = out;
        for (auto it = b; it != e; ++it) {
            if (it != b && it->first == (it - 1)->first) continue; // sorted: the first of a run is the cheapest
            p.col.push_back(it->first);
            p.cost.push_back(it->second);
            ++out;
        }
    }
    p.start[static_cast<size_t>(n_rows)] = out;
    return p;
}

// Row i's entries: its candidates at c_ij - col_unassigned[j], then its
// private unassigned column m + i at row_unassigned[i].
Csr with_private_columns(int32_t n, int32_t m, const Csr& real, const std::vector<double>& row_unassigned,
                         const std::vector<double>& col_unassigned) {
    Csr a;
    a.start.resize(static_cast<size_t>(n) + 1);
    a.col.reserve(real.col.size() + static_cast<size_t>(n));
    a.cost.reserve(a.col.capacity());
    for (int32_t i = 0; i < n; ++i) {
        a.start[i] = static_cast<int64_t>(a.col.size());
        for (int64_t k = real.start[i]; k < real.start[i + 1]; ++k) {
            a.col.push_back(real.col[k]);
            a.cost.push_back(real.cost[k] - col_unassigned[real.col[k]]);
        }
        a.col.push_back(m + i);
        a.cost.push_back(row_unassigned[i]);
    }
    a.start.back() = static_cast<int64_t>(a.col.size());
    return a;
}

// Minimum-cost matching of every row of a sparse rows x cols matrix
// (rows <= cols, each row able to reach a free column). Returns row -> column.
std::vector<int32_t> shortest_augmenting_paths(const Csr& a, int32_t rows, int32_t cols) {
    const size_t R = static_cast<size_t>(rows), C = static_cast<size_t>(cols);
    std::vector<double> v(C, 0.0);            // column potentials
    std::vector<int32_t> row_col(R, -1);      // row -> column
    std::vector<int32_t> col_row(C, -1);      // column -> row
    std::vector<double> matched_cost(R, 0.0); // cost of each row's matched entry
    std::vector<double> dist(C);
    std::vector<int32_t> pred(C);
    std::vector<double> pred_cost(C);
    // Epoch stamps avoid clearing per-column state between searches, so one
    // search costs what it explores.
    std::vector<uint32_t> labelled(C, 0), settled(C, 0);
    std::vector<int32_t> scanned;
    using Item = std::pair<double, int32_t>;
    std::vector<Item> heap;
    const auto later = std::greater<Item>();
    uint32_t epoch = 0;

    for (int32_t free_row = 0; free_row < rows; ++free_row) {
        ++epoch;
        heap.clear();
        scanned.clear();
        // Relax the entries of `row` from a node at distance `base` (the
        // free row's own potential is implicit: it starts every path).
        auto relax_row = [&](int32_t row, double base, double row_potential) {
            for (int64_t k = a.start[row]; k < a.start[row + 1]; ++k) {
                const int32_t c = a.col[static_cast<size_t>(k)];
                if (settled[c] == epoch) continue;
                const double nd = base + a.cost[static_cast<size_t>(k)] - row_potential - v[c];
                if (labelled[c] != epoch || nd < dist[c]) {
                    labelled[c] = epoch;
                    dist[c] = nd;
                    pred[c] = row;
                    pred_cost[c] = a.cost[static_cast<size_t>(k)];
                    heap.emplace_back(nd, c);
                    std::push_heap(heap.begin(), heap.end(), later);
                }
            }
        };
        relax_row(free_row, 0.0, 0.0);

        int32_t end_col = -1;
        while (!heap.empty()) {
            std::pop_heap(heap.begin(), heap.end(), later);
            const auto [d, c] = heap.back();
            heap.pop_back();
            if (settled[c] == epoch || d > dist[c]) continue; // stale entry
            settled[c] = epoch;
            if (col_row[c] < 0) {
                end_col = c;
                break;
            }
            scanned.push_back(c);
            const int32_t r = col_row[c];
            relax_row(r, d, matched_cost[r] - v[c]);
        }
        if (end_col < 0) throw std::logic_error("lap::solve: row " + std::to_string(free_row) + " reaches no free column");

        // Keep reduced costs non-negative and make the path's entries tight.
        const double reach = dist[end_col];
        for (int32_t c : scanned) v[c] += dist[c] - reach;

        for (int32_t c = end_col;;) {
            const int32_t r = pred[c];
            const int32_t previous = row_col[r];
            col_row[c] = r;
            row_col[r] = c;
            matched_cost[r] = pred_cost[c];
            if (r == free_row) break;
            c = previous;
        }
    }
    return row_col;
}

} // namespace

Assignment solve(int32_t n_rows, int32_t n_cols, const std::vector<Candidate>& candidates,
                 const std::vector<double>& row_unassigned, const std::vector<double>& col_unassigned) {
    check_input(n_rows, n_cols, candidates, row_unassigned, col_unassigned);
    const Csr real = real_pairs(n_rows, candidates);
    const Csr reduced = with_private_columns(n_rows, n_cols, real, row_unassigned, col_unassigned);
    const std::vector<int32_t> matched = shortest_augmenting_paths(reduced, n_rows, n_rows + n_cols);

    Assignment out;
    out.row_to_col.assign(static_cast<size_t>(n_rows), -1);
    out.col_to_row.assign(static_cast<size_t>(n_cols), -1);
    for (int32_t i = 0; i < n_rows; ++i) {
        const int32_t c = matched[i];
        if (c < n_cols) {
            out.row_to_col[i] = c;
            out.col_to_row[c] = i;
        }
    }
    // Recomputed from the inputs rather than from the reduced costs, so the
    // reported total is exactly the objective as documented.
    for (int32_t i = 0; i < n_rows; ++i) {
        const int32_t c = out.row_to_col[i];
        if (c < 0) {
            out.total_cost += row_unassigned[i];
            continue;
        }
        const auto b = real.col.begin() + real.start[i];
        const auto e = real.col.begin() + real.start[i + 1];
        out.total_cost += real.cost[static_cast<size_t>(std::lower_bound(b, e, c) - real.col.begin())];
    }
    for (int32_t j = 0; j < n_cols; ++j)
        if (out.col_to_row[j] < 0) out.total_cost += col_unassigned[j];
    return out;
}

} // namespace spotflow::lap
