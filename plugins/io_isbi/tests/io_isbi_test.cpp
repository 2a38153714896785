#include <gtest/gtest.h>
#include <unistd.h>

#include <cmath>
#include <filesystem>
#include <fstream>
#include <map>
#include <random>
#include <tuple>

#include <nlohmann/json.hpp>
#include <pugixml.hpp>

#include "plugin_harness.hpp"
#include "tracks_table.hpp"
#include "test_dir.hpp"

namespace fs = std::filesystem;
using namespace spotflow::testing; // the harness, ColumnType, TableBuilder, TableView

namespace {

struct Point {
    int64_t frame;
    double x, y;
    int64_t track;
};

class IoIsbi : public spotflow::testing::TestDirFixture {
protected:

    fs::path write(const std::string& text) {
        const fs::path p = dir_ / "in.xml";
        std::ofstream(p, std::ios::binary) << text;
        return p;
    }
    std::string read_params(const fs::path& p, int batch = 65536) const {
        return R"({"path": ")" + p.string() + R"(", "batch_rows": )" + std::to_string(batch) +
               R"(, "pixel_size_nm": 0, "frame_interval_s": 0})";
    }
    std::vector<Point> read_all(const fs::path& p, int batch = 65536) {
        NodeRunner node(lib.plugin("read.isbi_xml"), host, read_params(p, batch));
        EXPECT_TRUE(node.created()) << host.error;
        std::vector<Point> out;
        if (!node.created()) return out;
        EXPECT_EQ(node.pull_all(), SPOTFLOW_OK) << host.error;
        for (const auto& b : node.emitted) {
            const TableView t = b->table();
            EXPECT_EQ(t.column_name(4), "track_id");
            for (int64_t r = 0; r < t.rows(); ++r)
                out.push_back({t.get_int(0, r), t.get_double(1, r), t.get_double(2, r), t.get_int(4, r)});
        }
        return out;
    }

