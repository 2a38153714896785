#include <gtest/gtest.h>
#include <tiffio.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>

#include <nlohmann/json.hpp>

#include "plugin_harness.hpp"
#include "test_dir.hpp"

namespace fs = std::filesystem;
using namespace spotflow::testing; // the harness, ColumnType, TableBuilder, TableView

namespace {

template <class T> std::vector<T> pattern_movie(int64_t frames, int64_t height, int64_t width) {
    std::vector<T> v(static_cast<size_t>(frames * height * width));
    for (size_t i = 0; i < v.size(); ++i)
        v[i] = static_cast<T>(std::is_floating_point_v<T> ? (i % 1013) * 0.37 - 100 : (i * 7919) % 65521);
    return v;
}

// A chunk of frames [first, first + count) of movie, as a source emits it.
template <class T> std::unique_ptr<OwnedPacket> chunk(const std::vector<T>& movie, int64_t first, int64_t count,
                                                      int64_t h, int64_t w, int64_t total_frames,
                                                      double pixel_size_nm = 0, double frame_interval_s = 0) {
    auto p = std::make_unique<OwnedPacket>();
    const auto begin = movie.begin() + first * h * w;
    p->p.kind = SPOTFLOW_DATA_TENSOR;
    p->p.tensor = spotflow::make_tensor<T>({count, h, w}, std::vector<T>(begin, begin + count * h * w));
    p->p.info = {first, count, total_frames, pixel_size_nm, frame_interval_s, 0, 0};
    return p;
}

std::string description_of(const std::string& path) {
    TIFF* t = TIFFOpen(path.c_str(), "r");
    if (!t) return {};
    char* d = nullptr;
    TIFFGetField(t, TIFFTAG_IMAGEDESCRIPTION, &d);
    std::string s = d ? d : "";
    TIFFClose(t);
    return s;
}

bool is_bigtiff(const std::string& path) {
    char head[4] = {};
    std::ifstream(path, std::ios::binary).read(head, 4);
    return head[2] == 43 || head[3] == 43;
}

class WriteTiff : public spotflow::testing::TestDirFixture {
protected:
    std::string file(const std::string& name) const { return (dir_ / name).string(); }

    static std::string params(const std::string& file, bool bigtiff = false) {
        return nlohmann::json{{"file", file}, {"bigtiff", bigtiff}}.dump();
    }

    // Writes movie in chunks of `chunk_frames` through write.tiff.
    template <class T> void write(const std::vector<T>& movie, int64_t frames, int64_t h, int64_t w,
                                  int64_t chunk_frames, int64_t total_frames, double pixel_size_nm = 0,
                                  double frame_interval_s = 0) {
        NodeRunner node(writer, host, params("movie.tif"));
        ASSERT_TRUE(node.created()) << host.error;
        for (int64_t first = 0; first < frames; first += chunk_frames) {
            const auto p = chunk(movie, first, std::min(chunk_frames, frames - first), h, w, total_frames,
                                 pixel_size_nm, frame_interval_s);
            ASSERT_EQ(node.process(0, p->p), SPOTFLOW_OK) << host.error;
        }
        ASSERT_EQ(node.finish(), SPOTFLOW_OK) << host.error;
    }

    // Reads file back through read.tiff: the pixels and the first chunk's info.
    template <class T> std::vector<T> read_back(const std::string& path, spotflow_stream_info* info = nullptr) {
        FakeHost read_host;
        NodeRunner node(
            reader, read_host,
            nlohmann::json{
                {"path", path}, {"chunk_frames", 3}, {"pixel_size_nm", 0}, {"frame_interval_s", 0}, {"channel", 0}, {"allow_truncated", false}}
                .dump());
        if (!node.created()) {
            ADD_FAILURE() << read_host.error;
            return {};
        }
        EXPECT_EQ(node.pull_all(), SPOTFLOW_OK) << read_host.error;
        std::vector<T> all;
        for (const auto& p : node.emitted) {
            spotflow::TensorView<T> v(p->p.tensor->dl_tensor);
            all.insert(all.end(), v.data(), v.data() + v.size());
        }
        if (info && !node.emitted.empty()) *info = node.emitted[0]->p.info;
        return all;
    }

