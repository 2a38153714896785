// The only translation unit of link.magik that includes LibTorch.
#include "net.hpp"

#include <ATen/Parallel.h>
#include <ATen/ops/mkldnn_linear.h>
#include <torch/autograd.h>
#include <torch/nn/module.h>
#include <torch/nn/modules/linear.h>
#include <torch/nn/modules/normalization.h>
#include <torch/optim/adam.h>
#include <torch/utils.h>

#include <atomic>
#include <cstring>
#include <fstream>
#include <sstream>

#include <nlohmann/json.hpp>

namespace magik {

namespace {

constexpr char kMagic[8] = {'S', 'F', 'M', 'A', 'G', 'I', 'K', '1'};
constexpr char kTrailer[8] = {'S', 'F', 'M', 'A', 'G', 'E', 'N', 'D'};

// y = x W^T (+ b) through oneDNN. Debian's LibTorch sends torch::addmm to
// the reference (netlib) BLAS, about ten times slower than oneDNN's JIT
// GEMM on this CPU; oneDNN is chosen at run time for the CPU at hand.
torch::Tensor dnnl_raw(const torch::Tensor& x, const torch::Tensor& w, const torch::Tensor& b) {
    const auto xm = x.contiguous().to_mkldnn();
    const auto wm = w.contiguous().to_mkldnn();
    return (b.defined() ? at::mkldnn_linear(xm, wm, b.contiguous()) : at::mkldnn_linear(xm, wm)).to_dense();
}

// oneDNN compiles and caches a kernel per matrix shape, and every window
// batch has its own number of nodes and edges: with raw row counts the
// cache (and the process) grew by ~10 MB per batch. Rows therefore go
// through in blocks of kBlock, the last one zero-padded to a multiple of
// kGranule, so a model meets at most kBlock / kGranule + 1 row counts per
// layer and memory stays flat however long the movie.
constexpr int64_t kBlock = 8192, kGranule = 2048;

int64_t padded_rows(int64_t n) { return n == kBlock ? kBlock : (n + kGranule - 1) / kGranule * kGranule; }

// Rows [s, s + n) of x, zero-padded to padded_rows(n).
torch::Tensor row_block(const torch::Tensor& x, int64_t s, int64_t n) {
    const auto xb = x.narrow(0, s, n);
    const int64_t p = padded_rows(n);
    return p == n ? xb.contiguous() : torch::constant_pad_nd(xb, {0, 0, 0, p - n});
}

torch::Tensor dnnl_mm(const torch::Tensor& x, const torch::Tensor& w, const torch::Tensor& b) {
    const int64_t m = x.size(0);
    if (m == 0) return torch::zeros({0, w.size(0)}, x.options());
    std::vector<torch::Tensor> parts;
    for (int64_t s = 0; s < m; s += kBlock) {
        const int64_t n = std::min(kBlock, m - s);
        parts.push_back(dnnl_raw(row_block(x, s, n), w, b).narrow(0, 0, n));
    }
    return parts.size() == 1 ? parts[0].contiguous() : torch::cat(parts);
}

// dy^T x (the weight gradient), summed over the same row blocks, so its
// inner dimension takes the same few sizes.
torch::Tensor dnnl_grad_w(const torch::Tensor& dy, const torch::Tensor& x) {
    auto acc = torch::zeros({dy.size(1), x.size(1)}, x.options());
    for (int64_t s = 0; s < dy.size(0); s += kBlock) {
        const int64_t n = std::min(kBlock, dy.size(0) - s);
        acc += dnnl_raw(row_block(dy, s, n).t(), row_block(x, s, n).t(), {});
    }
    return acc;
}

// The same as torch::nn::functional::linear, differentiable, on oneDNN.
struct DnnlLinear : torch::autograd::Function<DnnlLinear> {
    static torch::Tensor forward(torch::autograd::AutogradContext* ctx, const torch::Tensor& x, const torch::Tensor& w,
                                 const torch::Tensor& b) {
        ctx->save_for_backward({x, w});
        return dnnl_mm(x, w, b);
    }
    static torch::autograd::variable_list backward(torch::autograd::AutogradContext* ctx, torch::autograd::variable_list g) {
        const auto saved = ctx->get_saved_variables();
        const auto dy = g[0].contiguous();
        return {dnnl_mm(dy, saved[1].t(), {}), dnnl_grad_w(dy, saved[0]), dy.sum(0)};
    }
};
struct DnnlLinearNoBias : torch::autograd::Function<DnnlLinearNoBias> {
    static torch::Tensor forward(torch::autograd::AutogradContext* ctx, const torch::Tensor& x, const torch::Tensor& w) {
        ctx->save_for_backward({x, w});
        return dnnl_mm(x, w, {});
    }
    static torch::autograd::variable_list backward(torch::autograd::AutogradContext* ctx, torch::autograd::variable_list g) {
        const auto saved = ctx->get_saved_variables();
        const auto dy = g[0].contiguous();
        return {dnnl_mm(dy, saved[1].t(), {}), dnnl_grad_w(dy, saved[0])};
    }
};

torch::Tensor lin(const torch::nn::Linear& l, const torch::Tensor& x) {
    return l->bias.defined() ? DnnlLinear::apply(x, l->weight, l->bias) : DnnlLinearNoBias::apply(x, l->weight);
}

// One message-passing layer in MAGIK's style (Pineda et al. 2023, FGNN):
// an edge message from both end nodes and the edge, scaled by a learnable
// super-Gaussian of the edge's length, summed at both ends (incoming and
// outgoing kept apart, so a node knows its candidate predecessors from its
// candidate successors), and a gated residual node update. Each message
// also passes an attention gate computed from itself, so a node's sum is
// dominated by its likely links and carries their motion (a directed
// punctum's last step) to the next layer.
struct LayerImpl : torch::nn::Module {
    // The first message layer applied to concat(h_src, h_dst, e) is split
    // into three projections: the node ones run once per node instead of
    // once per edge (the same function, a third of the work on dense graphs).
    torch::nn::Linear from_src{nullptr}, from_dst{nullptr}, from_edge{nullptr}, message{nullptr};
    torch::nn::Linear attention{nullptr}, gate{nullptr}, update{nullptr};
    torch::nn::LayerNorm norm_node{nullptr}, norm_edge{nullptr};
    torch::Tensor sigma, beta;

