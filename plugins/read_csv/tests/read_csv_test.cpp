#include <gtest/gtest.h>
#include <unistd.h>

#include <array>
#include <cmath>
#include <filesystem>
#include <fstream>
#include <random>

#include <nlohmann/json.hpp>

#include "plugin_harness.hpp"
#include "test_dir.hpp"

namespace fs = std::filesystem;
using namespace spotflow::testing; // the harness, ColumnType, TableBuilder, TableView

namespace {

class ReadCsv : public spotflow::testing::TestDirFixture {
protected:

    fs::path write(const std::string& name, const std::string& text) {
        const fs::path p = dir_ / name;
        std::ofstream(p, std::ios::binary) << text;
        return p;
    }
    std::string params(const fs::path& p, const std::string& extra = "") const {
        return R"({"path": ")" + p.string() + R"(", "batch_rows": 65536, "pixel_size_nm": 0, "frame_interval_s": 0)" +
               (extra.empty() ? R"(, "columns": [])" : extra) + "}";
    }

    FakeHost host{dir_};
    PluginLibrary lib{PLUGIN_PATH};
};

std::string format_of(const TableView& t, const char* name) {
    return std::string(1, t.column_format(t.require(name)));
}

TEST_F(ReadCsv, DescribesThreeTableTypes) {
    const char* ids[] = {"read.csv", "read.tracks_csv", "read.detections_csv"};
    const char* types[] = {SPOTFLOW_TYPE_TABLE, SPOTFLOW_TYPE_TRACKS, SPOTFLOW_TYPE_DETECTIONS};
    for (int i = 0; i < 3; ++i) {
        const auto& d = lib.plugin(ids[i]);
        EXPECT_STREQ(d.kind, "source");
        ASSERT_EQ(d.n_outputs, 1u);
        EXPECT_STREQ(d.outputs[0].type, types[i]);
        const auto schema = nlohmann::json::parse(d.params_schema);
        EXPECT_EQ(schema.at("additionalProperties"), false);
        EXPECT_EQ(schema.at("required"), nlohmann::json::array({"path"}));
        for (const auto& [name, prop] : schema.at("properties").items()) {
            EXPECT_TRUE(prop.contains("description")) << name;
            if (name != "path") {
                EXPECT_TRUE(prop.contains("default")) << name;
            }
        }
    }
}

TEST_F(ReadCsv, InfersColumnTypesAndReadsNullsAndQuotedFields) {
    const auto p = write("a.csv", "id,value,label,empty,mixed\n"
                                  "1,1.5,\"a,b\",,7\n"
                                  "-2,,\"say \"\"hi\"\"\",,x\n"
                                  "3,1e-3,\"two\nlines\",,\n");
    NodeRunner node(lib.plugin("read.csv"), host, params(p));
    ASSERT_TRUE(node.created()) << host.error;
    ASSERT_EQ(node.pull_all(), SPOTFLOW_OK) << host.error;
    ASSERT_EQ(node.emitted.size(), 1u);
    const TableView t = node.emitted[0]->table();
    ASSERT_EQ(t.rows(), 3);
    EXPECT_EQ(format_of(t, "id"), "l");
    EXPECT_EQ(format_of(t, "value"), "g");
    EXPECT_EQ(format_of(t, "label"), "u");
    EXPECT_EQ(format_of(t, "empty"), "g"); // no value at all: float64, every row null
    EXPECT_EQ(format_of(t, "mixed"), "u");
    EXPECT_EQ(t.get_int(0, 1), -2);
    EXPECT_DOUBLE_EQ(t.get_double(1, 0), 1.5);
    EXPECT_TRUE(t.is_null(1, 1));
    EXPECT_DOUBLE_EQ(t.get_double(1, 2), 1e-3);
    EXPECT_EQ(t.get_string(2, 0), "a,b");
    EXPECT_EQ(t.get_string(2, 1), "say \"hi\"");
    EXPECT_EQ(t.get_string(2, 2), "two\nlines");
    for (int r = 0; r < 3; ++r) EXPECT_TRUE(t.is_null(3, r));
    EXPECT_EQ(t.get_string(4, 0), "7");
    EXPECT_TRUE(t.is_null(4, 2));
}

TEST_F(ReadCsv, StreamsBatchesWithOneSchemaAndCalibration) {
    std::string text = "frame,x\n";
    for (int i = 0; i < 5; ++i) text += std::to_string(i) + "," + std::to_string(i) + ".25\n";
    const auto p = write("b.csv", text);
    NodeRunner node(lib.plugin("read.csv"), host,
                    R"({"path": ")" + p.string() +
                        R"(", "batch_rows": 2, "pixel_size_nm": 108, "frame_interval_s": 0.05, "columns": []})");
    ASSERT_TRUE(node.created()) << host.error;
    ASSERT_EQ(node.pull_all(), SPOTFLOW_OK) << host.error;
    ASSERT_EQ(node.emitted.size(), 3u);
    int64_t row = 0;
    for (const auto& b : node.emitted) {
        EXPECT_DOUBLE_EQ(b->p.info.pixel_size_nm, 108);
        EXPECT_DOUBLE_EQ(b->p.info.frame_interval_s, 0.05);
        const TableView t = b->table();
        EXPECT_EQ(format_of(t, "frame"), "l");
        EXPECT_EQ(format_of(t, "x"), "g");
        for (int64_t r = 0; r < t.rows(); ++r, ++row) {
            EXPECT_EQ(t.get_int(0, r), row);
            EXPECT_DOUBLE_EQ(t.get_double(1, r), static_cast<double>(row) + 0.25);
        }
    }
    EXPECT_EQ(row, 5);
}

