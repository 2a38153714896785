// sim.particles: a data set of micrograph-like particle images (libs/sim's
// particle simulator) with a partial label mask, the full truth mask and the
// particle table. See README.md.
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "spotflow/entry.hpp"
#include "spotflow/node.hpp"
#include "spotflow/plugin.h"
#include "spotflow/table.hpp"
#include "spotflow/tensor.hpp"
#include "spotflow_sim/particles.hpp"

namespace sim_particles {

enum Port : int32_t { kImages = 0, kLabels = 1, kTruth = 2, kParticles = 3 };

class Source {
public:
    static constexpr const char* kContext = "sim.particles";

    Source(const spotflow_host* host, const char* params_json) : host_(host) {
        nlohmann::json j = nlohmann::json::parse(params_json);
        mask_radius_ = j.value("mask_radius_px", -1.0);
        j.erase("mask_radius_px");
        try {
            p_ = sim::ParticleParams::from_json(j);
        } catch (const std::exception& e) {
            throw spotflow::PluginError(SPOTFLOW_ERR_INVALID_ARGUMENT, e.what());
        }
        if (mask_radius_ < 0) mask_radius_ = p_.radius_px;
    }

    spotflow_status pull(const spotflow_emitter* out) {
        if (done_) return SPOTFLOW_DONE;
        const int64_t n = p_.num_images, w = p_.width, h = p_.height;
        const size_t px = static_cast<size_t>(w * h);
        std::vector<float> images(static_cast<size_t>(n) * px);
        std::vector<int8_t> labels(images.size(), 0), truth(images.size(), 0);
        spotflow::TableBuilder b;
        const auto c_frame = b.add_column("frame", spotflow::ColumnType::Int64);
        const auto c_x = b.add_column("x", spotflow::ColumnType::Float64);
        const auto c_y = b.add_column("y", spotflow::ColumnType::Float64);
        const auto c_amp = b.add_column("amplitude", spotflow::ColumnType::Float64);
        const auto c_lab = b.add_column("labelled", spotflow::ColumnType::Int64);
        for (int64_t i = 0; i < n; ++i) {
            const sim::ParticleImage im = sim::simulate_particle_image(p_, i);
            std::copy(im.pixels.begin(), im.pixels.end(), images.begin() + static_cast<std::ptrdiff_t>(i * static_cast<int64_t>(px)));
            for (const sim::Particle& q : im.particles) {
                sim::draw_disk<int8_t>(truth.data() + i * static_cast<int64_t>(px), w, h, q.x, q.y, mask_radius_, 1);
                if (q.labelled) sim::draw_disk<int8_t>(labels.data() + i * static_cast<int64_t>(px), w, h, q.x, q.y, mask_radius_, 1);
                b.append_int(c_frame, i);
                b.append_double(c_x, q.x);
                b.append_double(c_y, q.y);
                b.append_double(c_amp, q.amplitude);
                b.append_int(c_lab, q.labelled ? 1 : 0);
            }
            host_->progress(host_, i + 1, n);
        }
        const spotflow_stream_info info{0, n, n, 0, 0, 0, 0};
        auto tensor = [&](int32_t port, DLManagedTensor* t) {
            spotflow_packet pk{};
            pk.kind = SPOTFLOW_DATA_TENSOR;
            pk.info = info;
            pk.tensor = t;
            return out->emit(out, port, &pk);
        };
        if (auto st = tensor(kImages, spotflow::make_tensor<float>({n, h, w}, std::move(images))); st != SPOTFLOW_OK) return st;
        if (auto st = tensor(kLabels, spotflow::make_tensor<int8_t>({n, h, w}, std::move(labels))); st != SPOTFLOW_OK) return st;
        if (auto st = tensor(kTruth, spotflow::make_tensor<int8_t>({n, h, w}, std::move(truth))); st != SPOTFLOW_OK) return st;
        spotflow_packet table{};
        table.kind = SPOTFLOW_DATA_TABLE;
        table.info = info;
        b.finish(&table.schema, &table.array);
        if (auto st = out->emit(out, kParticles, &table); st != SPOTFLOW_OK) return st;
        done_ = true;
        return SPOTFLOW_DONE;
    }

private:
    const spotflow_host* host_;
    sim::ParticleParams p_;
    double mask_radius_ = -1;
    bool done_ = false;
};

const spotflow_node_vtable kVtable = spotflow::node_vtable<Source>();

const spotflow_port_desc kOutputs[] = {
    {"images", SPOTFLOW_TYPE_MOVIE, SPOTFLOW_DATA_TENSOR, 0, "The images, N x H x W float32 (one frame per image)"},
    {"labels", SPOTFLOW_TYPE_MASK, SPOTFLOW_DATA_TENSOR, 0,
     "Partial labels, N x H x W int8: 1 inside the disks of the labelled particles, 0 elsewhere (unlabelled particles too)"},
    {"truth", SPOTFLOW_TYPE_MASK, SPOTFLOW_DATA_TENSOR, SPOTFLOW_PORT_OPTIONAL,
     "Full truth, N x H x W int8: 1 inside the disks of all particles"},
    {"particles", SPOTFLOW_TYPE_DETECTIONS, SPOTFLOW_DATA_TABLE, SPOTFLOW_PORT_OPTIONAL,
     "Every particle: frame (= image), x, y, amplitude, labelled (0/1)"},
};

const std::string kSchema = R"({
  "$schema": "http://json-schema.org/draft-07/schema#",
  "type": "object",
  "additionalProperties": false,
  "properties": {
    )" + sim::ParticleParams::schema_properties() + R"(,
    "mask_radius_px": {"type": "number", "default": -1, "description": "Radius of the disks drawn in the masks, px; negative: the particle radius."}
  }
})";

const spotflow_plugin_desc kDesc = {"sim.particles", "1.0.0",
                                    "Simulates micrograph-like particle images with partial labels and the full truth",
                                    "source", nullptr, 0, 4, kOutputs, kSchema.c_str(), &kVtable, nullptr};

} // namespace sim_particles

SPOTFLOW_EXPORT_PLUGINS(sim_particles::kDesc);
