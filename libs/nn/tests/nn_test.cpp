// libs/nn: every piece with a known answer, on tensors small enough to run
// in seconds.
#include <gtest/gtest.h>

#include <cmath>
#include <filesystem>
#include <fstream>
#include <functional>
#include <iterator>
#include <map>
#include <string>
#include <unistd.h>
#include <vector>

#include <torch/torch.h>

#include "plugin_harness.hpp"
#include "spotflow/loss.hpp"
#include "spotflow/tensor.hpp"
#include "spotflow_nn/augment.hpp"
#include "spotflow_nn/loss_bridge.hpp"
#include "spotflow_nn/schedule.hpp"
#include "spotflow_nn/training.hpp"
#include "spotflow_nn/unet.hpp"
#include "spotflow_nn/weights.hpp"

namespace fs = std::filesystem;
using namespace spotflow::nn;

namespace {

fs::path temp_dir() {
    const fs::path d = fs::temp_directory_path() / ("nn_test_" + std::to_string(::getpid()));
    fs::create_directories(d);
    return d;
}

std::string error_of(const std::function<void()>& f) {
    try {
        f();
    } catch (const std::exception& e) {
        return e.what();
    }
    return "";
}

TEST(Schedule, StepLrAtGivenSteps) {
    ScheduleOptions o;
    o.kind = ScheduleOptions::Step;
    o.step_size = 10;
    o.gamma = 0.5;
    const Schedule s(o);
    EXPECT_DOUBLE_EQ(s.factor(0), 1);
    EXPECT_DOUBLE_EQ(s.factor(9), 1);
    EXPECT_DOUBLE_EQ(s.factor(10), 0.5);
    EXPECT_DOUBLE_EQ(s.factor(25), 0.25);
}

TEST(Schedule, CosineLrAtGivenSteps) {
    const auto s = Schedule(ScheduleOptions::from_json({{"kind", "cosine"}, {"total_steps", 100}, {"min_factor", 0.1}}));
    EXPECT_DOUBLE_EQ(s.factor(0), 1);
    EXPECT_NEAR(s.factor(50), 0.55, 1e-12);
    EXPECT_NEAR(s.factor(25), 0.1 + 0.9 * 0.5 * (1 + std::cos(M_PI / 4)), 1e-12);
    EXPECT_NEAR(s.factor(100), 0.1, 1e-12);
    EXPECT_NEAR(s.factor(500), 0.1, 1e-12);
}

TEST(Schedule, PlateauReducesAfterPatience) {
    Schedule s(ScheduleOptions::from_json({{"kind", "plateau"}, {"patience", 1}, {"factor", 0.5}, {"min_factor", 0.2}}));
    s.observe(1.0);
    s.observe(0.9); // better
    EXPECT_DOUBLE_EQ(s.factor(0), 1);
    s.observe(0.95); // 1 bad, within patience
    EXPECT_DOUBLE_EQ(s.factor(0), 1);
    s.observe(0.9); // 2 bad (not better than 0.9 by the threshold)
    EXPECT_DOUBLE_EQ(s.factor(0), 0.5);
    s.observe(0.99);
    s.observe(0.99);
    EXPECT_DOUBLE_EQ(s.factor(0), 0.25);
    s.observe(0.99);
    s.observe(0.99);
    EXPECT_DOUBLE_EQ(s.factor(0), 0.2); // floored
    Schedule r(ScheduleOptions::from_json({{"kind", "plateau"}}));
    r.restore(s.state());
    EXPECT_DOUBLE_EQ(r.factor(0), 0.2);
}

TEST(Schedule, BadOptionsNameTheField) {
    EXPECT_NE(error_of([] { ScheduleOptions::from_json({{"kind", "linear"}}); }).find("linear"), std::string::npos);
    EXPECT_NE(error_of([] { ScheduleOptions::from_json({{"kind", "step"}, {"gamma", 2}}); }).find("gamma"), std::string::npos);
}

TEST(KeepBest, PicksTheBestStepWithTieBreaks) {
    KeepBest k({{"f1", true}, {"rmse_px", false}});
    EXPECT_TRUE(k.offer({{"step", 10}, {"f1", 0.5}, {"rmse_px", 0.3}}));
    EXPECT_TRUE(k.offer({{"step", 20}, {"f1", 0.8}, {"rmse_px", 0.3}}));
    EXPECT_FALSE(k.offer({{"step", 30}, {"f1", 0.7}, {"rmse_px", 0.1}}));
    EXPECT_TRUE(k.offer({{"step", 40}, {"f1", 0.8}, {"rmse_px", 0.2}})); // tie on f1, lower rmse
    EXPECT_FALSE(k.offer({{"step", 50}, {"f1", NAN}, {"rmse_px", 0.0}}));
    EXPECT_FALSE(k.offer({{"step", 60}, {"f1", 0.8}, {"rmse_px", 0.2}})); // a full tie keeps the earlier
    EXPECT_EQ(k.best_step(), 40);
}

TEST(Training, ClipsTheGlobalNorm) {
    auto a = torch::zeros({2}), b = torch::zeros({1});
    a.mutable_grad() = torch::tensor({3.0f, 0.0f});
    b.mutable_grad() = torch::tensor({4.0f});
    EXPECT_NEAR(clip_gradients({a, b}, 10), 5, 1e-6); // below: untouched
    EXPECT_FLOAT_EQ(a.grad()[0].item<float>(), 3);
    EXPECT_NEAR(clip_gradients({a, b}, 1), 5, 1e-6);
    EXPECT_NEAR(a.grad()[0].item<float>(), 0.6, 1e-6);
    EXPECT_NEAR(b.grad()[0].item<float>(), 0.8, 1e-6);
    EXPECT_NEAR(clip_gradients({a, b}, 0), 1, 1e-5); // 0: only measures
}

// A tiny U-Net learning to map two 8 x 8 images to their targets, through
// TrainingLoop; returns the loop's validations.
struct TinyRun {
    UNet net{nullptr};
    std::unique_ptr<torch::optim::Adam> opt;
    std::unique_ptr<TrainingLoop> loop;
    torch::Tensor x, y;