TEST_F(ReadCsv, KeepsSelectedColumnsInTheGivenOrder) {
    const auto p = write("c.csv", "a,b,c\n1,2,3\n");
    NodeRunner node(lib.plugin("read.csv"), host, params(p, R"(, "columns": ["c", "a"])"));
    ASSERT_TRUE(node.created()) << host.error;
    ASSERT_EQ(node.pull_all(), SPOTFLOW_OK) << host.error;
    const TableView t = node.emitted[0]->table();
    ASSERT_EQ(t.columns(), 2);
    EXPECT_EQ(t.column_name(0), "c");
    EXPECT_EQ(t.column_name(1), "a");
    EXPECT_EQ(t.get_int(0, 0), 3);
}

TEST_F(ReadCsv, HeaderOnlyFileSendsOneEmptyBatch) {
    const auto p = write("h.csv", "\xEF\xBB\xBF" "frame,x,y,track_id\n");
    NodeRunner node(lib.plugin("read.tracks_csv"), host, params(p));
    ASSERT_TRUE(node.created()) << host.error;
    ASSERT_EQ(node.pull_all(), SPOTFLOW_OK) << host.error;
    ASSERT_EQ(node.emitted.size(), 1u);
    const TableView t = node.emitted[0]->table();
    EXPECT_EQ(t.rows(), 0);
    EXPECT_EQ(t.column_name(0), "frame"); // the byte-order mark is not part of the name
    EXPECT_EQ(format_of(t, "frame"), "l");
    EXPECT_EQ(format_of(t, "track_id"), "l");
}

TEST_F(ReadCsv, TracksKeepIntegerIdsAndAllowMissingPositions) {
    const auto p = write("t.csv", "frame,x,y,photons,track_id\n0,1,2,2000,7\n1,,,1990,7\n\n2,3.5,4,2010,7\n");
    NodeRunner node(lib.plugin("read.tracks_csv"), host, params(p));
    ASSERT_TRUE(node.created()) << host.error;
    ASSERT_EQ(node.pull_all(), SPOTFLOW_OK) << host.error;
    const TableView t = node.emitted[0]->table();
    ASSERT_EQ(t.rows(), 3); // the blank line is not a row
    EXPECT_EQ(format_of(t, "x"), "g"); // fixed float64 though "1" parses as an integer
    EXPECT_EQ(format_of(t, "photons"), "l");
    EXPECT_TRUE(t.is_null(t.require("x"), 1));
    EXPECT_DOUBLE_EQ(t.get_double(t.require("x"), 2), 3.5);
    EXPECT_EQ(t.get_int(t.require("track_id"), 2), 7);
}

