// loss.decode_gmm: DECODE's GaussianMMLoss (Speiser et al. 2021,
// decode/neuralfitter/loss.py) on the loss ABI, written out by hand with its
// gradient, in double precision. See README.md for the tensors and formulas.
#include <algorithm>
#include <cmath>
#include <exception>
#include <stdexcept>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "spotflow/loss.hpp"
#include "spotflow/entry.hpp"
#include "spotflow/tensor.hpp"
#include "schema.json.hpp"

namespace {

constexpr int64_t kChannels = 8; // p, photons, dx, dy, sigma_photons, sigma_x, sigma_y, background
constexpr double kLog2Pi = 1.8378770664093453;

struct Gmm {
    double count_weight, empty_count_weight, localisation_weight, background_weight, variance_floor;
};

void check_float(const DLTensor& t, const std::string& name, int ndim) {
    using namespace spotflow;
    if (!same_dtype(t.dtype, dl_dtype<float>())) throw std::invalid_argument(name + " is " + dtype_name(t.dtype) + ", expected float32");
    if (t.device.device_type != kDLCPU) throw std::invalid_argument(name + " is not on the CPU");
    if (!is_compact(t)) throw std::invalid_argument(name + " is not compact row-major");
    if (t.ndim != ndim) throw std::invalid_argument(name + " has shape " + spotflow::shape_name(t) + ", expected " + std::to_string(ndim) + " dimensions");
}

// The terms of the last compute, each a mean over the batch like the loss
// (their sum): count, localisation, background.
struct Terms {
    double count = 0, localisation = 0, background = 0;
};

double compute(const Gmm& g, const spotflow_loss_io& io, Terms& terms) {
    if (io.n_predictions != 1 || (io.n_targets != 1 && io.n_targets != 2))
        throw std::invalid_argument("expected one prediction and one or two target tensors, got " +
                                    std::to_string(io.n_predictions) + " and " + std::to_string(io.n_targets));
    if (io.mask) throw std::invalid_argument("loss.decode_gmm takes no mask (weight emitters in targets[0] instead)");
    const DLTensor& pred = *io.predictions[0];
    check_float(pred, "predictions[0]", 4);
    const int64_t B = pred.shape[0], C = pred.shape[1], H = pred.shape[2], W = pred.shape[3];
    if (C != kChannels) throw std::invalid_argument("predictions[0] has shape " + spotflow::shape_name(pred) + ", expected B x 8 x H x W");
    const DLTensor& em = *io.targets[0];
    check_float(em, "targets[0]", 3);
    if (em.shape[0] != B || em.shape[2] != 4)
        throw std::invalid_argument("targets[0] has shape " + spotflow::shape_name(em) + ", expected " + std::to_string(B) + " x M x 4");
    const int64_t M = em.shape[1];
    const DLTensor* bg = io.n_targets == 2 ? io.targets[1] : nullptr;
    if (bg) {
        check_float(*bg, "targets[1]", 4);
        if (bg->shape[0] != B || bg->shape[1] != 1 || bg->shape[2] != H || bg->shape[3] != W)
            throw std::invalid_argument("targets[1] has shape " + spotflow::shape_name(*bg) + ", expected " + std::to_string(B) +
                                        " x 1 x " + std::to_string(H) + " x " + std::to_string(W));
    }
    DLTensor* const gt = io.gradients ? io.gradients[0] : nullptr;
    if (gt) {
        check_float(*gt, "gradients[0]", 4);
        if (!std::equal(gt->shape, gt->shape + 4, pred.shape))
            throw std::invalid_argument("gradients[0] has shape " + spotflow::shape_name(*gt) + ", predictions[0] " + spotflow::shape_name(pred));
    }
    const float* P = spotflow::TensorView<float>(pred).data();
    const float* E = spotflow::TensorView<float>(em).data();
    const float* BG = bg ? spotflow::TensorView<float>(*bg).data() : nullptr;
    float* G = gt ? spotflow::TensorView<float>(*gt).mutable_data() : nullptr;
    if (G) std::fill(G, G + B * C * H * W, 0.0f);

    const int64_t K = H * W;
    const double inv_b = 1.0 / static_cast<double>(B);
    double total = 0;
    Terms parts;
    std::vector<double> gp(static_cast<size_t>(K)), lg(static_cast<size_t>(K));
    std::vector<double> gmu(static_cast<size_t>(3 * K)), gsig(static_cast<size_t>(3 * K));
    for (int64_t b = 0; b < B; ++b) {
        const float* pb = P + b * C * K;
        const auto ch = [&](int64_t c, int64_t k) { return static_cast<double>(pb[c * K + k]); };
        std::fill(gp.begin(), gp.end(), 0.0);
        std::fill(gmu.begin(), gmu.end(), 0.0);
        std::fill(gsig.begin(), gsig.end(), 0.0);
        double S = 0, V = 0;
        for (int64_t k = 0; k < K; ++k) {
            const double p = ch(0, k);
            if (!(p > 0 && p <= 1))
                throw std::invalid_argument("predictions[0] probability at batch " + std::to_string(b) + " pixel " +
                                            std::to_string(k) + " is " + std::to_string(p) + ", outside (0, 1]");
            S += p;
            V += p * (1 - p);
        }
        V += g.variance_floor;
        int64_t n_em = 0;
        for (int64_t m = 0; m < M; ++m) n_em += E[(b * M + m) * 4 + 3] != 0;
        const double n = static_cast<double>(n_em);

        // Count: -log N(n; S, V), weighted by n (DECODE), or by
        // empty_count_weight for a frame without emitters, which DECODE
        // leaves without any loss on p.
        const double wc = g.count_weight * (n_em > 0 ? n : g.empty_count_weight);
        const double d = n - S;
        double loss = wc * (0.5 * (kLog2Pi + std::log(V)) + d * d / (2 * V));
        parts.count += loss;
        const double dl_ds = wc * (-d / V);
        const double dl_dv = wc * (0.5 / V - d * d / (2 * V * V));
        for (int64_t k = 0; k < K; ++k) gp[static_cast<size_t>(k)] += dl_ds + dl_dv * (1 - 2 * ch(0, k));

        // Localisation: each emitter's negative log-likelihood under the
        // mixture over pixels, weights p_k / S, components independent
        // Gaussians over (photons, x, y) at (photons_k, col + dx_k, row + dy_k).
        const double wl = g.localisation_weight;
        for (int64_t m = 0; m < M; ++m) {
            const float* e = E + (b * M + m) * 4;
            if (e[3] == 0) continue;
            const double we = wl * e[3];
            const double ux = e[0], uy = e[1], un = e[2];
            double mx = -INFINITY;
            for (int64_t k = 0; k < K; ++k) {
                const double mu[3] = {ch(1, k), static_cast<double>(k % W) + ch(2, k), static_cast<double>(k / W) + ch(3, k)};
                const double u[3] = {un, ux, uy};
                double s = 0;
                for (int j = 0; j < 3; ++j) {
                    const double sg = ch(4 + j, k), z = (u[j] - mu[j]) / sg;
                    s += -0.5 * kLog2Pi - std::log(sg) - 0.5 * z * z;
                }
                lg[static_cast<size_t>(k)] = s;
                mx = std::max(mx, s + std::log(ch(0, k)));
            }
            double sum = 0;
            for (int64_t k = 0; k < K; ++k) sum += ch(0, k) * std::exp(lg[static_cast<size_t>(k)] - mx);
            const double lse = mx + std::log(sum); // log sum_k p_k N_k
            loss += we * (std::log(S) - lse);
            parts.localisation += we * (std::log(S) - lse);
            for (int64_t k = 0; k < K; ++k) {
                const double q = std::exp(lg[static_cast<size_t>(k)] - lse); // r_k / p_k
                const double r = ch(0, k) * q;                               // responsibility
                gp[static_cast<size_t>(k)] += we * (1.0 / S - q);
                if (r < 1e-300) continue;
                const double mu[3] = {ch(1, k), static_cast<double>(k % W) + ch(2, k), static_cast<double>(k / W) + ch(3, k)};
                const double u[3] = {un, ux, uy};
                for (int j = 0; j < 3; ++j) {
                    const double sg = ch(4 + j, k), z = (u[j] - mu[j]) / sg;
                    gmu[static_cast<size_t>(j * K + k)] += we * -r * z / sg;
                    gsig[static_cast<size_t>(j * K + k)] += we * -r * (z * z - 1) / sg;
                }
            }
        }

        // Background: squared error summed over pixels.
        if (BG) {
            const float* tb = BG + b * K;
            for (int64_t k = 0; k < K; ++k) {
                const double r = ch(7, k) - tb[k];
                loss += g.background_weight * r * r;
                parts.background += g.background_weight * r * r;
                if (G) G[b * C * K + 7 * K + k] = static_cast<float>(inv_b * g.background_weight * 2 * r);
            }
        }
        total += loss;
        if (G) {
            float* gb = G + b * C * K;
            for (int64_t k = 0; k < K; ++k) {
                gb[k] = static_cast<float>(inv_b * gp[static_cast<size_t>(k)]);
                for (int j = 0; j < 3; ++j) {
                    gb[(1 + j) * K + k] = static_cast<float>(inv_b * gmu[static_cast<size_t>(j * K + k)]);
                    gb[(4 + j) * K + k] = static_cast<float>(inv_b * gsig[static_cast<size_t>(j * K + k)]);
                }
            }
        }
    }
    terms = {parts.count * inv_b, parts.localisation * inv_b, parts.background * inv_b};
    return total * inv_b;
}

class GmmLoss {
public:
    GmmLoss(const spotflow_host*, const char* params_json) {
        const auto p = nlohmann::json::parse(params_json);
        g_ = {p.value("count_weight", 1.0), p.value("empty_count_weight", 1.0), p.value("localisation_weight", 1.0),
              p.value("background_weight", 1.0), p.value("variance_floor", 1e-3)};
        if (!(g_.count_weight >= 0) || !(g_.empty_count_weight >= 0) || !(g_.localisation_weight >= 0) ||
            !(g_.background_weight >= 0))
            throw std::invalid_argument("params: the weights must be >= 0");
        if (!(g_.variance_floor > 0)) throw std::invalid_argument("param 'variance_floor' must be > 0");
    }
    double compute(const spotflow_loss_io& io) { return ::compute(g_, io, terms_); }
    int32_t component_count() const { return 3; }
    void component(int32_t i, const char** name, double* value) const {
        static const char* const names[] = {"count", "localisation", "background"};
        const double values[] = {terms_.count, terms_.localisation, terms_.background};
        *name = names[i];
        *value = values[i];
    }

private:
    Gmm g_{};
    Terms terms_;
};

const spotflow_loss_vtable vtable = spotflow::loss_vtable<GmmLoss>();

const char* const schema = spotflow_schemas::schema; // schema.json

const spotflow_plugin_desc descriptor = {
    "loss.decode_gmm", "1.0.0",
    "DECODE's loss: count term, Gaussian-mixture likelihood of (photons, x, y), background squared error", "loss",
    nullptr, 0, 0, nullptr, schema, nullptr, &vtable};

} // namespace

SPOTFLOW_EXPORT_PLUGINS(descriptor);