    explicit LayerImpl(int h) {
        from_src = register_module("from_src", torch::nn::Linear(h, h));
        from_dst = register_module("from_dst", torch::nn::Linear(torch::nn::LinearOptions(h, h).bias(false)));
        from_edge = register_module("from_edge", torch::nn::Linear(torch::nn::LinearOptions(h, h).bias(false)));
        message = register_module("message", torch::nn::Linear(h, h));
        attention = register_module("attention", torch::nn::Linear(h, 1));
        gate = register_module("gate", torch::nn::Linear(3 * h, h));
        update = register_module("update", torch::nn::Linear(3 * h, h));
        norm_node = register_module("norm_node", torch::nn::LayerNorm(torch::nn::LayerNormOptions({h})));
        norm_edge = register_module("norm_edge", torch::nn::LayerNorm(torch::nn::LayerNormOptions({h})));
        // In units of the graph radius; the published layer starts at 0.12
        // of the image with beta 4. Here 0.25 of the radius (7.5 px at the
        // seed's 30 px): messages along the few-pixel true links pass in
        // full, those of far candidates fade.
        sigma = register_parameter("sigma", torch::full({1}, 0.25));
        beta = register_parameter("beta", torch::full({1}, 4.0));
    }

    // h: N x H, e: E x H, d: E x 1 normalised distance.
    std::pair<torch::Tensor, torch::Tensor> forward(const torch::Tensor& h, const torch::Tensor& e, const torch::Tensor& src,
                                                    const torch::Tensor& dst, const torch::Tensor& d) {
        const auto pre = lin(from_src, h).index_select(0, src) + lin(from_dst, h).index_select(0, dst) + lin(from_edge, e);
        const auto m = lin(message, torch::gelu(pre));
        const auto s = sigma.clamp(0.002, 1.0), b = beta.clamp(1.0, 10.0);
        const auto w = torch::exp(-torch::pow(d * d / (2 * s * s), b)) * torch::sigmoid(lin(attention, m));
        const auto wm = m * w;
        const auto in = torch::zeros_like(h).index_add(0, dst, wm);
        const auto out = torch::zeros_like(h).index_add(0, src, wm);
        const auto u = torch::cat({h, in, out}, 1);
        const auto h2 = norm_node(h + torch::sigmoid(lin(gate, u)) * torch::gelu(lin(update, u)));
        const auto e2 = norm_edge(e + m);
        return {h2, e2};
    }
};
TORCH_MODULE(Layer);

// Linear, GELU, LayerNorm, twice: the encoders of the published model.
struct EncoderImpl : torch::nn::Module {
    torch::nn::Linear l1{nullptr}, l2{nullptr};
    torch::nn::LayerNorm n1{nullptr}, n2{nullptr};
    EncoderImpl(int in, int h) {
        l1 = register_module("l1", torch::nn::Linear(in, h));
        n1 = register_module("n1", torch::nn::LayerNorm(torch::nn::LayerNormOptions({h})));
        l2 = register_module("l2", torch::nn::Linear(h, h));
        n2 = register_module("n2", torch::nn::LayerNorm(torch::nn::LayerNormOptions({h})));
    }
    torch::Tensor forward(const torch::Tensor& x) { return n2(torch::gelu(lin(l2, n1(torch::gelu(lin(l1, x)))))); }
};
TORCH_MODULE(Encoder);

struct MagikImpl : torch::nn::Module {
    Encoder node_enc{nullptr}, edge_enc{nullptr};
    std::vector<Layer> layers;
    torch::nn::Linear head_src{nullptr}, head_dst{nullptr}, head_edge{nullptr}, head2{nullptr}, head3{nullptr};

