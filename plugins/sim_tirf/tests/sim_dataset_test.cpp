// sim.dataset: seed 000's layout, per-sample seeds that regenerate a sample
// alone, the calcium files, sample naming, errors and cancellation.
#include <gtest/gtest.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <set>
#include <sstream>

#include "sim_support.hpp"

namespace {

using namespace simtest;
using nlohmann::json;
namespace fs = std::filesystem;

std::string slurp(const fs::path& p) {
    std::ifstream in(p, std::ios::binary);
    std::stringstream s;
    s << in.rdbuf();
    return s.str();
}

std::set<std::string> listing(const fs::path& dir) {
    std::set<std::string> names;
    for (const auto& e : fs::directory_iterator(dir)) names.insert(e.path().filename().string());
    return names;
}

std::vector<Row> read_truth_csv(const fs::path& p) {
    std::ifstream in(p);
    std::string line;
    std::getline(in, line);
    std::vector<Row> rows;
    while (std::getline(in, line)) {
        Row r{};
        char c;
        std::istringstream s(line);
        s >> r.frame >> c >> r.x >> c >> r.y >> c >> r.photons >> c >> r.track_id;
        rows.push_back(r);
    }
    return rows;
}

class SimDataset : public ::testing::Test {
protected:
    static fs::path make_dir(const std::string& tag) {
        fs::path d = fs::temp_directory_path() /
                     ("spotflow_sim_dataset_" + std::to_string(getpid()) + "_" + tag + "_" +
                      ::testing::UnitTest::GetInstance()->current_test_info()->name());
        fs::remove_all(d);
        fs::create_directories(d);
        return d;
    }
    void TearDown() override {
        fs::remove_all(dir_);
        fs::remove_all(alone_);
    }
    // Runs sim.dataset into dir; returns the host's error ("" on success).
    static std::string write(const fs::path& dir, const json& overrides) {
        FakeHost host(dir);
        NodeRunner node(dataset(), host, params(dataset(), overrides).dump());
        if (!node.created()) return host.error;
        if (node.pull_all() != SPOTFLOW_OK || node.finish() != SPOTFLOW_OK) return host.error;
        return "";
    }

