#include "spotflow_lap/assignment.hpp"

#include <gtest/gtest.h>

#include <chrono>
#include <cmath>
#include <cstdio>
#include <limits>
#include <random>
#include <set>
#include <stdexcept>

namespace lap = spotflow::lap;

namespace {

struct Problem {
    int32_t n = 0, m = 0;
    std::vector<lap::Candidate> candidates;
    std::vector<double> row_unassigned, col_unassigned;
};

double pair_cost(const Problem& p, int32_t i, int32_t j) {
    double best = std::numeric_limits<double>::infinity();
    for (const auto& c : p.candidates)
        if (c.row == i && c.col == j) best = std::min(best, c.cost);
    return best;
}

// Every one-to-one assignment over the candidate pairs, by recursion on rows.
double brute_force(const Problem& p) {
    std::vector<bool> used(static_cast<size_t>(p.m), false);
    double best = std::numeric_limits<double>::infinity();
    auto rec = [&](auto&& self, int32_t i, double acc) -> void {
        if (i == p.n) {
            double total = acc;
            for (int32_t j = 0; j < p.m; ++j)
                if (!used[j]) total += p.col_unassigned[j];
            best = std::min(best, total);
            return;
        }
        self(self, i + 1, acc + p.row_unassigned[i]);
        for (int32_t j = 0; j < p.m; ++j) {
            const double c = pair_cost(p, i, j);
            if (used[j] || !std::isfinite(c)) continue;
            used[j] = true;
            self(self, i + 1, acc + c);
            used[j] = false;
        }
    };
    rec(rec, 0, 0.0);
    return best;
}

// Dense O(N^3) Hungarian method (potentials, Kuhn-Munkres) on the full
// block matrix, forbidden entries as a large finite cost: an independent
// exact reference for problems too big to enumerate.
double dense_hungarian(const Problem& p) {
    const int N = p.n + p.m;
    const double big = 1e7;
    std::vector<std::vector<double>> a(N + 1, std::vector<double>(N + 1, big));
    for (int i = 0; i < p.n; ++i) a[i + 1][p.m + i + 1] = p.row_unassigned[i];
    for (int j = 0; j < p.m; ++j) a[p.n + j + 1][j + 1] = p.col_unassigned[j];
    for (const auto& c : p.candidates) {
        a[c.row + 1][c.col + 1] = std::min(a[c.row + 1][c.col + 1], c.cost);
        a[p.n + c.col + 1][p.m + c.row + 1] = 0.0;
    }
    std::vector<double> u(N + 1, 0), v(N + 1, 0);
    std::vector<int> match(N + 1, 0), way(N + 1, 0);
    for (int i = 1; i <= N; ++i) {
        match[0] = i;
        int j0 = 0;
        std::vector<double> minv(N + 1, std::numeric_limits<double>::infinity());
        std::vector<bool> used(N + 1, false);
        do {
            used[j0] = true;
            const int i0 = match[j0];
            double delta = std::numeric_limits<double>::infinity();
            int j1 = 0;
            for (int j = 1; j <= N; ++j) {
                if (used[j]) continue;
                const double cur = a[i0][j] - u[i0] - v[j];
                if (cur < minv[j]) minv[j] = cur, way[j] = j0;
                if (minv[j] < delta) delta = minv[j], j1 = j;
            }
            for (int j = 0; j <= N; ++j) {
                if (used[j]) u[match[j]] += delta, v[j] -= delta;
                else minv[j] -= delta;
            }
            j0 = j1;
        } while (match[j0] != 0);
        do {
            const int j1 = way[j0];
            match[j0] = match[j1];
            j0 = j1;
        } while (j0);
    }
    double total = 0;
    for (int j = 1; j <= N; ++j) total += a[match[j]][j];
    return total;
}

// One-to-one, only candidate pairs, and total_cost is the objective.
void expect_consistent(const Problem& p, const lap::Assignment& s) {
    ASSERT_EQ(s.row_to_col.size(), static_cast<size_t>(p.n));
    ASSERT_EQ(s.col_to_row.size(), static_cast<size_t>(p.m));
    double total = 0;
    for (int32_t i = 0; i < p.n; ++i) {
        const int32_t j = s.row_to_col[i];
        if (j < 0) {
            total += p.row_unassigned[i];
            continue;
        }
        ASSERT_LT(j, p.m);
        EXPECT_EQ(s.col_to_row[j], i);
        const double c = pair_cost(p, i, j);
        ASSERT_TRUE(std::isfinite(c)) << "forbidden pair (" << i << ", " << j << ") used";
        total += c;
    }
    for (int32_t j = 0; j < p.m; ++j) {
        const int32_t i = s.col_to_row[j];
        if (i < 0) total += p.col_unassigned[j];
        else EXPECT_EQ(s.row_to_col[i], j);
    }
    EXPECT_NEAR(s.total_cost, total, 1e-9 * (1 + std::abs(total)));
}

Problem random_problem(std::mt19937& rng, int32_t n, int32_t m, double density, bool integer_costs,
                       bool allow_negative) {
    Problem p;
    p.n = n;
    p.m = m;
    std::uniform_real_distribution<double> u01(0, 1);
    auto draw = [&](double scale) {
        double c = integer_costs ? std::floor(u01(rng) * 4) : u01(rng) * scale;
        if (allow_negative) c -= integer_costs ? 2 : scale / 2;
        return c;
    };
    for (int32_t i = 0; i < n; ++i) p.row_unassigned.push_back(draw(1.5));
    for (int32_t j = 0; j < m; ++j) p.col_unassigned.push_back(draw(1.5));
    for (int32_t i = 0; i < n; ++i)
        for (int32_t j = 0; j < m; ++j)
            if (u01(rng) < density) p.candidates.push_back({i, j, draw(2.0)});
    return p;
}

lap::Assignment run(const Problem& p) {
    return lap::solve(p.n, p.m, p.candidates, p.row_unassigned, p.col_unassigned);
}

} // namespace

