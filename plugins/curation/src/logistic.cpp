// L2-regularised multinomial logistic regression, fitted by Newton's method
// with a backtracking line search: scikit-learn's LogisticRegression
// objective, C * sum_i log-loss_i + ||W||^2 / 2 (intercepts unpenalised),
// exactly, so the same C gives the same model. For two classes it is the
// binary model (one weight vector, class 1 against class 0).
#include <cmath>
#include <stdexcept>

#include <Eigen/Dense>

#include "ml.hpp"

namespace curation {
namespace {

using Eigen::MatrixXd;
using Eigen::VectorXd;

// Rows x (p + 1): the metrics and a constant 1 for the intercept.
MatrixXd design(const Matrix& x) {
    MatrixXd d(x.rows, x.cols + 1);
    for (size_t r = 0; r < x.rows; ++r) {
        for (size_t c = 0; c < x.cols; ++c) d(r, c) = x.at(r, c);
        d(r, x.cols) = 1;
    }
    return d;
}

// Class scores: the binary model has one column (class 1's logit), the
// multinomial one a column per class.
MatrixXd probabilities(const MatrixXd& d, const MatrixXd& w, int k) {
    const MatrixXd z = d * w;
    MatrixXd p(d.rows(), k);
    for (Eigen::Index r = 0; r < d.rows(); ++r) {
        if (k == 2) {
            p(r, 1) = 1 / (1 + std::exp(-z(r, 0)));
            p(r, 0) = 1 - p(r, 1);
        } else {
            const double m = z.row(r).maxCoeff();
            double s = 0;
            for (int c = 0; c < k; ++c) s += (p(r, c) = std::exp(z(r, c) - m));
            p.row(r) /= s;
        }
    }
    return p;
}

class LogisticModel : public Model {
public:
    LogisticModel(MatrixXd w, int k) : w_(std::move(w)), k_(k) {}
    Matrix predict_proba(const Matrix& x) const override {
        if (static_cast<Eigen::Index>(x.cols) + 1 != w_.rows())
            throw std::invalid_argument("the logistic model's input has the wrong width");
        const MatrixXd p = probabilities(design(x), w_, k_);
        Matrix out(x.rows, static_cast<size_t>(k_));
        for (size_t r = 0; r < x.rows; ++r)
            for (int c = 0; c < k_; ++c) out.at(r, static_cast<size_t>(c)) = p(static_cast<Eigen::Index>(r), c);
        return out;
    }
    nlohmann::json save() const override {
        nlohmann::json coef = nlohmann::json::array(), intercept = nlohmann::json::array();
        for (Eigen::Index c = 0; c < w_.cols(); ++c) {
            std::vector<double> v(static_cast<size_t>(w_.rows() - 1));
            for (Eigen::Index i = 0; i + 1 < w_.rows(); ++i) v[static_cast<size_t>(i)] = w_(i, c);
            coef.push_back(v);
            intercept.push_back(w_(w_.rows() - 1, c));
        }
        return {{"n_classes", k_}, {"coef", coef}, {"intercept", intercept}};
    }

private:
    MatrixXd w_; // (p + 1) x (1 or k)
    int k_;
};

} // namespace

std::unique_ptr<Model> fit_logistic(const nlohmann::json& params, const Matrix& x, const std::vector<int>& y,
                                    int k, uint64_t) {
    const double C = params.at("C").get<double>();
    const int max_iter = params.value("max_iter", 100);
    const MatrixXd d = design(x);
    const Eigen::Index n = d.rows(), q = d.cols(), m = k == 2 ? 1 : k;
    MatrixXd w = MatrixXd::Zero(q, m);
    auto objective = [&](const MatrixXd& w_) {
        const MatrixXd p = probabilities(d, w_, k);
        double loss = 0;
        for (Eigen::Index r = 0; r < n; ++r) loss -= std::log(std::max(p(r, y[static_cast<size_t>(r)]), 1e-300));
        return C * loss + 0.5 * w_.topRows(q - 1).squaredNorm();
    };
    double f = objective(w);
    for (int it = 0; it < max_iter; ++it) {
        const MatrixXd p = probabilities(d, w, k);
        // Gradient and Hessian over the stacked columns of w.
        VectorXd g(q * m);
        MatrixXd h = MatrixXd::Zero(q * m, q * m);
        for (Eigen::Index a = 0; a < m; ++a) {
            const Eigen::Index ca = k == 2 ? 1 : a;
            VectorXd resid(n);
            for (Eigen::Index r = 0; r < n; ++r) resid(r) = p(r, ca) - (y[static_cast<size_t>(r)] == ca ? 1.0 : 0.0);
            g.segment(a * q, q) = C * d.transpose() * resid;
            for (Eigen::Index b = 0; b < m; ++b) {
                const Eigen::Index cb = k == 2 ? 1 : b;
                VectorXd wgt(n);
                for (Eigen::Index r = 0; r < n; ++r) wgt(r) = p(r, ca) * ((ca == cb ? 1.0 : 0.0) - p(r, cb));
                h.block(a * q, b * q, q, q) = C * d.transpose() * wgt.asDiagonal() * d;
            }
        }
        for (Eigen::Index a = 0; a < m; ++a) {
            g.segment(a * q, q - 1) += w.col(a).head(q - 1);
            h.block(a * q, a * q, q - 1, q - 1).diagonal().array() += 1.0;
            h(a * q + q - 1, a * q + q - 1) += 1e-10; // the intercepts' shift along classes is free
        }
        const VectorXd step = h.ldlt().solve(g);
        double t = 1, f_new = f;
        MatrixXd w_new;
        for (int ls = 0; ls < 30; ++ls, t /= 2) {
            w_new = w;
            for (Eigen::Index a = 0; a < m; ++a) w_new.col(a) -= t * step.segment(a * q, q);
            f_new = objective(w_new);
            if (f_new <= f - 1e-4 * t * g.dot(step)) break;
        }
        if (!(f_new < f)) break;
        w = w_new;
        const bool converged = f - f_new <= 1e-10 * std::max(1.0, std::abs(f));
        f = f_new;
        if (converged || g.lpNorm<Eigen::Infinity>() < 1e-8) break;
    }
    return std::make_unique<LogisticModel>(std::move(w), k);
}

std::unique_ptr<Model> load_logistic(const nlohmann::json& saved) {
    const int k = saved.at("n_classes").get<int>();
    const auto coef = saved.at("coef").get<std::vector<std::vector<double>>>();
    const auto intercept = saved.at("intercept").get<std::vector<double>>();
    const size_t m = k == 2 ? 1 : static_cast<size_t>(k);
    if (coef.size() != m || intercept.size() != m) throw std::invalid_argument("the logistic model's coefficients do not match its classes");
    MatrixXd w(static_cast<Eigen::Index>(coef[0].size() + 1), static_cast<Eigen::Index>(m));
    for (size_t c = 0; c < m; ++c) {
        if (coef[c].size() != coef[0].size()) throw std::invalid_argument("the logistic model's coefficients are ragged");
        for (size_t i = 0; i < coef[c].size(); ++i) w(static_cast<Eigen::Index>(i), static_cast<Eigen::Index>(c)) = coef[c][i];
        w(w.rows() - 1, static_cast<Eigen::Index>(c)) = intercept[c];
    }
    return std::make_unique<LogisticModel>(std::move(w), k);
}

} // namespace curation