    explicit MagikImpl(const Architecture& a) {
        const int h = a.hidden;
        node_enc = register_module("node_encoder", Encoder(kNodeFeatures, h));
        edge_enc = register_module("edge_encoder", Encoder(kEdgeFeatures, h));
        for (int l = 0; l < a.layers; ++l) layers.push_back(register_module("layer" + std::to_string(l), Layer(h)));
        // Edge head on concat(e, h_src, h_dst): H -> H/2 -> 1 (split as above).
        head_src = register_module("head_src", torch::nn::Linear(h, h));
        head_dst = register_module("head_dst", torch::nn::Linear(torch::nn::LinearOptions(h, h).bias(false)));
        head_edge = register_module("head_edge", torch::nn::Linear(torch::nn::LinearOptions(h, h).bias(false)));
        head2 = register_module("head2", torch::nn::Linear(h, std::max(1, h / 2)));
        head3 = register_module("head3", torch::nn::Linear(std::max(1, h / 2), 1));
    }

    // Logits, one per edge.
    torch::Tensor forward(const torch::Tensor& x, const torch::Tensor& ef, const torch::Tensor& src, const torch::Tensor& dst) {
        const auto d = ef.slice(1, 2, 3);
        auto h = node_enc(x);
        auto e = edge_enc(ef);
        for (auto& layer : layers) std::tie(h, e) = layer->forward(h, e, src, dst, d);
        const auto z = lin(head_src, h).index_select(0, src) + lin(head_dst, h).index_select(0, dst) + lin(head_edge, e);
        return lin(head3, torch::gelu(lin(head2, torch::gelu(z)))).squeeze(1);
    }
};
TORCH_MODULE(Magik);

struct Tensors {
    torch::Tensor x, ef, src, dst;
};

Tensors to_tensors(const Batch& b) {
    const auto f = torch::TensorOptions().dtype(torch::kFloat32);
    const auto i = torch::TensorOptions().dtype(torch::kInt64);
    const int64_t e = b.edges();
    // from_blob borrows; clone so the tensors own their memory (the batch
    // may go away while autograd still holds them).
    return {torch::from_blob(const_cast<float*>(b.node_feat.data()), {b.nodes, kNodeFeatures}, f).clone(),
            torch::from_blob(const_cast<float*>(b.edge_feat.data()), {e, kEdgeFeatures}, f).clone(),
            torch::from_blob(const_cast<int64_t*>(b.src.data()), {e}, i).clone(),
            torch::from_blob(const_cast<int64_t*>(b.dst.data()), {e}, i).clone()};
}

std::string arch_text(const Architecture& a) {
    return "hidden_dim " + std::to_string(a.hidden) + ", num_layers " + std::to_string(a.layers);
}

} // namespace

struct Net::Impl {
    Magik model{nullptr};
    std::unique_ptr<torch::optim::Adam> optimizer;
};

void Batch::add(const Graph& g) {
    const int64_t off = nodes;
    nodes += g.nodes();
    node_feat.insert(node_feat.end(), g.node_feat.begin(), g.node_feat.end());
    edge_feat.insert(edge_feat.end(), g.edge_feat.begin(), g.edge_feat.end());
    for (const int64_t s : g.src) src.push_back(s + off);
    for (const int64_t d : g.dst) dst.push_back(d + off);
}

Net::Net(const Architecture& a, const FeatureScales& s, uint64_t seed) : arch_(a), scales_(s), impl_(std::make_unique<Impl>()) {
    if (a.hidden < 2 || a.layers < 0) throw std::invalid_argument("bad architecture: " + arch_text(a));
    torch::manual_seed(seed);
    impl_->model = Magik(a);
}

Net::~Net() = default;

namespace {
std::atomic<int> g_threads{1};
// OpenMP's thread count is per calling thread, and the host calls a node
// from whichever worker thread is free: set it on the thread doing the work.
// A small graph runs on one thread: below ~64k edges OpenMP's fork, join
// and spin-waiting cost more than the second core gives back (3x slower
// with 2 threads than with 1 on the seed's movie when the cores are busy).
void use_threads(int64_t edges) {
    const int n = edges < 65536 ? 1 : g_threads.load();
    if (at::get_num_threads() != n) at::set_num_threads(n);
}
} // namespace

void Net::set_threads(int threads) {
    g_threads = std::max(1, threads);
}

int64_t Net::parameter_count() const {
    int64_t n = 0;
    for (const auto& p : impl_->model->parameters()) n += p.numel();
    return n;
}

std::vector<float> Net::predict(const Batch& b) const {
    if (b.edges() == 0) return {};
    use_threads(b.edges());
    torch::NoGradGuard no_grad;
    impl_->model->eval();
    const auto t = to_tensors(b);
    const auto p = torch::sigmoid(impl_->model->forward(t.x, t.ef, t.src, t.dst)).contiguous();
    return std::vector<float>(p.data_ptr<float>(), p.data_ptr<float>() + p.numel());
}

void Net::set_optimizer(double lr, double wd) {
    impl_->optimizer = std::make_unique<torch::optim::Adam>(impl_->model->parameters(),
                                                            torch::optim::AdamOptions(lr).weight_decay(wd));
}

double Net::train_step(const Batch& b, const std::vector<float>& labels, const LossFn& loss) {
    if (!impl_->optimizer) throw std::logic_error("train_step before set_optimizer");
    if (static_cast<int64_t>(labels.size()) != b.edges()) throw std::logic_error("train_step: labels do not match edges");
    if (b.edges() == 0) return 0;
    use_threads(b.edges());
    impl_->model->train();
    impl_->optimizer->zero_grad();
    const auto t = to_tensors(b);
    const auto logits = impl_->model->forward(t.x, t.ef, t.src, t.dst);
    const auto z = logits.detach().contiguous();
    auto grad = torch::empty_like(z);
    const double value = loss(z.data_ptr<float>(), labels.data(), z.numel(), grad.data_ptr<float>());
    logits.backward(grad);
    impl_->optimizer->step();
    return value;
}

void Net::save(const std::string& path, const std::string& extra_json) const {
    nlohmann::json h = nlohmann::json::parse(extra_json);
    h["format"] = "spotflow-magik";
    h["format_version"] = 1;
    h["architecture"] = {{"hidden_dim", arch_.hidden}, {"num_layers", arch_.layers},
                         {"node_features", kNodeFeatures}, {"edge_features", kEdgeFeatures}};
    h["scales"] = {{"position_scale", scales_.position_scale}, {"distance_scale", scales_.distance_scale},
                   {"gap_scale", scales_.gap_scale}, {"window_frames", scales_.window_frames}};
    auto& list = h["tensors"] = nlohmann::json::array();
    const auto params = impl_->model->named_parameters();
    for (const auto& p : params) list.push_back({{"name", p.key()}, {"shape", p.value().sizes().vec()}});
    const std::string text = h.dump();
    std::ofstream out(path, std::ios::binary | std::ios::trunc);
    if (!out) throw WeightsError("cannot write weights file " + path);
    const uint64_t len = text.size();
    out.write(kMagic, 8);
    out.write(reinterpret_cast<const char*>(&len), 8);
    out.write(text.data(), static_cast<std::streamsize>(len));
    for (const auto& p : params) {
        const auto v = p.value().detach().to(torch::kFloat32).contiguous();
        out.write(reinterpret_cast<const char*>(v.data_ptr<float>()), static_cast<std::streamsize>(v.numel() * 4));
    }
    out.write(kTrailer, 8);
    if (!out.flush()) throw WeightsError("cannot write weights file " + path);
}

std::unique_ptr<Net> Net::load(const std::string& path, const Architecture* expect) {
    const auto fail = [&](const std::string& why) { return WeightsError("weights file " + path + ": " + why); };
    std::ifstream in(path, std::ios::binary);
    if (!in) throw fail("cannot be opened (missing or unreadable)");
    std::string bytes((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
    // Weights of another model, said as such: the usual mix-up.
    if (bytes.size() >= 8 && std::memcmp(bytes.data(), "SFDECODE", 8) == 0)
        throw fail("a detect.decode weights file, not link.magik's (another architecture): give link.magik a file train.magik wrote");
    if (bytes.size() >= 4 && std::memcmp(bytes.data(), "PK\x03\x04", 4) == 0)
        throw fail("a PyTorch (zip) checkpoint, not link.magik's format (SFMAGIK1, written by train.magik)");
    if (bytes.size() < 16 || std::memcmp(bytes.data(), kMagic, 8) != 0)
        throw fail(bytes.size() < 16 && bytes.size() > 0 && std::memcmp(bytes.data(), kMagic, std::min<size_t>(8, bytes.size())) == 0
                       ? "truncated (" + std::to_string(bytes.size()) + " bytes, shorter than its header)"
                       : "not a link.magik weights file (no SFMAGIK1 header)");
    uint64_t len = 0;
    std::memcpy(&len, bytes.data() + 8, 8);
    if (len > bytes.size() - 16) throw fail("truncated (header of " + std::to_string(len) + " bytes, file of " +
                                            std::to_string(bytes.size()) + ")");
    nlohmann::json h;
    try {
        h = nlohmann::json::parse(bytes.substr(16, len));
        Architecture a;
        a.hidden = h.at("architecture").at("hidden_dim").get<int>();
        a.layers = h.at("architecture").at("num_layers").get<int>();
        if (h.at("architecture").at("node_features").get<int>() != kNodeFeatures ||
            h.at("architecture").at("edge_features").get<int>() != kEdgeFeatures)
            throw fail("wrong architecture (node/edge feature counts " + h["architecture"]["node_features"].dump() + "/" +
                       h["architecture"]["edge_features"].dump() + ", expected 5/4)");
        if (expect && (a.hidden != expect->hidden || a.layers != expect->layers))
            throw fail("wrong architecture: trained with " + arch_text(a) + ", the node is set to " + arch_text(*expect));
        FeatureScales s;
        const auto& js = h.at("scales");
        s.position_scale = js.at("position_scale").get<double>();
        s.distance_scale = js.at("distance_scale").get<double>();
        s.gap_scale = js.at("gap_scale").get<double>();
        s.window_frames = js.at("window_frames").get<int>();
        if (!(s.position_scale > 0 && s.distance_scale > 0 && s.gap_scale > 0 && s.window_frames > 1))
            throw fail("bad feature scales in its header");
        auto net = std::unique_ptr<Net>(new Net(a, s, 0));
        const auto params = net->impl_->model->named_parameters();
        const auto& list = h.at("tensors");
        if (list.size() != params.size())
            throw fail("wrong architecture (" + std::to_string(list.size()) + " tensors, expected " +
                       std::to_string(params.size()) + ")");
        size_t need = 16 + len + 8;
        for (size_t k = 0; k < params.size(); ++k) {
            const auto& p = params[k];
            if (list[k].at("name").get<std::string>() != p.key() ||
                list[k].at("shape").get<std::vector<int64_t>>() != p.value().sizes().vec())
                throw fail("wrong architecture (tensor " + std::to_string(k) + " is " + list[k].dump() + ", expected " +
                           p.key() + ")");
            need += static_cast<size_t>(p.value().numel()) * 4;
        }
        if (bytes.size() < need)
            throw fail("truncated (" + std::to_string(bytes.size()) + " bytes, expected " + std::to_string(need) + ")");
        if (bytes.size() > need || std::memcmp(bytes.data() + need - 8, kTrailer, 8) != 0)
            throw fail("corrupt (" + std::to_string(bytes.size()) + " bytes, expected " + std::to_string(need) +
                       " ending in SFMAGEND)");
        torch::NoGradGuard no_grad;
        size_t off = 16 + len;
        for (const auto& p : params) {
            auto v = p.value();
            std::memcpy(v.data_ptr<float>(), bytes.data() + off, static_cast<size_t>(v.numel()) * 4);
            off += static_cast<size_t>(v.numel()) * 4;
        }
        for (const auto& p : params)
            if (!torch::isfinite(p.value()).all().item<bool>()) throw fail("holds non-finite values (" + p.key() + ")");
        return net;
    } catch (const WeightsError&) {
        throw;
    } catch (const std::exception& e) {
        throw fail(std::string("corrupt header (") + e.what() + ")");
    }
}

} // namespace magik