TEST(Assignment, MatchesBruteForceOnRandomSmallProblems) {
    std::mt19937 rng(7);
    int checked = 0;
    for (int trial = 0; trial < 600; ++trial) {
        const int32_t n = static_cast<int32_t>(rng() % 6), m = static_cast<int32_t>(rng() % 6);
        const double density = (trial % 4 + 1) * 0.25;
        const Problem p = random_problem(rng, n, m, density, trial % 3 == 0, trial % 5 == 0);
        const lap::Assignment s = run(p);
        expect_consistent(p, s);
        EXPECT_NEAR(s.total_cost, brute_force(p), 1e-9) << "trial " << trial << " (" << n << " x " << m << ")";
        ++checked;
    }
    EXPECT_EQ(checked, 600);
}

TEST(Assignment, MatchesDenseHungarianOnMediumProblems) {
    std::mt19937 rng(11);
    for (int trial = 0; trial < 20; ++trial) {
        const Problem p = random_problem(rng, 30 + trial, 45 - trial, 0.15, trial % 2 == 0, trial % 3 == 0);
        const lap::Assignment s = run(p);
        expect_consistent(p, s);
        EXPECT_NEAR(s.total_cost, dense_hungarian(p), 1e-7) << "trial " << trial;
    }
}

TEST(Assignment, ForbiddenPairsAreNeverUsed) {
    // The cheap diagonal is not offered; only the expensive anti-diagonal is.
    Problem p;
    p.n = p.m = 2;
    p.candidates = {{0, 1, 3.0}, {1, 0, 3.0}};
    p.row_unassigned = {10, 10};
    p.col_unassigned = {10, 10};
    const auto s = run(p);
    EXPECT_EQ(s.row_to_col, (std::vector<int32_t>{1, 0}));
    EXPECT_DOUBLE_EQ(s.total_cost, 6.0);
}

