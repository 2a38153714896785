#include <gtest/gtest.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>

#include <nlohmann/json.hpp>

#include "plugin_harness.hpp"
#include "test_dir.hpp"

namespace fs = std::filesystem;
using namespace spotflow::testing; // the harness, ColumnType, TableBuilder, TableView

namespace {

// The header ThunderSTORM's later builds write for a 2-D fit (decode.md s.3).
const char* kHeaderXY = R"("id","frame","x [nm]","y [nm]","sigma [nm]","intensity [photon]","offset [photon]","bkgstd [photon]","uncertainty_xy [nm]")";
// The v1.3 header: "uncertainty [nm]" instead.
const char* kHeaderV13 = R"("id","frame","x [nm]","y [nm]","sigma [nm]","intensity [photon]","offset [photon]","bkgstd [photon]","uncertainty [nm]")";

class ReadThunderstorm : public spotflow::testing::TestDirFixture {
protected:

    fs::path write(const std::string& text) {
        const fs::path p = dir_ / "ts.csv";
        std::ofstream(p, std::ios::binary) << text;
        return p;
    }
    std::string params(const fs::path& p, double pixel_nm = 100, int batch = 65536) const {
        return R"({"path": ")" + p.string() + R"(", "pixel_size_nm": )" + std::to_string(pixel_nm) +
               R"(, "frame_interval_s": 0.02, "batch_rows": )" + std::to_string(batch) + "}";
    }
    // Runs the reader and returns its first batch (asserting it ran).
    std::unique_ptr<NodeRunner> run(const fs::path& p, double pixel_nm = 100) {
        auto node = std::make_unique<NodeRunner>(desc, host, params(p, pixel_nm));
        EXPECT_TRUE(node->created()) << host.error;
        if (node->created()) {
            EXPECT_EQ(node->pull_all(), SPOTFLOW_OK) << host.error;
        }
        return node;
    }

