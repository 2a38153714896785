#include <gtest/gtest.h>
#include <unistd.h>

#include <cstring>
#include <filesystem>
#include <fstream>

#include <nlohmann/json.hpp>

#include "plugin_harness.hpp"
#include "tiff_files.hpp"

namespace fs = std::filesystem;
using namespace read_tiff_test;
using namespace spotflow::testing; // the harness, ColumnType, TableBuilder, TableView

namespace {

std::string params(const std::string& path, int64_t chunk_frames = 16, double pixel_size_nm = 0,
                   double frame_interval_s = 0, int channel = 0, bool allow_truncated = false) {
    return nlohmann::json{{"path", path},
                          {"chunk_frames", chunk_frames},
                          {"pixel_size_nm", pixel_size_nm},
                          {"frame_interval_s", frame_interval_s},
                          {"channel", channel},
                          {"allow_truncated", allow_truncated}}
        .dump();
}

class ReadTiff : public ::testing::Test {
protected:
    void SetUp() override {
        dir_ = fs::temp_directory_path() / ("spotflow_read_tiff_" + std::to_string(getpid()) + "_" +
                                            ::testing::UnitTest::GetInstance()->current_test_info()->name());
        fs::create_directories(dir_);
    }
    void TearDown() override { fs::remove_all(dir_); }
    std::string file(const std::string& name) const { return (dir_ / name).string(); }

    // Reads the whole movie; fails the test if create or a pull fails.
    template <class T> std::vector<T> read_all(NodeRunner& node, int64_t h, int64_t w) {
        if (!node.created()) {
            ADD_FAILURE() << host.error;
            return {};
        }
        EXPECT_EQ(node.pull_all(), SPOTFLOW_OK) << host.error;
        std::vector<T> all;
        for (const auto& p : node.emitted) {
            const DLTensor& t = p->p.tensor->dl_tensor;
            EXPECT_TRUE(spotflow::same_dtype(t.dtype, spotflow::dl_dtype<T>())) << spotflow::dtype_name(t.dtype);
            EXPECT_EQ(t.ndim, 3);
            EXPECT_EQ(t.shape[1], h);
            EXPECT_EQ(t.shape[2], w);
            spotflow::TensorView<T> v(t);
            all.insert(all.end(), v.data(), v.data() + v.size());
        }
        return all;
    }