TEST(Assignment, OptimalNotGreedy) {
    // Greedy takes (0,0) at 1 and leaves row 1 with nothing: 1 + 10 + 10.
    // Optimal: (0,1) + (1,0) = 2 + 2.
    Problem p;
    p.n = p.m = 2;
    p.candidates = {{0, 0, 1.0}, {0, 1, 2.0}, {1, 0, 2.0}};
    p.row_unassigned = {10, 10};
    p.col_unassigned = {10, 10};
    const auto s = run(p);
    EXPECT_EQ(s.row_to_col, (std::vector<int32_t>{1, 0}));
    EXPECT_DOUBLE_EQ(s.total_cost, 4.0);
}

TEST(Assignment, RectangularMoreColumnsAndMoreRows) {
    Problem wide;
    wide.n = 1;
    wide.m = 3;
    wide.candidates = {{0, 0, 5.0}, {0, 1, 1.0}, {0, 2, 3.0}};
    wide.row_unassigned = {100};
    wide.col_unassigned = {0.5, 0.5, 0.5};
    auto s = run(wide);
    EXPECT_EQ(s.row_to_col, (std::vector<int32_t>{1}));
    EXPECT_EQ(s.col_to_row, (std::vector<int32_t>{-1, 0, -1}));
    EXPECT_DOUBLE_EQ(s.total_cost, 2.0);

    Problem tall;
    tall.n = 3;
    tall.m = 1;
    tall.candidates = {{0, 0, 4.0}, {1, 0, 2.0}, {2, 0, 3.0}};
    tall.row_unassigned = {1, 1, 1};
    tall.col_unassigned = {7};
    s = run(tall);
    EXPECT_EQ(s.row_to_col, (std::vector<int32_t>{-1, 0, -1}));
    EXPECT_DOUBLE_EQ(s.total_cost, 4.0);
}

TEST(Assignment, AllUnassignedWhenLeavingIsCheaper) {
    // Every pair costs more than leaving both of its ends unassigned.
    Problem p;
    p.n = 3;
    p.m = 2;
    for (int32_t i = 0; i < 3; ++i)
        for (int32_t j = 0; j < 2; ++j) p.candidates.push_back({i, j, 2.5});
    p.row_unassigned = {1, 1, 1};
    p.col_unassigned = {1, 1};
    const auto s = run(p);
    EXPECT_EQ(s.row_to_col, (std::vector<int32_t>{-1, -1, -1}));
    EXPECT_EQ(s.col_to_row, (std::vector<int32_t>{-1, -1}));
    EXPECT_DOUBLE_EQ(s.total_cost, 5.0);
}

TEST(Assignment, TiesGiveAnOptimalValidAssignment) {
    Problem p;
    p.n = p.m = 3;
    for (int32_t i = 0; i < 3; ++i)
        for (int32_t j = 0; j < 3; ++j) p.candidates.push_back({i, j, 1.0});
    p.row_unassigned = {1, 1, 1};
    p.col_unassigned = {1, 1, 1};
    const auto s = run(p);
    expect_consistent(p, s);
    EXPECT_DOUBLE_EQ(s.total_cost, 3.0);
    std::set<int32_t> cols(s.row_to_col.begin(), s.row_to_col.end());
    // Assigning (cost 1 per pair) and leaving a row and a column (1 + 1)
    // tie only when nothing is left: every row is assigned.
    EXPECT_EQ(cols, (std::set<int32_t>{0, 1, 2}));
}

TEST(Assignment, DuplicatePairsCountWithTheirCheapestCost) {
    Problem p;
    p.n = p.m = 1;
    p.candidates = {{0, 0, 5.0}, {0, 0, 2.0}, {0, 0, 4.0}};
    p.row_unassigned = {3};
    p.col_unassigned = {3};
    const auto s = run(p);
    EXPECT_EQ(s.row_to_col, (std::vector<int32_t>{0}));
    EXPECT_DOUBLE_EQ(s.total_cost, 2.0);
}