    FakeHost host{dir_};
    PluginLibrary lib{PLUGIN_PATH};
    const spotflow_plugin_desc& desc = lib.plugin("read.thunderstorm");
};

TEST_F(ReadThunderstorm, DescribesItself) {
    EXPECT_STREQ(desc.kind, "source");
    ASSERT_EQ(desc.n_outputs, 1u);
    EXPECT_STREQ(desc.outputs[0].type, SPOTFLOW_TYPE_DETECTIONS);
    const auto schema = nlohmann::json::parse(desc.params_schema);
    EXPECT_EQ(schema.at("additionalProperties"), false);
    EXPECT_EQ(schema.at("required"), nlohmann::json::array({"path", "pixel_size_nm"}));
}

// Hand-computed at 100 nm/px: x_px = x_nm / 100 - 0.5, frame - 1.
TEST_F(ReadThunderstorm, ConvertsToPixelsWithCentreOriginAndFramesFromZero) {
    const auto p = write(std::string(kHeaderXY) + "\n"
                                                  "1.0,1.0,150.0,50.0,130.0,2000.0,50.0,7.5,10.0\n"
                                                  "2.0,3.0,1275.5,12800.0,160.0,1000.5,48.0,7.0,12.5\n");
    auto node = run(p);
    ASSERT_EQ(node->emitted.size(), 1u);
    EXPECT_DOUBLE_EQ(node->emitted[0]->p.info.pixel_size_nm, 100);
    EXPECT_DOUBLE_EQ(node->emitted[0]->p.info.frame_interval_s, 0.02);
    const TableView t = node->emitted[0]->table();
    const char* names[] = {"frame", "x", "y", "photons", "background", "background_std", "sigma", "uncertainty", "id"};
    ASSERT_EQ(t.columns(), 9);
    for (int c = 0; c < 9; ++c) EXPECT_EQ(t.column_name(c), names[c]);
    EXPECT_EQ(t.column_format(0), 'l');
    EXPECT_EQ(t.column_format(8), 'l');
    ASSERT_EQ(t.rows(), 2);
    EXPECT_EQ(t.get_int(0, 0), 0);
    EXPECT_DOUBLE_EQ(t.get_double(1, 0), 1.0);
    EXPECT_DOUBLE_EQ(t.get_double(2, 0), 0.0);
    EXPECT_DOUBLE_EQ(t.get_double(3, 0), 2000.0);
    EXPECT_DOUBLE_EQ(t.get_double(4, 0), 50.0);
    EXPECT_DOUBLE_EQ(t.get_double(5, 0), 7.5);
    EXPECT_DOUBLE_EQ(t.get_double(6, 0), 1.3);
    EXPECT_DOUBLE_EQ(t.get_double(7, 0), 0.1);
    EXPECT_EQ(t.get_int(8, 0), 1);
    EXPECT_EQ(t.get_int(0, 1), 2);
    EXPECT_DOUBLE_EQ(t.get_double(1, 1), 12.255);
    EXPECT_DOUBLE_EQ(t.get_double(2, 1), 127.5);
    EXPECT_DOUBLE_EQ(t.get_double(3, 1), 1000.5);
    EXPECT_DOUBLE_EQ(t.get_double(6, 1), 1.6);
    EXPECT_DOUBLE_EQ(t.get_double(7, 1), 0.125);
}

TEST_F(ReadThunderstorm, ReadsTheV13HeaderAndChi2) {
    const auto p = write(std::string(kHeaderV13) + "\n1.0,2.0,108.0,216.0,140.4,1500.0,40.0,6.0,21.6\n");
    auto node = run(p, 108);
    const TableView t = node->emitted[0]->table();
    EXPECT_EQ(t.get_int(t.require("frame"), 0), 1);
    EXPECT_DOUBLE_EQ(t.get_double(t.require("x"), 0), 0.5);
    EXPECT_DOUBLE_EQ(t.get_double(t.require("y"), 0), 1.5);
    EXPECT_DOUBLE_EQ(t.get_double(t.require("sigma"), 0), 1.3);
    EXPECT_DOUBLE_EQ(t.get_double(t.require("uncertainty"), 0), 0.2);

    const auto q = write(R"("id","frame","x [nm]","y [nm]","sigma [nm]","intensity [photon]","offset [photon]","bkgstd [photon]","chi2","uncertainty_xy [nm]")"
                         "\n1.0,1.0,100.0,100.0,130.0,900.0,30.0,5.0,42.25,9.0\n");
    auto chi = run(q);
    const TableView u = chi->emitted[0]->table();
    EXPECT_DOUBLE_EQ(u.get_double(u.require("chi2"), 0), 42.25);
    EXPECT_EQ(u.column_name(u.columns() - 2), "chi2");
}

TEST_F(ReadThunderstorm, ConvertsPixelAndMicrometreUnitsAndDepth) {
    // ThunderSTORM's px are its nm divided by the pixel size: same corner origin.
    const auto p = write(R"("frame","x [px]","y [um]","z [um]","uncertainty_z [nm]","detections")"
                         "\n5,3.5,0.25,-0.1,35,2\n");
    auto node = run(p, 125);
    ASSERT_EQ(host.logs.size(), 1u);
    EXPECT_EQ(host.logs[0], "ignoring ThunderSTORM columns 'detections'");
    const TableView t = node->emitted[0]->table();
    ASSERT_EQ(t.columns(), 5);
    EXPECT_EQ(t.get_int(t.require("frame"), 0), 4);
    EXPECT_DOUBLE_EQ(t.get_double(t.require("x"), 0), 3.0);
    EXPECT_DOUBLE_EQ(t.get_double(t.require("y"), 0), 1.5); // 250 nm / 125 - 0.5
    EXPECT_DOUBLE_EQ(t.get_double(t.require("z_nm"), 0), -100.0);
    EXPECT_DOUBLE_EQ(t.get_double(t.require("uncertainty_z_nm"), 0), 35.0);
}

TEST_F(ReadThunderstorm, StreamsBatches) {
    std::string text = std::string(kHeaderXY) + "\n";
    for (int i = 1; i <= 7; ++i) text += std::to_string(i) + ".0," + std::to_string(i) + ".0,50,50,130,1000,10,3,9\n";
    const auto p = write(text);
    NodeRunner node(desc, host, params(p, 100, 3));
    ASSERT_TRUE(node.created()) << host.error;
    ASSERT_EQ(node.pull_all(), SPOTFLOW_OK) << host.error;
    ASSERT_EQ(node.emitted.size(), 3u);
    EXPECT_EQ(node.emitted[2]->table().rows(), 1);
    EXPECT_EQ(node.emitted[2]->table().get_int(0, 0), 6);
}

TEST_F(ReadThunderstorm, RefusesCameraCountsAndMissingPositions) {
    const auto p = write(R"("frame","x [nm]","y [nm]","intensity [ADU]")" "\n1,1,1,1\n");
    NodeRunner a(desc, host, params(p));
    EXPECT_FALSE(a.created());
    EXPECT_EQ(host.error_status, SPOTFLOW_ERR_UNSUPPORTED);
    EXPECT_EQ(host.error, "ThunderSTORM CSV '" + p.string() +
                              "': column 'intensity [ADU]' is in 'ADU', expected photon (export in photons, not camera counts)");

    const auto q = write(R"("frame","x [nm]","sigma [nm]")" "\n1,1,1\n");
    NodeRunner b(desc, host, params(q));
    EXPECT_FALSE(b.created());
    EXPECT_EQ(host.error_status, SPOTFLOW_ERR_FORMAT);
    EXPECT_EQ(host.error, "ThunderSTORM CSV '" + q.string() + "' has no 'y [nm]' column");

    const auto r = write(R"("frame","x [nm]","y [nm]","uncertainty [nm]","uncertainty_xy [nm]")" "\n1,1,1,1,1\n");
    NodeRunner c(desc, host, params(r));
    EXPECT_FALSE(c.created());
    EXPECT_EQ(host.error, "ThunderSTORM CSV '" + r.string() + "' has both 'uncertainty [nm]' and 'uncertainty_xy [nm]'");
}

TEST_F(ReadThunderstorm, BadRowsNameLineAndColumn) {
    const auto p = write(std::string(kHeaderXY) + "\n1,1,150,50,130,2000,50,7.5,10\n2,0,150,50,130,2000,50,7.5,10\n");
    NodeRunner a(desc, host, params(p));
    EXPECT_FALSE(a.created());
    EXPECT_EQ(host.error, "ThunderSTORM CSV '" + p.string() + "' line 3: frame 0 is below 1 (ThunderSTORM counts frames from 1)");

    const auto q = write(std::string(kHeaderXY) + "\n1,1,abc,50,130,2000,50,7.5,10\n");
    NodeRunner b(desc, host, params(q));
    EXPECT_FALSE(b.created());
    EXPECT_EQ(host.error, "ThunderSTORM CSV '" + q.string() + "' line 2: column 'x [nm]' holds 'abc', which is not a number");

    const auto r = write(std::string(kHeaderXY) + "\n1,1.5,1,50,130,2000,50,7.5,10\n");
    NodeRunner c(desc, host, params(r));
    EXPECT_FALSE(c.created());
    EXPECT_EQ(host.error, "ThunderSTORM CSV '" + r.string() + "' line 2: column 'frame' holds '1.5', which is not a whole number");

    const auto s = write(std::string(kHeaderXY) + "\n1,1,1,50\n");
    NodeRunner d(desc, host, params(s));
    EXPECT_FALSE(d.created());
    EXPECT_EQ(host.error, "ThunderSTORM CSV '" + s.string() + "' line 2 has 4 fields, but the header has 9");
}

TEST_F(ReadThunderstorm, MissingFileFailsAtCreate) {
    NodeRunner node(desc, host, params(dir_ / "none.csv"));
    EXPECT_FALSE(node.created());
    EXPECT_EQ(host.error_status, SPOTFLOW_ERR_IO);
    EXPECT_EQ(host.error, "cannot open CSV '" + (dir_ / "none.csv").string() + "': No such file or directory");
}

} // namespace