    FakeHost host{dir_};
    PluginLibrary lib{PLUGIN_PATH};
};

// The points as a tracks table; with_gap_row adds a frame the first track bridges (no position).
std::unique_ptr<OwnedPacket> tracks_packet(const std::vector<Point>& points, bool with_gap_row) {
    std::vector<TrackPoint> rows;
    for (const Point& p : points) rows.push_back({p.frame, p.x, p.y, p.track});
    if (with_gap_row) rows.push_back({99, std::nullopt, std::nullopt, points.front().track});
    return spotflow::testing::tracks_packet(rows);
}

TEST_F(IoIsbi, DescribesReaderAndWriter) {
    const auto& r = lib.plugin("read.isbi_xml");
    EXPECT_STREQ(r.kind, "source");
    EXPECT_STREQ(r.outputs[0].type, SPOTFLOW_TYPE_TRACKS);
    const auto& w = lib.plugin("write.isbi_xml");
    EXPECT_STREQ(w.kind, "writer");
    EXPECT_STREQ(w.inputs[0].type, SPOTFLOW_TYPE_TRACKS);
    for (const auto* d : {&r, &w}) {
        const auto schema = nlohmann::json::parse(d->params_schema);
        EXPECT_EQ(schema.at("additionalProperties"), false);
        for (const auto& [name, prop] : schema.at("properties").items()) EXPECT_TRUE(prop.contains("description"));
    }
}

// write.isbi_xml then read.isbi_xml recovers every point bit for bit.
TEST_F(IoIsbi, RoundTripsEveryPoint) {
    std::mt19937_64 rng(3);
    std::uniform_real_distribution<double> pos(-0.5, 511.5);
    std::vector<Point> points;
    const int64_t ids[] = {40, 3, 17, 1000000007};
    for (int64_t k = 0; k < 4; ++k)
        for (int64_t f = 0; f < 50; ++f)
            if ((f + k) % 7) points.push_back({f, pos(rng), pos(rng), ids[k]}); // gaps every 7th frame
    std::shuffle(points.begin(), points.end(), rng); // rows need not arrive in order

    NodeRunner writer(lib.plugin("write.isbi_xml"), host,
                      R"({"file": "tracks_isbi.xml", "snr": "4", "density": "mid", "scenario": "VIRUS"})");
    ASSERT_TRUE(writer.created()) << host.error;
    const size_t half = points.size() / 2;
    ASSERT_EQ(writer.process(0, tracks_packet({points.begin(), points.begin() + half}, true)->p), SPOTFLOW_OK)
        << host.error;
    ASSERT_EQ(writer.process(0, tracks_packet({points.begin() + half, points.end()}, false)->p), SPOTFLOW_OK)
        << host.error;
    ASSERT_EQ(writer.finish(), SPOTFLOW_OK) << host.error;
    ASSERT_EQ(host.logs.back(), "1 rows without a position (gaps) are not written");

    // The document itself, as the challenge's scorer reads it.
    pugi::xml_document doc;
    ASSERT_TRUE(doc.load_file((dir_ / "tracks_isbi.xml").c_str()));
    const pugi::xml_node contest = doc.child("root").child("TrackContestISBI2012");
    ASSERT_TRUE(contest);
    EXPECT_STREQ(contest.attribute("SNR").value(), "4");
    EXPECT_STREQ(contest.attribute("density").value(), "mid");
    EXPECT_STREQ(contest.attribute("scenario").value(), "VIRUS");
    EXPECT_EQ(std::distance(contest.children("particle").begin(), contest.children("particle").end()), 4);
    const pugi::xml_node first = contest.child("particle").child("detection");
    for (const char* a : {"t", "x", "y", "z"}) EXPECT_TRUE(first.attribute(a)) << a;

    // Particles come in track-id order, so particle k is the k-th smallest id.
    std::map<int64_t, int64_t> particle_of;
    for (const int64_t id : {3, 40, 17, 1000000007}) particle_of[id] = 0;
    int64_t k = 0;
    for (auto& [id, index] : particle_of) index = k++;
    std::vector<Point> expected = points;
    for (Point& p : expected) p.track = particle_of[p.track];
    auto key = [](const Point& p) { return std::make_tuple(p.track, p.frame); };
    std::sort(expected.begin(), expected.end(), [&](const Point& a, const Point& b) { return key(a) < key(b); });

    const std::vector<Point> got = read_all(dir_ / "tracks_isbi.xml", 64);
    ASSERT_EQ(got.size(), expected.size());
    for (size_t i = 0; i < got.size(); ++i) {
        EXPECT_EQ(got[i].frame, expected[i].frame);
        EXPECT_EQ(got[i].x, expected[i].x);
        EXPECT_EQ(got[i].y, expected[i].y);
        EXPECT_EQ(got[i].track, expected[i].track);
    }
}

TEST_F(IoIsbi, TrimsNanAtEndsAndDropsTracksWithNanInside) {
    const auto p = write(R"(<?xml version="1.0" encoding="UTF-8"?>
<root>
  <TrackContestISBI2012 SNR="7" density="low" scenario="VESICLE">
    <particle>
      <detection t="0" x="NaN" y="NaN" z="0"/>
      <detection t="1" x="10.5" y="20.25" z="0"/>
      <detection t="2" x="11" y="21" z="0"/>
      <detection t="3" x="NaN" y="NaN" z="0"/>
    </particle>
    <particle>
      <detection t="5" x="1" y="1" z="0"/>
      <detection t="6" x="NaN" y="2" z="0"/>
      <detection t="7" x="3" y="3" z="0"/>
    </particle>
    <particle>
      <detection t="0" x="NaN" y="NaN" z="0"/>
    </particle>
    <particle>
      <detection t="9" x="5" y="6" z="0"/>
      <detection t="8" x="4" y="5" z="0"/>
    </particle>
  </TrackContestISBI2012>
</root>
)");
    const std::vector<Point> got = read_all(p);
    ASSERT_EQ(host.logs.size(), 1u);
    EXPECT_EQ(host.logs[0], "ISBI XML '" + p.string() +
                                "': trimmed 3 NaN detections at particle ends; dropped 1 particles with NaN between "
                                "valid detections (particle 1); skipped 1 particles without a valid detection");
    ASSERT_EQ(got.size(), 4u);
    EXPECT_EQ(got[0].frame, 1);
    EXPECT_EQ(got[0].x, 10.5);
    EXPECT_EQ(got[0].y, 20.25);
    EXPECT_EQ(got[0].track, 0);
    EXPECT_EQ(got[1].frame, 2);
    EXPECT_EQ(got[2].frame, 8); // sorted by t
    EXPECT_EQ(got[2].track, 3); // the particle's index in the file
    EXPECT_EQ(got[3].frame, 9);
}

TEST_F(IoIsbi, ReaderErrorsNameFileAndLine) {
    NodeRunner missing(lib.plugin("read.isbi_xml"), host, read_params(dir_ / "none.xml"));
    EXPECT_FALSE(missing.created());
    EXPECT_EQ(host.error_status, SPOTFLOW_ERR_IO);
    EXPECT_EQ(host.error, "cannot open ISBI XML '" + (dir_ / "none.xml").string() + "': No such file or directory");

    const std::string head = "<root>\n<TrackContestISBI2012>\n<particle>\n";
    const std::string tail = "</particle>\n</TrackContestISBI2012>\n</root>\n";
    struct Case {
        std::string body, error;
    } cases[] = {
        {"<detection t=\"0\" x=\"1\" y=\"1\" z=\"0\"/>\n<detection t=\"-1\" x=\"1\" y=\"1\" z=\"0\"/>\n",
         "line 5: t=\"-1\" is not a frame (an integer >= 0)"},
        {"<detection t=\"0\" x=\"abc\" y=\"1\" z=\"0\"/>\n", "line 4: x=\"abc\" is not a number"},
        {"<detection t=\"0\" y=\"1\"/>\n", "line 4: <detection> has no x attribute"},
        {"<detection t=\"2\" x=\"1\" y=\"1\"/>\n<detection t=\"2\" x=\"1\" y=\"1\"/>\n",
         "line 3: particle 0 has two detections at t=2"},
        {"<detection t=\"0\" x=\"1\" y=\"1\">\n", "line 5: not well-formed XML (Start-end tags mismatch)"},
    };
    for (const Case& c : cases) {
        const auto p = write(head + c.body + tail);
        NodeRunner node(lib.plugin("read.isbi_xml"), host, read_params(p));
        EXPECT_FALSE(node.created()) << c.body;
        EXPECT_EQ(host.error_status, SPOTFLOW_ERR_FORMAT);
        EXPECT_EQ(host.error, "ISBI XML '" + p.string() + "' " + c.error);
    }

    const auto p = write("<root><tracks/></root>");
    NodeRunner node(lib.plugin("read.isbi_xml"), host, read_params(p));
    EXPECT_FALSE(node.created());
    EXPECT_EQ(host.error, "ISBI XML '" + p.string() + "' has no <root><TrackContestISBI2012> element");
}

TEST_F(IoIsbi, WriterRefusesTwoPointsInOneFrameAndMissingColumns) {
    NodeRunner writer(lib.plugin("write.isbi_xml"), host, R"({"file": "t.xml", "snr": "", "density": "", "scenario": ""})");
    ASSERT_TRUE(writer.created()) << host.error;
    ASSERT_EQ(writer.process(0, tracks_packet({{3, 1, 1, 8}, {3, 2, 2, 8}}, false)->p), SPOTFLOW_OK);
    EXPECT_EQ(writer.finish(), SPOTFLOW_ERR_INVALID_ARGUMENT);
    EXPECT_EQ(host.error, "track 8 has two points in frame 3");

    NodeRunner other(lib.plugin("write.isbi_xml"), host, R"({"file": "u.xml", "snr": "", "density": "", "scenario": ""})");
    EXPECT_EQ(other.process(0, spotflow::testing::tracks_packet({}, {.track_id = false})->p), SPOTFLOW_ERR_INVALID_ARGUMENT);
    EXPECT_EQ(host.error, "tracks table: table has no column 'track_id'");
}

} // namespace