TEST(Assignment, NegativeCostsAreAllowed) {
    Problem p;
    p.n = p.m = 2;
    p.candidates = {{0, 0, -3.0}, {0, 1, -1.0}, {1, 1, -0.5}};
    p.row_unassigned = {0, -1};
    p.col_unassigned = {0, 0};
    const auto s = run(p);
    EXPECT_DOUBLE_EQ(s.total_cost, brute_force(p));
    EXPECT_DOUBLE_EQ(s.total_cost, -4.0); // (0,0) and row 1 unassigned
}

TEST(Assignment, EmptyProblems) {
    auto s = lap::solve(0, 0, {}, {}, {});
    EXPECT_TRUE(s.row_to_col.empty());
    EXPECT_DOUBLE_EQ(s.total_cost, 0.0);
    s = lap::solve(2, 0, {}, {1.5, 2.0}, {});
    EXPECT_EQ(s.row_to_col, (std::vector<int32_t>{-1, -1}));
    EXPECT_DOUBLE_EQ(s.total_cost, 3.5);
    s = lap::solve(0, 1, {}, {}, {4.0});
    EXPECT_EQ(s.col_to_row, (std::vector<int32_t>{-1}));
    EXPECT_DOUBLE_EQ(s.total_cost, 4.0);
}

TEST(Assignment, RejectsBadInput) {
    const double nan = std::nan("");
    const double inf = std::numeric_limits<double>::infinity();
    EXPECT_THROW(lap::solve(-1, 1, {}, {}, {1}), std::invalid_argument);
    EXPECT_THROW(lap::solve(1, 1, {{1, 0, 1}}, {1}, {1}), std::invalid_argument);
    EXPECT_THROW(lap::solve(1, 1, {{0, -1, 1}}, {1}, {1}), std::invalid_argument);
    EXPECT_THROW(lap::solve(1, 1, {{0, 0, nan}}, {1}, {1}), std::invalid_argument);
    EXPECT_THROW(lap::solve(1, 1, {{0, 0, inf}}, {1}, {1}), std::invalid_argument);
    EXPECT_THROW(lap::solve(1, 1, {}, {nan}, {1}), std::invalid_argument);
    EXPECT_THROW(lap::solve(1, 1, {}, {1}, {inf}), std::invalid_argument);
    EXPECT_THROW(lap::solve(2, 1, {}, {1}, {1}), std::invalid_argument);
    EXPECT_THROW(lap::solve(1, 2, {}, {1}, {1}), std::invalid_argument);
    try {
        lap::solve(1, 1, {{0, 3, 1}}, {1}, {1});
        FAIL();
    } catch (const std::invalid_argument& e) {
        EXPECT_NE(std::string(e.what()).find("(0, 3)"), std::string::npos) << e.what();
    }
}

// Timing only (printed, not asserted): frame-to-frame linking sized problems.
TEST(Assignment, Sparse10kBy10kTiming) {
    const int32_t n = 10000;
    std::mt19937 rng(3);
    std::uniform_real_distribution<double> u01(0, 1);
    for (const bool local : {true, false}) {
        Problem p;
        p.n = p.m = n;
        for (int32_t i = 0; i < n; ++i) {
            for (int k = 0; k < 10; ++k) {
                const int32_t j = local ? std::clamp<int32_t>(i + static_cast<int32_t>(rng() % 41) - 20, 0, n - 1)
                                        : static_cast<int32_t>(rng() % n);
                p.candidates.push_back({i, j, u01(rng) * 4});
            }
        }
        p.row_unassigned.assign(n, 2.5);
        p.col_unassigned.assign(n, 2.5);
        const auto t0 = std::chrono::steady_clock::now();
        const auto s = run(p);
        const double ms = std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - t0).count();
        int assigned = 0;
        for (int32_t c : s.row_to_col) assigned += c >= 0;
        std::printf("[ timing ] 10000 x 10000, 10 %s candidates per row: %.1f ms, %d assigned, cost %.2f\n",
                    local ? "nearby" : "random", ms, assigned, s.total_cost);
        EXPECT_GT(assigned, 0);
    }
}