// write.csv then read.tracks_csv gives back every value bit for bit.
TEST_F(ReadCsv, RoundTripsThroughWriteCsv) {
    std::mt19937_64 rng(7);
    std::uniform_real_distribution<double> pos(-0.5, 255.5);
    TableBuilder b;
    const auto f = b.add_column("frame", ColumnType::Int64);
    const auto x = b.add_column("x", ColumnType::Float64);
    const auto y = b.add_column("y", ColumnType::Float64);
    const auto n = b.add_column("photons", ColumnType::Float64);
    const auto id = b.add_column("track_id", ColumnType::Int64);
    std::vector<std::array<double, 5>> rows;
    for (int i = 0; i < 1000; ++i) {
        const std::array<double, 5> r{double(i % 100), pos(rng), pos(rng), 2000 * pos(rng) / 256, double(i / 100)};
        rows.push_back(r);
        b.append_int(f, static_cast<int64_t>(r[0]));
        b.append_double(x, r[1]);
        b.append_double(y, r[2]);
        b.append_double(n, r[3]);
        b.append_int(id, static_cast<int64_t>(r[4]));
    }
    {
        PluginLibrary writer_lib(WRITE_CSV_PATH);
        NodeRunner writer(writer_lib.plugin("write.csv"), host, R"({"file": "truth.csv", "columns": []})");
        ASSERT_TRUE(writer.created()) << host.error;
        OwnedPacket packet;
        packet.p.kind = SPOTFLOW_DATA_TABLE;
        b.finish(&packet.p.schema, &packet.p.array);
        ASSERT_EQ(writer.process(0, packet.p), SPOTFLOW_OK) << host.error;
        ASSERT_EQ(writer.finish(), SPOTFLOW_OK) << host.error;
    }
    NodeRunner node(lib.plugin("read.tracks_csv"), host,
                    R"({"path": ")" + (dir_ / "truth.csv").string() +
                        R"(", "batch_rows": 300, "pixel_size_nm": 0, "frame_interval_s": 0, "columns": []})");
    ASSERT_TRUE(node.created()) << host.error;
    ASSERT_EQ(node.pull_all(), SPOTFLOW_OK) << host.error;
    size_t i = 0;
    for (const auto& batch : node.emitted) {
        const TableView t = batch->table();
        for (int64_t r = 0; r < t.rows(); ++r, ++i) {
            ASSERT_LT(i, rows.size());
            EXPECT_EQ(t.get_int(0, r), static_cast<int64_t>(rows[i][0]));
            EXPECT_EQ(t.get_double(1, r), rows[i][1]);
            EXPECT_EQ(t.get_double(2, r), rows[i][2]);
            EXPECT_EQ(t.get_double(3, r), rows[i][3]);
            EXPECT_EQ(t.get_int(4, r), static_cast<int64_t>(rows[i][4]));
        }
    }
    EXPECT_EQ(i, rows.size());
}

TEST_F(ReadCsv, MissingFileFailsAtCreate) {
    NodeRunner node(lib.plugin("read.csv"), host, params(dir_ / "nope.csv"));
    EXPECT_FALSE(node.created());
    EXPECT_EQ(host.error_status, SPOTFLOW_ERR_IO);
    EXPECT_EQ(host.error, "cannot open CSV '" + (dir_ / "nope.csv").string() + "': No such file or directory");
}

TEST_F(ReadCsv, RaggedRowNamesItsLine) {
    // The quoted field spans lines 2-3, so the short row starts on line 5.
    const auto p = write("r.csv", "a,b\n\"x\ny\",1\n2,3\n4\n");
    NodeRunner node(lib.plugin("read.csv"), host, params(p));
    EXPECT_FALSE(node.created());
    EXPECT_EQ(host.error_status, SPOTFLOW_ERR_FORMAT);
    EXPECT_EQ(host.error, "CSV '" + p.string() + "' line 5 has 1 fields, but the header has 2");
}

TEST_F(ReadCsv, UnparsableNumberInTypedColumnNamesLineAndColumn) {
    const auto p = write("u.csv", "frame,x,y,track_id\n0,1,2,0\n1.5,1,2,0\n");
    NodeRunner node(lib.plugin("read.tracks_csv"), host, params(p));
    EXPECT_FALSE(node.created());
    EXPECT_EQ(host.error_status, SPOTFLOW_ERR_FORMAT);
    EXPECT_EQ(host.error, "CSV '" + p.string() + "' line 3: column 'frame' holds '1.5', which is not an integer");

    const auto q = write("v.csv", "frame,x,y\n0,abc,2\n");
    NodeRunner det(lib.plugin("read.detections_csv"), host, params(q));
    EXPECT_FALSE(det.created());
    EXPECT_EQ(host.error, "CSV '" + q.string() + "' line 2: column 'x' holds 'abc', which is not a number");
}