    FakeHost host{dir_};
    PluginLibrary writer_lib{PLUGIN_PATH};
    PluginLibrary reader_lib{READER_PLUGIN_PATH};
    const spotflow_plugin_desc& writer = writer_lib.plugin("write.tiff");
    const spotflow_plugin_desc& reader = reader_lib.plugin("read.tiff");
};

TEST_F(WriteTiff, DescribesItself) {
    EXPECT_STREQ(writer.kind, "writer");
    EXPECT_STREQ(writer.version, "1.0.0");
    ASSERT_EQ(writer.n_inputs, 1u);
    EXPECT_EQ(writer.n_outputs, 0u);
    EXPECT_STREQ(writer.inputs[0].name, "movie");
    EXPECT_STREQ(writer.inputs[0].type, SPOTFLOW_TYPE_MOVIE);
    const auto schema = nlohmann::json::parse(writer.params_schema);
    EXPECT_EQ(schema.at("additionalProperties"), false);
    EXPECT_EQ(schema.at("properties").at("file").at("default"), "movie.tif");
    EXPECT_EQ(schema.at("properties").at("bigtiff").at("default"), false);
}

TEST_F(WriteTiff, RoundTripsUint16InThreeChunksWithCalibration) {
    // 200 x 180 uint16 pages span two 64 KiB strips.
    const auto movie = pattern_movie<uint16_t>(10, 180, 200);
    write(movie, 10, 180, 200, 4, 10, 108, 0.05);
    spotflow_stream_info info{};
    EXPECT_EQ(read_back<uint16_t>(file("movie.tif"), &info), movie);
    EXPECT_EQ(info.total_frames, 10);
    EXPECT_NEAR(info.pixel_size_nm, 108, 1e-3);
    EXPECT_DOUBLE_EQ(info.frame_interval_s, 0.05);
    EXPECT_EQ(description_of(file("movie.tif")),
              "ImageJ=1.11a\nimages=10\nframes=10\nunit=micron\nfinterval=0.05\nloop=false\n");
    EXPECT_FALSE(is_bigtiff(file("movie.tif")));
}

TEST_F(WriteTiff, RoundTripsFloat32OfUnknownLengthAndCountsItsFrames) {
    const auto movie = pattern_movie<float>(7, 5, 6);
    write(movie, 7, 5, 6, 3, -1);
    EXPECT_EQ(read_back<float>(file("movie.tif")), movie);
    EXPECT_EQ(description_of(file("movie.tif")), "ImageJ=1.11a\nimages=7\nframes=7\nloop=false\n");
}

TEST_F(WriteTiff, WritesBigTiffOnRequest) {
    const auto movie = pattern_movie<int16_t>(3, 4, 5);
    NodeRunner node(writer, host, params("big.tif", true));
    ASSERT_TRUE(node.created()) << host.error;
    ASSERT_EQ(node.process(0, chunk(movie, 0, 3, 4, 5, 3)->p), SPOTFLOW_OK) << host.error;
    ASSERT_EQ(node.finish(), SPOTFLOW_OK) << host.error;
    EXPECT_TRUE(is_bigtiff(file("big.tif")));
    EXPECT_EQ(read_back<int16_t>(file("big.tif")), movie);
}

TEST_F(WriteTiff, SwitchesToBigTiffWhenTheAnnouncedMovieIsTooLarge) {
    // 2^20 frames of 64 x 64 uint16 would take 8 GiB; the stream stops after 2.
    const auto movie = pattern_movie<uint16_t>(2, 64, 64);
    write(movie, 2, 64, 64, 2, int64_t{1} << 20);
    EXPECT_TRUE(is_bigtiff(file("movie.tif")));
    EXPECT_EQ(read_back<uint16_t>(file("movie.tif")), movie);
    EXPECT_NE(description_of(file("movie.tif")).find("images=2\n"), std::string::npos);
    ASSERT_FALSE(host.logs.empty());
    EXPECT_NE(host.logs[0].find("writing BigTIFF"), std::string::npos) << host.logs[0];
}

TEST_F(WriteTiff, RejectsChunkOfAnotherLayout) {
    const auto a = pattern_movie<uint16_t>(2, 4, 4);
    const auto b = pattern_movie<uint16_t>(2, 4, 5);
    NodeRunner node(writer, host, params("movie.tif"));
    ASSERT_EQ(node.process(0, chunk(a, 0, 2, 4, 4, 4)->p), SPOTFLOW_OK) << host.error;
    EXPECT_EQ(node.process(0, chunk(b, 0, 2, 4, 5, 4)->p), SPOTFLOW_ERR_INVALID_ARGUMENT);
    EXPECT_EQ(host.error, "chunk at frame 0 is 5x4 uint16, but the movie began as 4x4 uint16");
}

TEST_F(WriteTiff, RejectsUnsupportedPixelType) {
    const std::vector<int64_t> movie(2 * 3 * 3, 1);
    NodeRunner node(writer, host, params("movie.tif"));
    EXPECT_EQ(node.process(0, chunk(movie, 0, 2, 3, 3, 2)->p), SPOTFLOW_ERR_UNSUPPORTED);
    EXPECT_NE(host.error.find("chunk at frame 0 is int64"), std::string::npos) << host.error;
}

TEST_F(WriteTiff, WritesNoFileForAnEmptyStream) {
    NodeRunner node(writer, host, params("movie.tif"));
    ASSERT_EQ(node.finish(), SPOTFLOW_OK) << host.error;
    EXPECT_FALSE(fs::exists(file("movie.tif")));
    ASSERT_EQ(host.logs.size(), 1u);
    EXPECT_EQ(host.logs[0], "no frames arrived; 'movie.tif' was not written");
}

} // namespace