    explicit TinyRun(uint64_t seed, int64_t iterations = 60, int64_t validate_every = 20) {
        seed_everything(seed);
        UNetOptions o;
        o.in_channels = 1;
        o.out_channels = 1;
        o.base_channels = 4;
        o.depth = 1;
        o.convs_per_level = 1;
        net = UNet(o);
        opt = std::make_unique<torch::optim::Adam>(net->parameters(), torch::optim::AdamOptions(1e-2));
        LoopOptions lo;
        lo.iterations = iterations;
        lo.validate_every = validate_every;
        lo.grad_clip_norm = 10;
        lo.best_by = {{"loss", false}};
        ScheduleOptions so;
        so.kind = ScheduleOptions::Cosine;
        so.total_steps = iterations;
        so.min_factor = 0.1;
        loop = std::make_unique<TrainingLoop>(lo, *opt, Schedule(so));
        // Fixed data, independent of the seed above.
        auto g = torch::arange(64, torch::kFloat32).reshape({1, 1, 8, 8}) / 64;
        x = torch::cat({g, g.flip({-1})}, 0);
        y = torch::cat({(g * 6).sin(), (g * 3).cos()}, 0);
    }
    double loss() {
        torch::NoGradGuard ng;
        return torch::mse_loss(net->forward(x), y).item<double>();
    }
    LoopHooks hooks() {
        LoopHooks h;
        h.train_step = [this](int64_t) {
            auto l = torch::mse_loss(net->forward(x), y);
            l.backward();
            return l.item<double>();
        };
        h.validate = [this](int64_t) { return nlohmann::json{{"loss", loss()}}; };
        return h;
    }
    void run() {
        const auto h = hooks();
        while (!loop->finished()) loop->advance(h);
    }
};

TEST(Training, TinyModelOverfitsATinySet) {
    TinyRun r(1, 300, 100);
    const double before = r.loss();
    r.run();
    EXPECT_LT(r.loss(), 0.1 * before) << before; // 0.742 -> 0.031 for seed 1
}

TEST(Training, SameSeedSameWeights) {
    TinyRun a(7), b(7), c(8);
    a.run();
    b.run();
    c.run();
    const auto pa = a.net->parameters(), pb = b.net->parameters(), pc = c.net->parameters();
    ASSERT_EQ(pa.size(), pb.size());
    bool all_c_equal = true;
    for (size_t i = 0; i < pa.size(); ++i) {
        EXPECT_TRUE(torch::equal(pa[i], pb[i])) << i;
        all_c_equal = all_c_equal && torch::equal(pa[i], pc[i]);
    }
    EXPECT_FALSE(all_c_equal);
}

TEST(Training, KeepBestLogAndBestHook) {
    const fs::path log = temp_dir() / "metrics.jsonl";
    TinyRun r(3, 50, 10);
    r.loop->open_log(log.string());
    auto h = r.hooks();
    // Validation values with a known best: step 30.
    const std::map<int64_t, double> metric{{10, 0.5}, {20, 0.4}, {30, 0.1}, {40, 0.3}, {50, 0.2}};
    h.validate = [&](int64_t step) { return nlohmann::json{{"loss", metric.at(step)}}; };
    std::vector<int64_t> best_calls;
    h.on_best = [&](const nlohmann::json& m) { best_calls.push_back(m["step"]); };
    while (!r.loop->finished()) r.loop->advance(h);
    EXPECT_EQ(r.loop->best().best_step(), 30);
    EXPECT_EQ(best_calls, (std::vector<int64_t>{10, 20, 30}));
    std::ifstream in(log);
    std::vector<nlohmann::json> lines;
    for (std::string l; std::getline(in, l);) lines.push_back(nlohmann::json::parse(l));
    ASSERT_EQ(lines.size(), 5u);
    EXPECT_EQ(lines[2]["step"], 30);
    EXPECT_DOUBLE_EQ(lines[2]["loss"].get<double>(), 0.1);
    EXPECT_TRUE(lines[0].contains("train_loss"));
    EXPECT_TRUE(lines[0].contains("lr"));
}

TEST(Training, CheckpointRoundTripContinuesTheRun) {
    const fs::path ck = temp_dir() / "ck.pt";
    TinyRun whole(5, 40, 10);
    whole.run();

    TinyRun first(5, 40, 10);
    auto h = first.hooks();
    std::vector<int64_t> saved;
    // Periodic checkpoints through the hook, at step 20.
    h.on_checkpoint = [&](int64_t step) {
        saved.push_back(step);
        first.loop->save_checkpoint(ck.string(), *first.net);
    };
    while (first.loop->step() < 20) first.loop->advance(h);
    EXPECT_TRUE(saved.empty()); // checkpoint_every is 0 in TinyRun
    first.loop->save_checkpoint(ck.string(), *first.net);

    TinyRun resumed(99, 40, 10); // other initial weights: the checkpoint replaces them
    resumed.loop->load_checkpoint(ck.string(), *resumed.net);
    EXPECT_EQ(resumed.loop->step(), 20);
    resumed.run();
    const auto pa = whole.net->parameters(), pb = resumed.net->parameters();
    for (size_t i = 0; i < pa.size(); ++i) EXPECT_TRUE(torch::allclose(pa[i], pb[i], 0, 0)) << i;
    EXPECT_EQ(resumed.loop->best().best_step(), whole.loop->best().best_step());

    std::ofstream(ck) << "not a checkpoint";
    EXPECT_NE(error_of([&] { resumed.loop->load_checkpoint(ck.string(), *resumed.net); }).find(ck.string()), std::string::npos);
}

TEST(Training, PeriodicCheckpointsFire) {
    TinyRun r(2, 30, 30);
    LoopOptions lo;
    lo.iterations = 30;
    lo.validate_every = 30;
    lo.checkpoint_every = 10;
    TrainingLoop loop(lo, *r.opt, Schedule());
    auto h = r.hooks();
    std::vector<int64_t> steps;
    h.on_checkpoint = [&](int64_t s) { steps.push_back(s); };
    loop.advance(h);
    EXPECT_EQ(steps, (std::vector<int64_t>{10, 20, 30}));
}

TEST(UNet, ShapesNamesAndVariants) {
    UNetOptions o;
    o.in_channels = 2;
    o.out_channels = 3;
    o.base_channels = 4;
    o.depth = 2;
    UNet a(o);
    EXPECT_EQ(a->forward(torch::zeros({1, 2, 8, 12})).sizes(), (std::vector<int64_t>{1, 3, 8, 12}));
    EXPECT_NE(error_of([&] { a->forward(torch::zeros({1, 2, 6, 8})); }).find("multiples of 4"), std::string::npos);
    const auto names = a->named_parameters().keys();
    EXPECT_NE(std::find(names.begin(), names.end(), "enc.0.0.weight"), names.end());
    EXPECT_NE(std::find(names.begin(), names.end(), "down.1.0.weight"), names.end());
    EXPECT_NE(std::find(names.begin(), names.end(), "out.weight"), names.end());

    o.downsample = Downsample::MaxPool;
    o.norm = Norm::Batch;
    o.activation = Activation::Relu;
    o.out_channels = 0;
    UNet b(UNetOptions::from_json(o.to_json()));
    EXPECT_EQ(b->forward(torch::zeros({2, 2, 8, 8})).sizes(), (std::vector<int64_t>{2, 4, 8, 8}));
    EXPECT_EQ(b->options().to_json(), o.to_json());
    EXPECT_NE(error_of([] { UNetOptions::from_json({{"depth", 9}}); }).find("depth"), std::string::npos);
}

TEST(Weights, RoundTripIsExactAndKeepsTheCard) {
    const fs::path p = temp_dir() / "w.sfw";
    UNetOptions o;
    o.base_channels = 4;
    o.out_channels = 1;
    o.norm = Norm::Batch;
    UNet a(o);
    {
        torch::NoGradGuard ng;
        for (auto& b : a->buffers()) b.fill_(3); // batch-norm statistics travel too
    }
    save_weights(p.string(), o.to_json(), *a, {{"recipe", "test"}});
    const auto f = read_weights(p.string());
    EXPECT_EQ(f.model_card["recipe"], "test");
    UNet b(UNetOptions::from_json(f.network));
    load_into(f, *b);
    const auto ta = module_tensors(*a), tb = module_tensors(*b);
    ASSERT_EQ(ta.size(), tb.size());
    for (size_t i = 0; i < ta.size(); ++i) EXPECT_TRUE(torch::equal(ta[i].second.to(torch::kFloat32), tb[i].second.to(torch::kFloat32))) << ta[i].first;
}

TEST(Weights, ErrorsNameTheFileAndTheCause) {
    const fs::path p = temp_dir() / "bad.sfw";
    const std::string path = p.string();
    UNetOptions o;
    o.base_channels = 4;
    UNet a(o);
    save_weights(path, o.to_json(), *a, {});
    std::string bytes;
    {
        std::ifstream in(path, std::ios::binary);
        bytes.assign(std::istreambuf_iterator<char>(in), {});
    }
    const auto expect = [&](const std::string& content, const std::string& what) {
        std::ofstream(path, std::ios::binary | std::ios::trunc) << content;
        const std::string e = error_of([&] { read_weights(path); });
        EXPECT_NE(e.find("weights file '" + path + "'"), std::string::npos) << e;
        EXPECT_NE(e.find(what), std::string::npos) << e;
    };
    expect(bytes.substr(0, bytes.size() - 100), "truncated");
    expect(bytes.substr(0, 14), "truncated");
    std::string flipped = bytes;
    flipped[bytes.size() - 20] ^= 1;
    expect(flipped, "checksum");
    expect("PK\x03\x04 a zip", "not a spotflow weights file");
    expect(bytes + "x", "trailing");
    std::string legacy = bytes;
    legacy.replace(0, 8, "SFDECODE"); // detect.decode's first files: the same layout
    EXPECT_NE(error_of([&] {
                  std::ofstream(path, std::ios::binary | std::ios::trunc) << legacy;
                  read_weights(path);
              }).find("checksum"), // the signature is hashed too: accepted, then the hash differs
              std::string::npos);
    EXPECT_NE(error_of([] { read_weights("/nonexistent/w.sfw"); }).find("missing"), std::string::npos);

    // The right file for another network.
    std::ofstream(path, std::ios::binary | std::ios::trunc) << bytes;
    o.base_channels = 8;
    UNet wider(o);
    const std::string e = error_of([&] { load_into(read_weights(path), *wider); });
    EXPECT_NE(e.find("another architecture"), std::string::npos) << e;
    EXPECT_NE(e.find(path), std::string::npos) << e;
    EXPECT_NE(e.find("enc.0.0.weight"), std::string::npos) << e;
}

TEST(Augment, EveryTransformIsInvertedAndMovesPointsWithPixels) {
    const auto img = torch::arange(2 * 25, torch::kFloat32).reshape({2, 5, 5});
    for (int flip = 0; flip < 2; ++flip)
        for (int r = 0; r < 4; ++r) {
            const Geometric g{flip == 1, r};
            EXPECT_TRUE(torch::equal(g.inverse().apply(g.apply(img)), img)) << flip << r;
            // A single lit pixel at x = 3, y = 1 lands where apply_points says.
            auto one = torch::zeros({5, 5});
            one[1][3] = 1;
            const auto moved = g.apply(one);
            const int64_t at = moved.argmax().item<int64_t>();
            const auto pt = g.apply_points(torch::tensor({{3.0f, 1.0f, 7.0f}}), 5, 5);
            EXPECT_FLOAT_EQ(pt[0][0].item<float>(), static_cast<float>(at % 5)) << flip << r;
            EXPECT_FLOAT_EQ(pt[0][1].item<float>(), static_cast<float>(at / 5)) << flip << r;
            EXPECT_FLOAT_EQ(pt[0][2].item<float>(), 7.0f); // other columns untouched
            const auto back = g.inverse().apply_points(pt, 5, 5);
            EXPECT_TRUE(torch::allclose(back, torch::tensor({{3.0f, 1.0f, 7.0f}})));
        }
    const Photometric p{1.5, -2};
    EXPECT_TRUE(torch::allclose(p.inverse().apply(p.apply(img)), img, 1e-5, 1e-5));
    std::mt19937_64 rng(1);
    AugmentOptions o;
    o.gain_min = 0.5;
    o.gain_max = 2;
    int seen = 0;
    for (int i = 0; i < 64; ++i) {
        const auto a = draw_augmentation(o, rng);
        EXPECT_GE(a.photometric.gain, 0.5);
        EXPECT_LE(a.photometric.gain, 2);
        seen |= 1 << (a.geometric.rotations + 4 * a.geometric.flip_x);
    }
    EXPECT_EQ(seen, 0xff); // all eight transforms drawn
}

// A loss with one learnable parameter (a scale s: loss = s * sum(pred)) and
// two components, through loss.hpp, as a plugin's would be.
class ScaleLoss {
public:
    ScaleLoss(const spotflow_host*, const char*) {
        value_ = spotflow::make_tensor<float>({1}, {2.0f});
        grad_ = spotflow::make_tensor<float>({1}, {0.0f});
    }
    ScaleLoss(ScaleLoss&& o) noexcept : value_(o.value_), grad_(o.grad_) { o.value_ = o.grad_ = nullptr; }
    ~ScaleLoss() {
        if (value_) spotflow::release_tensor(value_);
        if (grad_) spotflow::release_tensor(grad_);
    }
    double compute(const spotflow_loss_io& io) {
        const auto& p = *io.predictions[0];
        const float* d = static_cast<const float*>(p.data);
        const int64_t n = spotflow::element_count(p);
        // The mask's weights (loss.h), 1 where there is none.
        const auto m = [&](int64_t i) { return io.mask ? static_cast<const float*>(io.mask->data)[i] : 1.0f; };
        double sum = 0;
        for (int64_t i = 0; i < n; ++i) sum += m(i) * d[i];
        const float s = *static_cast<float*>(value_->dl_tensor.data);
        if (io.gradients)
            for (int64_t i = 0; i < n; ++i) static_cast<float*>(io.gradients[0]->data)[i] = s * m(i);
        *static_cast<float*>(grad_->dl_tensor.data) += static_cast<float>(sum);
        first_ = s * sum / 2;
        return s * sum;
    }
    int32_t parameter_count() { return 1; }
    void parameter(int32_t, DLTensor** v, DLTensor** g) {
        *v = &value_->dl_tensor;
        *g = &grad_->dl_tensor;
    }
    int32_t component_count() { return 2; }
    void component(int32_t i, const char** name, double* value) {
        *name = i == 0 ? "half" : "other_half";
        *value = first_;
    }

private:
    DLManagedTensor *value_ = nullptr, *grad_ = nullptr;
    double first_ = 0;
};
const spotflow_loss_vtable kScaleLoss = spotflow::loss_vtable<ScaleLoss>();
spotflow_abi_version g_loss_abi{1, 1};

struct LossHost {
    LossHost() {
        table = *fake.get();
        table.create_loss = [](const spotflow_host* h, const char* id, const char* params,
                               spotflow_loss_instance* out) -> spotflow_status {
            if (std::string(id) != "loss.scale") {
                h->set_error(h, SPOTFLOW_ERR_INVALID_ARGUMENT, "unknown loss");
                return SPOTFLOW_ERR_INVALID_ARGUMENT;
            }
            out->loss = &kScaleLoss;
            out->self = kScaleLoss.create(h, params);
            out->abi = g_loss_abi;
            return out->self ? SPOTFLOW_OK : SPOTFLOW_ERR_INVALID_ARGUMENT;
        };
    }
    spotflow::testing::FakeHost fake;
    spotflow_host table{};
};

TEST(LossBridge, GradientsParametersAndComponents) {
    LossHost host;
    LossBridge loss(&host.table, "loss.scale", nlohmann::json::object());
    ASSERT_EQ(loss.parameters().size(), 1u);
    auto w = torch::ones({3}, torch::requires_grad());
    const auto pred = w * 1.0;
    EXPECT_DOUBLE_EQ(loss.backward(pred, {}), 6.0);
    EXPECT_TRUE(torch::equal(w.grad(), torch::full({3}, 2.0f))); // dloss/dw = s
    // The loss's accumulator is the optimiser's .grad: dloss/ds = sum = 3.
    EXPECT_FLOAT_EQ(loss.parameters()[0].grad().item<float>(), 3.0f);
    const auto c = loss.components();
    ASSERT_EQ(c.size(), 2u);
    EXPECT_EQ(c[0].first, "half");
    EXPECT_DOUBLE_EQ(c[0].second, 3.0);
    // An SGD step on a group of the loss's parameters writes into the loss.
    torch::optim::SGD opt(std::vector<torch::Tensor>{loss.parameters()[0]}, torch::optim::SGDOptions(0.5));
    opt.step();
    EXPECT_DOUBLE_EQ(loss.compute({torch::ones({1})}, {}), 0.5); // s = 2 - 0.5 * 3
    opt.zero_grad();
    EXPECT_FLOAT_EQ(loss.parameters()[0].grad().item<float>(), 0.0f); // zeroed in the loss's memory

    g_loss_abi = {0, 0}; // as a 1.0 host leaves the instance: no components read
    LossBridge old(&host.table, "loss.scale", nlohmann::json::object());
    old.compute({torch::ones({2})}, {});
    EXPECT_TRUE(old.components().empty());
    g_loss_abi = {1, 1};

    EXPECT_THROW(LossBridge(&host.table, "loss.none", nlohmann::json::object()), LossNotCreated);
    EXPECT_EQ(host.fake.error, "unknown loss");
}

// A "mask" port's labels (plugin.h): -1 = ignore becomes weight 0 for the
// loss, every other label weight 1; the loss skips the ignored elements and
// gives them no gradient. Labels below -1 and non-integer masks are errors.
TEST(LossBridge, LabelMaskMinusOneIsIgnored) {
    const auto labels = torch::tensor({0, 1, -1, 2}, torch::kInt32);
    const auto w = mask_weights(labels);
    EXPECT_EQ(w.scalar_type(), torch::kFloat32);
    EXPECT_TRUE(torch::equal(w, torch::tensor({1.0f, 1.0f, 0.0f, 1.0f})));
    EXPECT_TRUE(torch::equal(mask_weights(torch::full({2, 2}, -1, torch::kInt64)), torch::zeros({2, 2})));

    LossHost host;
    LossBridge loss(&host.table, "loss.scale", nlohmann::json::object());
    auto p = torch::tensor({1.0f, 2.0f, 100.0f, 3.0f}, torch::requires_grad());
    EXPECT_DOUBLE_EQ(loss.backward(p * 1.0, {}, w), 12.0); // s = 2 times 1 + 2 + 3: the 100 is ignored
    EXPECT_TRUE(torch::equal(p.grad(), torch::tensor({2.0f, 2.0f, 0.0f, 2.0f})));

    try {
        mask_weights(torch::tensor({0, -2, 1}, torch::kInt16));
        ADD_FAILURE() << "a label of -2 was taken";
    } catch (const spotflow::PluginError& e) {
        EXPECT_EQ(e.status, SPOTFLOW_ERR_INVALID_ARGUMENT);
        EXPECT_STREQ(e.what(), "a mask label of -2: only -1 (ignore) may be negative");
    }
    EXPECT_THROW(mask_weights(torch::ones({3})), spotflow::PluginError);
}

TEST(Threads, SetFromTheHostsCount) {
    set_threads(2);
    EXPECT_EQ(at::get_num_threads(), 2);
    set_threads(0); // a host reporting 0: at least one
    EXPECT_EQ(at::get_num_threads(), 1);
}

} // namespace