    PluginLibrary lib{PLUGIN_PATH};
    const spotflow_plugin_desc& desc = lib.plugin("read.tiff");
    FakeHost host;
    fs::path dir_;
};

TEST_F(ReadTiff, DescribesItself) {
    EXPECT_STREQ(desc.kind, "source");
    EXPECT_STREQ(desc.version, "1.0.0");
    ASSERT_EQ(desc.n_inputs, 0u);
    ASSERT_EQ(desc.n_outputs, 1u);
    EXPECT_STREQ(desc.outputs[0].name, "movie");
    EXPECT_STREQ(desc.outputs[0].type, SPOTFLOW_TYPE_MOVIE);
    EXPECT_EQ(desc.outputs[0].kind, SPOTFLOW_DATA_TENSOR);
    const auto schema = nlohmann::json::parse(desc.params_schema);
    EXPECT_EQ(schema.at("type"), "object");
    EXPECT_EQ(schema.at("additionalProperties"), false);
    EXPECT_EQ(schema.at("required"), nlohmann::json::array({"path"}));
    for (const auto& [name, prop] : schema.at("properties").items()) {
        EXPECT_TRUE(prop.contains("description")) << name;
        if (name != "path") {
            EXPECT_TRUE(prop.contains("default")) << name;
        }
    }
}

template <class T> class ReadTiffDtype : public ReadTiff {};
using Dtypes = ::testing::Types<uint8_t, uint16_t, uint32_t, int8_t, int16_t, int32_t, float, double>;
TYPED_TEST_SUITE(ReadTiffDtype, Dtypes);

TYPED_TEST(ReadTiffDtype, RoundTripsPixelsAndType) {
    const auto movie = pattern_movie<TypeParam>(3, 5, 7);
    const std::string path = this->file("movie.tif");
    write_tiff(path, movie, 3, 5, 7);
    NodeRunner node(this->desc, this->host, params(path));
    EXPECT_EQ(this->template read_all<TypeParam>(node, 5, 7), movie);
}

TEST_F(ReadTiff, ReadsBigTiff) {
    const auto movie = pattern_movie<uint16_t>(4, 6, 9);
    TiffOptions o;
    o.bigtiff = true;
    write_tiff(file("big.tif"), movie, 4, 6, 9, o);
    NodeRunner node(desc, host, params(file("big.tif")));
    EXPECT_EQ(read_all<uint16_t>(node, 6, 9), movie);
}

TEST_F(ReadTiff, ReadsBigEndianCompressedStrips) {
    const auto movie = pattern_movie<uint16_t>(3, 11, 8);
    TiffOptions o;
    o.big_endian = true;
    o.compression = COMPRESSION_LZW;
    o.rows_per_strip = 3;
    write_tiff(file("lzw.tif"), movie, 3, 11, 8, o);
    NodeRunner node(desc, host, params(file("lzw.tif")));
    EXPECT_EQ(read_all<uint16_t>(node, 11, 8), movie);
}

TEST_F(ReadTiff, ReadsTiledPagesWithPartialEdgeTiles) {
    const auto movie = pattern_movie<float>(2, 24, 40);
    TiffOptions o;
    o.tile_size = 16;
    write_tiff(file("tiled.tif"), movie, 2, 24, 40, o);
    NodeRunner node(desc, host, params(file("tiled.tif")));
    EXPECT_EQ(read_all<float>(node, 24, 40), movie);
}

TEST_F(ReadTiff, EmitsChunksWithOffsetsAndTotal) {
    write_tiff(file("ten.tif"), pattern_movie<uint16_t>(10, 4, 4), 10, 4, 4);
    NodeRunner node(desc, host, params(file("ten.tif"), 4));
    ASSERT_TRUE(node.created()) << host.error;
    for (int i = 0; i < 3; ++i) ASSERT_EQ(node.pull_once(), SPOTFLOW_OK) << host.error;
    EXPECT_EQ(node.pull_once(), SPOTFLOW_DONE);
    ASSERT_EQ(node.emitted.size(), 3u);
    const int64_t offsets[] = {0, 4, 8}, counts[] = {4, 4, 2};
    for (size_t i = 0; i < 3; ++i) {
        const spotflow_packet& p = node.emitted[i]->p;
        EXPECT_EQ(node.emitted[i]->port, 0);
        EXPECT_EQ(p.kind, SPOTFLOW_DATA_TENSOR);
        EXPECT_EQ(p.info.frame_offset, offsets[i]);
        EXPECT_EQ(p.info.frame_count, counts[i]);
        EXPECT_EQ(p.info.total_frames, 10);
        EXPECT_EQ(p.tensor->dl_tensor.shape[0], counts[i]);
        EXPECT_EQ(p.tensor->dl_tensor.device.device_type, kDLCPU);
    }
}

TEST_F(ReadTiff, TakesPixelSizeAndIntervalFromImageJDescription) {
    TiffOptions o;
    o.description = "ImageJ=1.54f\nimages=2\nframes=2\nunit=micron\nfinterval=0.05\nloop=false\n";
    o.x_resolution = static_cast<float>(1 / 0.108); // pixels per micron
    write_tiff(file("ij.tif"), pattern_movie<uint16_t>(2, 4, 4), 2, 4, 4, o);
    NodeRunner node(desc, host, params(file("ij.tif")));
    ASSERT_TRUE(node.created()) << host.error;
    ASSERT_EQ(node.pull_all(), SPOTFLOW_OK) << host.error;
    EXPECT_NEAR(node.emitted[0]->p.info.pixel_size_nm, 108, 1e-3);
    EXPECT_DOUBLE_EQ(node.emitted[0]->p.info.frame_interval_s, 0.05);
}

TEST_F(ReadTiff, TakesPixelSizeFromResolutionInCentimetres) {
    TiffOptions o;
    o.x_resolution = 50000; // pixels per cm
    o.resolution_unit = RESUNIT_CENTIMETER;
    write_tiff(file("cm.tif"), pattern_movie<uint16_t>(1, 4, 4), 1, 4, 4, o);
    NodeRunner node(desc, host, params(file("cm.tif")));
    ASSERT_TRUE(node.created()) << host.error;
    ASSERT_EQ(node.pull_all(), SPOTFLOW_OK) << host.error;
    EXPECT_NEAR(node.emitted[0]->p.info.pixel_size_nm, 200, 1e-6);
    EXPECT_EQ(node.emitted[0]->p.info.frame_interval_s, 0);
}

TEST_F(ReadTiff, LeavesPixelSizeUnknownWithoutResolution) {
    write_tiff(file("plain.tif"), pattern_movie<uint16_t>(1, 4, 4), 1, 4, 4);
    NodeRunner node(desc, host, params(file("plain.tif")));
    ASSERT_TRUE(node.created()) << host.error;
    ASSERT_EQ(node.pull_all(), SPOTFLOW_OK) << host.error;
    EXPECT_EQ(node.emitted[0]->p.info.pixel_size_nm, 0);
}

TEST_F(ReadTiff, ParamsOverrideTheFile) {
    TiffOptions o;
    o.description = "ImageJ=1.54f\nunit=micron\nfinterval=0.05\n";
    o.x_resolution = 10;
    write_tiff(file("ij.tif"), pattern_movie<uint16_t>(1, 4, 4), 1, 4, 4, o);
    NodeRunner node(desc, host, params(file("ij.tif"), 16, 65, 0.1, 2));
    ASSERT_TRUE(node.created()) << host.error;
    ASSERT_EQ(node.pull_all(), SPOTFLOW_OK) << host.error;
    EXPECT_EQ(node.emitted[0]->p.info.pixel_size_nm, 65);
    EXPECT_EQ(node.emitted[0]->p.info.frame_interval_s, 0.1);
    EXPECT_EQ(node.emitted[0]->p.info.channel, 2);
}

TEST_F(ReadTiff, ReportsMissingFile) {
    const std::string path = file("absent.tif");
    NodeRunner node(desc, host, params(path));
    EXPECT_FALSE(node.created());
    EXPECT_EQ(host.error_status, SPOTFLOW_ERR_IO);
    EXPECT_EQ(host.error, "cannot open movie '" + path + "': No such file or directory");
}

TEST_F(ReadTiff, ReportsFileThatIsNotAnImage) {
    std::ofstream(file("notes.txt")) << "not pixels\n";
    NodeRunner node(desc, host, params(file("notes.txt")));
    EXPECT_FALSE(node.created());
    EXPECT_EQ(host.error_status, SPOTFLOW_ERR_FORMAT);
    EXPECT_NE(host.error.find("cannot read movie '" + file("notes.txt") + "'"), std::string::npos) << host.error;
    EXPECT_NE(host.error.find("not a TIFF file"), std::string::npos) << host.error;
}

TEST_F(ReadTiff, ReportsTruncatedPageWhenReadingIt) {
    const uint32_t h = 6, w = 5;
    write_ifd_first_tiff(file("cut.tif"), pattern_movie<uint16_t>(4, h, w), 4, h, w);
    // Cut page 2 in the middle of its pixels.
    fs::resize_file(file("cut.tif"), 8 + 2 * ifd_first_page_bytes(h, w) + ifd_first_page_bytes(h, w) - h * w);
    // The cut also breaks the page chain; allow that, to reach the page.
    NodeRunner node(desc, host, params(file("cut.tif"), 1, 0, 0, 0, true));
    ASSERT_TRUE(node.created()) << host.error;
    EXPECT_EQ(node.pull_once(), SPOTFLOW_OK) << host.error;
    EXPECT_EQ(node.pull_once(), SPOTFLOW_OK) << host.error;
    EXPECT_EQ(node.pull_once(), SPOTFLOW_ERR_FORMAT);
    EXPECT_EQ(host.error_status, SPOTFLOW_ERR_FORMAT);
    // Found by the declared-size check before libtiff reads the cut strip.
    EXPECT_NE(host.error.find("page 2 of movie '" + file("cut.tif") + "' declares pixel data at bytes"), std::string::npos)
        << host.error;
    EXPECT_EQ(host.error.find('\n'), std::string::npos);
}

TEST_F(ReadTiff, BrokenPageChainFailsUnlessTruncationIsAllowed) {
    const std::string path = file("half.tif");
    write_tiff(path, pattern_movie<uint16_t>(10, 8, 8), 10, 8, 8);
    fs::resize_file(path, fs::file_size(path) / 2);
    {
        NodeRunner node(desc, host, params(path));
        EXPECT_FALSE(node.created());
        EXPECT_EQ(host.error_status, SPOTFLOW_ERR_FORMAT);
        EXPECT_NE(host.error.find("movie '" + path + "' is truncated or corrupt after page "), std::string::npos)
            << host.error;
        EXPECT_NE(host.error.find("set allow_truncated"), std::string::npos) << host.error;
    }
    host.error.clear();
    NodeRunner node(desc, host, params(path, 16, 0, 0, 0, true));
    ASSERT_TRUE(node.created()) << host.error;
    ASSERT_EQ(host.logs.size(), 1u);
    EXPECT_NE(host.logs[0].find("reading the"), std::string::npos) << host.logs[0];
}

TEST_F(ReadTiff, ReportsRgbAsUnsupported) {
    TiffOptions o;
    o.samples = 3;
    write_tiff(file("rgb.tif"), std::vector<uint8_t>(3 * 4 * 4 * 3, 7), 3, 4, 4, o);
    NodeRunner node(desc, host, params(file("rgb.tif")));
    EXPECT_FALSE(node.created());
    EXPECT_EQ(host.error_status, SPOTFLOW_ERR_UNSUPPORTED);
    EXPECT_NE(host.error.find("page 0 of movie '" + file("rgb.tif") + "' has 3 samples per pixel"), std::string::npos)
        << host.error;
}

TEST_F(ReadTiff, ReportsPageOfAnotherSize) {
    const std::string path = file("mixed.tif");
    write_tiff(path, pattern_movie<uint16_t>(2, 4, 4), 2, 4, 4);
    // Append a third page of another size.
    TIFF* tif = TIFFOpen(path.c_str(), "a");
    ASSERT_NE(tif, nullptr);
    std::vector<uint16_t> page(5 * 4);
    TIFFSetField(tif, TIFFTAG_IMAGEWIDTH, 5u);
    TIFFSetField(tif, TIFFTAG_IMAGELENGTH, 4u);
    TIFFSetField(tif, TIFFTAG_BITSPERSAMPLE, uint16_t{16});
    TIFFSetField(tif, TIFFTAG_PHOTOMETRIC, PHOTOMETRIC_MINISBLACK);
    TIFFWriteEncodedStrip(tif, 0, page.data(), static_cast<tmsize_t>(page.size() * 2));
    TIFFClose(tif);

    NodeRunner node(desc, host, params(path, 2));
    ASSERT_TRUE(node.created()) << host.error;
    EXPECT_EQ(node.pull_once(), SPOTFLOW_OK) << host.error;
    EXPECT_EQ(node.pull_once(), SPOTFLOW_ERR_FORMAT);
    EXPECT_EQ(host.error, "page 2 of movie '" + path + "' is 5x4 pixels, but page 0 is 4x4");
}

// Non-TIFF formats go through ITK; these headers are written by hand.
TEST_F(ReadTiff, ReadsMetaImageStack) {
    const auto movie = pattern_movie<uint16_t>(3, 4, 5);
    std::ofstream f(file("stack.mha"), std::ios::binary);
    f << "ObjectType = Image\nNDims = 3\nDimSize = 5 4 3\nElementType = MET_USHORT\n"
         "ElementByteOrderMSB = False\nElementDataFile = LOCAL\n";
    f.write(reinterpret_cast<const char*>(movie.data()), static_cast<std::streamsize>(movie.size() * 2));
    f.close();
    NodeRunner node(desc, host, params(file("stack.mha"), 2));
    EXPECT_EQ(read_all<uint16_t>(node, 4, 5), movie);
    ASSERT_EQ(node.emitted.size(), 2u);
    EXPECT_EQ(node.emitted[1]->p.info.frame_offset, 2);
    EXPECT_EQ(node.emitted[1]->p.info.total_frames, 3);
}

TEST_F(ReadTiff, ReadsTwoDimensionalNrrdAsOneFrame) {
    const auto movie = pattern_movie<int16_t>(1, 3, 6);
    std::ofstream f(file("image.nrrd"), std::ios::binary);
    f << "NRRD0004\ntype: int16\ndimension: 2\nsizes: 6 3\nencoding: raw\nendian: little\n\n";
    f.write(reinterpret_cast<const char*>(movie.data()), static_cast<std::streamsize>(movie.size() * 2));
    f.close();
    NodeRunner node(desc, host, params(file("image.nrrd")));
    EXPECT_EQ(read_all<int16_t>(node, 3, 6), movie);
}

TEST_F(ReadTiff, ReportsItkFailureOnOneLine) {
    // (A header, not short pixel data: ITK 5.2's NRRD reader leaks on that
    // path, which would fail the sanitizer build.)
    std::ofstream(file("bad.nrrd")) << "NRRD0004\ntype: bogus\ndimension: 3\nsizes: 5 4 3\nencoding: raw\n\n";
    NodeRunner node(desc, host, params(file("bad.nrrd")));
    EXPECT_FALSE(node.created());
    EXPECT_EQ(host.error_status, SPOTFLOW_ERR_FORMAT);
    EXPECT_EQ(host.error.rfind("cannot read movie '" + file("bad.nrrd") + "': ", 0), 0u) << host.error;
    EXPECT_NE(host.error.find("couldn't parse type \"bogus\""), std::string::npos) << host.error;
    EXPECT_EQ(host.error.find('\n'), std::string::npos) << host.error;
}

} // namespace