    const json small_ = {{"num_samples", 3}, {"num_frames", 10}, {"image_size", 32}, {"num_tracks", 3},
                         {"seed", 1234}, {"chunk_frames", 4}};
    fs::path dir_ = make_dir("full");
    fs::path alone_ = make_dir("alone");
};

TEST_F(SimDataset, WritesSeed000sLayout) {
    ASSERT_EQ(write(dir_, small_), "");
    EXPECT_EQ(listing(dir_), (std::set<std::string>{"sample_000", "sample_001", "sample_002"}));
    std::set<std::string> seeds;
    for (const char* s : {"sample_000", "sample_001", "sample_002"}) {
        const fs::path d = dir_ / s;
        EXPECT_EQ(listing(d), (std::set<std::string>{"movie.tif", "ground_truth_tracks.csv", "metadata.json"}));
        const std::string csv = slurp(d / "ground_truth_tracks.csv");
        EXPECT_EQ(csv.substr(0, csv.find('\n') + 1), "frame,x,y,photons,track_id\n");
        const auto rows = read_truth_csv(d / "ground_truth_tracks.csv");
        EXPECT_FALSE(rows.empty());
        for (const Row& r : rows) {
            EXPECT_GE(r.frame, 0);
            EXPECT_LT(r.frame, 10);
            EXPECT_LT(r.track_id, 3);
        }

        uint32_t w = 0, h = 0;
        int pages = 0;
        EXPECT_EQ(read_tiff((d / "movie.tif").string(), &w, &h, &pages).size(), 10u * 32 * 32);
        EXPECT_EQ(pages, 10);
        EXPECT_EQ(w, 32u);
        EXPECT_EQ(h, 32u);
        TIFF* t = TIFFOpen((d / "movie.tif").c_str(), "r");
        ASSERT_NE(t, nullptr);
        char* description = nullptr;
        float xres = 0;
        uint16_t bits = 0;
        TIFFGetField(t, TIFFTAG_IMAGEDESCRIPTION, &description);
        TIFFGetField(t, TIFFTAG_XRESOLUTION, &xres);
        TIFFGetField(t, TIFFTAG_BITSPERSAMPLE, &bits);
        EXPECT_STREQ(description, "ImageJ=1.11a\nimages=10\nframes=10\nunit=micron\nfinterval=0.05\nloop=false\n");
        EXPECT_NEAR(xres, 1000.0 / 108, 1e-4);
        EXPECT_EQ(bits, 16);
        TIFFClose(t);

        const json meta = json::parse(slurp(d / "metadata.json"));
        EXPECT_EQ(meta.at("sample"), s);
        EXPECT_EQ(meta.at("dataset_seed"), 1234);
        EXPECT_EQ(meta.at("params").at("seed"), meta.at("seed"));
        EXPECT_EQ(meta.at("params").at("num_tracks"), 3);
        EXPECT_EQ(meta.at("params").at("photons"), 2000);
        seeds.insert(meta.at("seed").dump());
    }
    EXPECT_EQ(seeds.size(), 3u);
}

TEST_F(SimDataset, OneSampleRegeneratedAloneIsIdentical) {
    ASSERT_EQ(write(dir_, small_), "");
    json one = small_;
    one["only_sample"] = 1;
    one["chunk_frames"] = 16; // chunking does not change a pixel
    ASSERT_EQ(write(alone_, one), "");
    EXPECT_EQ(listing(alone_), std::set<std::string>{"sample_001"});
    for (const char* f : {"movie.tif", "ground_truth_tracks.csv", "metadata.json"}) {
        if (std::string(f) == "metadata.json") continue; // records its own chunk_frames
        EXPECT_EQ(slurp(alone_ / "sample_001" / f), slurp(dir_ / "sample_001" / f)) << f;
    }

    // sim.tirf with the params in metadata.json streams the same movie and truth.
    const json meta = json::parse(slurp(dir_ / "sample_001" / "metadata.json"));
    const SimRun r = run_tirf(meta.at("params"));
    ASSERT_TRUE(r.error.empty()) << r.error;
    EXPECT_EQ(r.movie, read_tiff((dir_ / "sample_001" / "movie.tif").string()));
    EXPECT_EQ(r.truth, read_truth_csv(dir_ / "sample_001" / "ground_truth_tracks.csv"));
}

TEST_F(SimDataset, WritesTheCalciumChannelAndItsEvents) {
    json o = small_;
    o["num_samples"] = 1;
    o["calcium"] = true;
    o["event_rate"] = 0.3;
    ASSERT_EQ(write(dir_, o), "");
    const fs::path d = dir_ / "sample_000";
    EXPECT_EQ(listing(d), (std::set<std::string>{"movie.tif", "ground_truth_tracks.csv", "metadata.json",
                                                 "calcium.tif", "calcium_events.csv"}));
    EXPECT_EQ(read_tiff((d / "calcium.tif").string()).size(), 10u * 32 * 32);
    const std::string events = slurp(d / "calcium_events.csv");
    EXPECT_EQ(events.substr(0, events.find('\n') + 1),
              "track_id,onset_frame,peak_frame,amplitude_dff,decay_frames\n");
    EXPECT_GT(std::count(events.begin(), events.end(), '\n'), 1);
}

TEST_F(SimDataset, PadsSampleNamesToTheLargestIndex) {
    json o = small_;
    o["num_frames"] = 1;
    o["num_samples"] = 1000;
    o["only_sample"] = 999;
    ASSERT_EQ(write(dir_, o), "");
    o["num_samples"] = 1001;
    o["only_sample"] = 7;
    ASSERT_EQ(write(alone_, o), "");
    EXPECT_EQ(listing(dir_), std::set<std::string>{"sample_999"});
    EXPECT_EQ(listing(alone_), std::set<std::string>{"sample_0007"});
}

TEST_F(SimDataset, RefusesBadParams) {
    json o = small_;
    o["num_samples"] = 0;
    EXPECT_EQ(write(dir_, o), "param 'num_samples' must be >= 1, got 0");
    o["num_samples"] = 3;
    o["only_sample"] = 3;
    EXPECT_EQ(write(dir_, o), "param 'only_sample' must be -1 or a sample index below num_samples (3), got 3");
    o["only_sample"] = -1;
    o["image_size"] = 0;
    EXPECT_EQ(write(dir_, o), "param 'image_size' must be in [1, 16384], got 0");
    EXPECT_TRUE(listing(dir_).empty());
}

TEST_F(SimDataset, StopsWhenCancelled) {
    FakeHost host(dir_);
    NodeRunner node(dataset(), host, params(dataset(), small_).dump());
    ASSERT_TRUE(node.created()) << host.error;
    host.cancelled = true;
    EXPECT_EQ(node.pull_once(), SPOTFLOW_ERR_CANCELLED);
}

} // namespace