TEST_F(ReadCsv, EmptyIdIsAnError) {
    const auto p = write("e.csv", "frame,x,y,track_id\n0,1,2,\n");
    NodeRunner node(lib.plugin("read.tracks_csv"), host, params(p));
    EXPECT_FALSE(node.created());
    EXPECT_EQ(host.error, "CSV '" + p.string() + "' line 2: column 'track_id' is empty; it needs a value");
}

TEST_F(ReadCsv, MissingRequiredColumnIsNamed) {
    const auto p = write("m.csv", "frame,x,y,photons\n0,1,2,3\n");
    NodeRunner node(lib.plugin("read.tracks_csv"), host, params(p));
    EXPECT_FALSE(node.created());
    EXPECT_EQ(host.error_status, SPOTFLOW_ERR_FORMAT);
    EXPECT_EQ(host.error,
              "CSV '" + p.string() + "' lacks column 'track_id' (a tracks table needs frame, x, y, track_id)");
}

TEST_F(ReadCsv, SelectedColumnMustExist) {
    const auto p = write("s.csv", "a,b\n1,2\n");
    NodeRunner node(lib.plugin("read.csv"), host, params(p, R"(, "columns": ["a", "zz"])"));
    EXPECT_FALSE(node.created());
    EXPECT_EQ(host.error_status, SPOTFLOW_ERR_INVALID_ARGUMENT);
    EXPECT_EQ(host.error, "param columns names 'zz', which CSV '" + p.string() + "' lacks (it has a, b)");

    const auto q = write("d.csv", "frame,x,y\n0,1,2\n");
    NodeRunner det(lib.plugin("read.detections_csv"), host, params(q, R"(, "columns": ["frame", "x"])"));
    EXPECT_FALSE(det.created());
    EXPECT_EQ(host.error, "param columns must keep 'y' (a detections table needs frame, x, y)");
}

TEST_F(ReadCsv, EmptyFileAndBadQuotesAreFormatErrors) {
    const auto p = write("empty.csv", "");
    NodeRunner a(lib.plugin("read.csv"), host, params(p));
    EXPECT_FALSE(a.created());
    EXPECT_EQ(host.error, "CSV '" + p.string() + "' is empty: a header line is required");

    const auto q = write("q.csv", "a,b\n1,\"open\n");
    NodeRunner b(lib.plugin("read.csv"), host, params(q));
    EXPECT_FALSE(b.created());
    EXPECT_EQ(host.error, "CSV '" + q.string() + "' line 2: a quoted field is not closed");

    const auto r = write("dup.csv", "a,a\n1,2\n");
    NodeRunner c(lib.plugin("read.csv"), host, params(r));
    EXPECT_FALSE(c.created());
    EXPECT_EQ(host.error, "CSV '" + r.string() + "': column 'a' appears twice in the header");
}

} // namespace

namespace {

// Phy's cluster_group.tsv (seed 004): a tab-separated file, chosen by its
// extension with the default delimiter "auto", or named explicitly.
TEST_F(ReadCsv, ReadsATabSeparatedFile) {
    const fs::path p = write("cluster_group.tsv", "cluster_id\tgroup\n0\tgood\n1\tmua\n2\tnoise\n");
    for (const char* d : {R"(, "columns": [], "delimiter": "auto")", R"(, "columns": [], "delimiter": "\t")"}) {
        NodeRunner node(lib.plugin("read.csv"), host, params(p, d));
        ASSERT_TRUE(node.created()) << host.error;
        ASSERT_EQ(node.pull_all(), SPOTFLOW_OK) << host.error;
        ASSERT_EQ(node.emitted.size(), 1u);
        const TableView t = node.emitted[0]->table();
        ASSERT_EQ(t.columns(), 2);
        ASSERT_EQ(t.rows(), 3);
        EXPECT_EQ(format_of(t, "cluster_id"), "l");
        EXPECT_EQ(t.get_string(t.require("group"), 1), "mua");
    }
    // The same file read as a comma-separated one is one column.
    NodeRunner comma(lib.plugin("read.csv"), host, params(p, R"(, "columns": [], "delimiter": ",")"));
    ASSERT_EQ(comma.pull_all(), SPOTFLOW_OK) << host.error;
    EXPECT_EQ(comma.emitted[0]->table().columns(), 1);
}

} // namespace
