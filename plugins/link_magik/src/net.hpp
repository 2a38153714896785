// The MAGIK network behind a LibTorch-free interface: net.cpp is the only
// file of the plugin that includes LibTorch (its headers cost ~25 s per
// translation unit), and nothing LibTorch crosses this header.
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <stdexcept>
#include <string>
#include <vector>

#include "graph.hpp"

namespace magik {

struct Architecture {
    int hidden = 64; // width of node and edge states (seed 000: hidden_dim 64)
    int layers = 3;  // message-passing layers (seed 000: num_layers 3)
};

// Several window graphs concatenated into one disjoint graph (a batch).
struct Batch {
    int64_t nodes = 0;
    std::vector<float> node_feat;
    std::vector<int64_t> src, dst;
    std::vector<float> edge_feat;
    void add(const Graph& g);
    int64_t edges() const { return static_cast<int64_t>(src.size()); }
};

// The loss on raw logits: fills grad (may be null) with dloss/dlogit and
// returns the loss. The trainer binds it to a loss plugin through the loss
// ABI (DLPack tensors), so the network never computes its own loss.
using LossFn = std::function<double(const float* logits, const float* labels, int64_t n, float* grad)>;

// Thrown for a weights file that cannot be used; the message is one line
// naming the file and the cause.
struct WeightsError : std::runtime_error {
    using std::runtime_error::runtime_error;
};

class Net {
public:
    Net(const Architecture& a, const FeatureScales& s, uint64_t seed);
    ~Net();
    Net(const Net&) = delete;
    Net& operator=(const Net&) = delete;

    // Reads a weights file written by save(). `expect`, when given, is the
    // architecture the caller was configured for; another one in the file
    // is an error.
    static std::unique_ptr<Net> load(const std::string& path, const Architecture* expect = nullptr);
    // Writes atomically enough for a plugin: the host renames outputs into
    // place only after a successful run. `extra` is JSON text merged into
    // the file's header (the training provenance).
    void save(const std::string& path, const std::string& extra_json = "{}") const;

    const Architecture& architecture() const { return arch_; }
    const FeatureScales& scales() const { return scales_; }
    int64_t parameter_count() const;

    // Link probabilities, one per edge of the batch (no gradient).
    std::vector<float> predict(const Batch& b) const;

    // Training: Adam with decoupled-from-nothing L2 weight decay as
    // torch.optim.Adam(weight_decay=...) applies it.
    void set_optimizer(double learning_rate, double weight_decay);
    // One step on a batch; returns the loss.
    double train_step(const Batch& b, const std::vector<float>& labels, const LossFn& loss);

    // LibTorch's intra-op threads (global to the process), from the host's
    // threads service.
    static void set_threads(int threads);

private:
    struct Impl;
    Architecture arch_;
    FeatureScales scales_;
    std::unique_ptr<Impl> impl_;
};

} // namespace magik
