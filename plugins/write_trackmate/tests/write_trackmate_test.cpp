#include <gtest/gtest.h>
#include <unistd.h>

#include <cmath>
#include <cstdio>
#include <filesystem>
#include <map>
#include <optional>
#include <random>
#include <set>
#include <tuple>

#include <nlohmann/json.hpp>
#include <pugixml.hpp>

#include "plugin_harness.hpp"
#include "tracks_table.hpp"
#include "test_dir.hpp"

namespace fs = std::filesystem;
using namespace spotflow::testing; // the harness, ColumnType, TableBuilder, TableView

namespace {

struct Row {
    int64_t frame;
    double x, y;
    int64_t track;
    std::optional<double> probability = std::nullopt;
    std::optional<double> photons = std::nullopt;
};

std::unique_ptr<OwnedPacket> batch(const std::vector<Row>& rows, bool extras, double pixel_nm = 0, double dt = 0) {
    TableBuilder b;
    const auto f = b.add_column("frame", ColumnType::Int64);
    const auto x = b.add_column("x", ColumnType::Float64);
    const auto y = b.add_column("y", ColumnType::Float64);
    const size_t p = extras ? b.add_column("probability", ColumnType::Float64) : 0;
    const size_t n = extras ? b.add_column("photons", ColumnType::Float64) : 0;
    const auto id = b.add_column("track_id", ColumnType::Int64);
    for (const Row& r : rows) {
        b.append_int(f, r.frame);
        b.append_double(x, r.x);
        b.append_double(y, r.y);
        if (extras) {
            r.probability ? b.append_double(p, *r.probability) : b.append_null(p);
            r.photons ? b.append_double(n, *r.photons) : b.append_null(n);
        }
        b.append_int(id, r.track);
    }
    return table_packet(b, pixel_nm, dt);
}

// What a TrackMate file holds, read back the way TmXmlReader does.
struct Parsed {
    struct Spot {
        int64_t frame;
        double x, y;
    };
    std::map<int64_t, Spot> spots;                          // by spot ID
    std::map<int64_t, std::vector<std::pair<int64_t, int64_t>>> edges; // by TRACK_ID
};

Parsed parse(const pugi::xml_document& doc) {
    Parsed out;
    const pugi::xml_node model = doc.child("TrackMate").child("Model");
    for (const pugi::xml_node frame : model.child("AllSpots").children("SpotsInFrame"))
        for (const pugi::xml_node s : frame.children("Spot")) {
            EXPECT_EQ(s.attribute("FRAME").as_llong(), frame.attribute("frame").as_llong());
            out.spots[s.attribute("ID").as_llong()] = {s.attribute("FRAME").as_llong(),
                                                       s.attribute("POSITION_X").as_double(),
                                                       s.attribute("POSITION_Y").as_double()};
        }
    for (const pugi::xml_node t : model.child("AllTracks").children("Track"))
        for (const pugi::xml_node e : t.children("Edge"))
            out.edges[t.attribute("TRACK_ID").as_llong()].push_back(
                {e.attribute("SPOT_SOURCE_ID").as_llong(), e.attribute("SPOT_TARGET_ID").as_llong()});
    return out;
}

std::string xmllint_problems(const fs::path& file);

class WriteTrackmate : public spotflow::testing::TestDirFixture {
protected:

    std::string params(const std::string& extra = "") const {
        return R"({"file": "tm.xml", "image_file": "", "image_width": 0, "image_height": 0, "n_frames": 0,
                   "pixel_size_nm": 0, "frame_interval_s": 0, "radius_px": 2.0)" + extra + "}";
    }
    // Writes the batches; loads the file.
    void run(const std::vector<std::unique_ptr<OwnedPacket>>& batches, pugi::xml_document& doc,
             const std::string& p = "") {
        NodeRunner node(desc, host, p.empty() ? params() : p);
        ASSERT_TRUE(node.created()) << host.error;
        for (const auto& b : batches) ASSERT_EQ(node.process(0, b->p), SPOTFLOW_OK) << host.error;
        ASSERT_EQ(node.finish(), SPOTFLOW_OK) << host.error;
        EXPECT_EQ(xmllint_problems(dir_ / "tm.xml"), ""); // every file parses strictly
        ASSERT_TRUE(doc.load_file((dir_ / "tm.xml").c_str()));
    }

    FakeHost host{dir_};
    PluginLibrary lib{PLUGIN_PATH};
    const spotflow_plugin_desc& desc = lib.plugin("write.trackmate_xml");
};

TEST_F(WriteTrackmate, DescribesItself) {
    EXPECT_STREQ(desc.kind, "writer");
    ASSERT_EQ(desc.n_inputs, 1u);
    EXPECT_STREQ(desc.inputs[0].type, SPOTFLOW_TYPE_TRACKS);
    EXPECT_EQ(desc.n_outputs, 0u);
    const auto schema = nlohmann::json::parse(desc.params_schema);
    EXPECT_EQ(schema.at("additionalProperties"), false);
    for (const auto& [name, prop] : schema.at("properties").items()) {
        EXPECT_TRUE(prop.contains("description")) << name;
        EXPECT_TRUE(prop.contains("default")) << name;
    }
}

// Every element and attribute TmXmlReader and LoadTrackMatePlugIn look up is
// there, and every feature written is declared (the reader turns every spot,
// edge and track attribute into a feature of the declared type).
TEST_F(WriteTrackmate, HasEverythingTrackMatesReaderNeeds) {
    pugi::xml_document doc;
    run([] {
        std::vector<std::unique_ptr<OwnedPacket>> v;
        v.push_back(batch({{0, 1, 1, 0, 0.9, 2000}, {1, 2, 1, 0, 0.8, std::nullopt}, {0, 5, 5, 1, 0.7, 1900},
                           {3, 6, 6, 1, std::nullopt, 1800}},
                          true));
        return v;
    }(), doc);

    const pugi::xml_node root = doc.child("TrackMate");
    ASSERT_TRUE(root);
    EXPECT_STREQ(root.attribute("version").value(), "7.0.0"); // the loader refuses < 2.1.0
    const pugi::xml_node model = root.child("Model");
    EXPECT_STREQ(model.attribute("spatialunits").value(), "pixel");
    EXPECT_STREQ(model.attribute("timeunits").value(), "frame");

    const std::set<std::string> dimensions = {"NONE", "QUALITY", "POSITION", "TIME", "LENGTH", "COST", "INTENSITY"};
    std::map<std::string, std::set<std::string>> declared;
    for (const char* kind : {"SpotFeatures", "EdgeFeatures", "TrackFeatures"}) {
        const pugi::xml_node group = model.child("FeatureDeclarations").child(kind);
        ASSERT_TRUE(group) << kind;
        for (const pugi::xml_node f : group.children("Feature")) {
            for (const char* a : {"feature", "name", "shortname", "dimension", "isint"})
                EXPECT_TRUE(f.attribute(a)) << kind << " " << a;
            EXPECT_TRUE(dimensions.count(f.attribute("dimension").value())) << f.attribute("dimension").value();
            declared[kind].insert(f.attribute("feature").value());
        }
    }
    for (const char* f : {"QUALITY", "POSITION_X", "POSITION_Y", "POSITION_Z", "POSITION_T", "FRAME", "RADIUS",
                          "VISIBILITY", "PROBABILITY", "PHOTONS"})
        EXPECT_TRUE(declared["SpotFeatures"].count(f)) << f;
    for (const char* f : {"SPOT_SOURCE_ID", "SPOT_TARGET_ID", "LINK_COST"}) EXPECT_TRUE(declared["EdgeFeatures"].count(f));
    for (const char* f : {"TRACK_ID", "TRACK_INDEX", "NUMBER_SPOTS"}) EXPECT_TRUE(declared["TrackFeatures"].count(f));

    const pugi::xml_node all_spots = model.child("AllSpots");
    EXPECT_EQ(all_spots.attribute("nspots").as_int(), 4);
    std::set<int64_t> ids;
    for (const pugi::xml_node frame : all_spots.children("SpotsInFrame")) {
        ASSERT_TRUE(frame.attribute("frame"));
        for (const pugi::xml_node s : frame.children("Spot")) {
            ids.insert(s.attribute("ID").as_llong());
            EXPECT_TRUE(s.attribute("name"));
            EXPECT_EQ(s.attribute("VISIBILITY").as_int(), 1);
            for (const pugi::xml_attribute a : s.attributes()) {
                const std::string n = a.name();
                if (n != "ID" && n != "name") {
                    EXPECT_TRUE(declared["SpotFeatures"].count(n)) << n;
                }
            }
        }
    }
    EXPECT_EQ(ids.size(), 4u);
    std::set<int64_t> track_ids;
    for (const pugi::xml_node t : model.child("AllTracks").children("Track")) {
        EXPECT_TRUE(t.attribute("name"));
        track_ids.insert(t.attribute("TRACK_ID").as_llong());
        for (const pugi::xml_attribute a : t.attributes()) {
            if (std::string(a.name()) != "name") {
                EXPECT_TRUE(declared["TrackFeatures"].count(a.name())) << a.name();
            }
        }
        for (const pugi::xml_node e : t.children("Edge")) {
            EXPECT_TRUE(ids.count(e.attribute("SPOT_SOURCE_ID").as_llong()));
            EXPECT_TRUE(ids.count(e.attribute("SPOT_TARGET_ID").as_llong()));
            for (const pugi::xml_attribute a : e.attributes()) EXPECT_TRUE(declared["EdgeFeatures"].count(a.name()));
        }
    }
    EXPECT_EQ(track_ids, (std::set<int64_t>{0, 1}));
    for (const pugi::xml_node id : model.child("FilteredTracks").children("TrackID"))
        EXPECT_TRUE(track_ids.count(id.attribute("TRACK_ID").as_llong()));

    const pugi::xml_node settings = root.child("Settings");
    const pugi::xml_node image = settings.child("ImageData");
    for (const char* a : {"filename", "folder", "width", "height", "nslices", "nframes", "pixelwidth", "pixelheight",
                          "voxeldepth", "timeinterval"})
        EXPECT_TRUE(image.attribute(a)) << a;
    EXPECT_EQ(image.attribute("width").as_int(), 7);  // x = 6 lies in pixel 6
    EXPECT_EQ(image.attribute("nframes").as_int(), 4);
    for (const char* a : {"xstart", "xend", "ystart", "yend", "zstart", "zend", "tstart", "tend"})
        EXPECT_TRUE(settings.child("BasicSettings").attribute(a)) << a;
    EXPECT_STREQ(settings.child("DetectorSettings").attribute("DETECTOR_NAME").value(), "MANUAL_DETECTOR");
    EXPECT_TRUE(settings.child("DetectorSettings").attribute("RADIUS"));
    for (const char* a : {"feature", "value", "isabove"}) EXPECT_TRUE(settings.child("InitialSpotFilter").attribute(a));
    EXPECT_TRUE(settings.child("SpotFilterCollection"));
    EXPECT_STREQ(settings.child("TrackerSettings").attribute("TRACKER_NAME").value(), "MANUAL_TRACKER");
    EXPECT_TRUE(settings.child("TrackFilterCollection"));
    for (const char* a : {"SpotAnalyzers", "EdgeAnalyzers", "TrackAnalyzers"})
        EXPECT_TRUE(settings.child("AnalyzerCollection").child(a)) << a;
    EXPECT_STREQ(root.child("GUIState").attribute("state").value(), "ConfigureViews");
    const auto display = nlohmann::json::parse(root.child("DisplaySettings").text().get());
    EXPECT_EQ(display.at("trackColorByFeature"), "TRACK_INDEX");

    // QUALITY is the probability; a spot without one gets 1; a missing feature is left out.
    const pugi::xml_node first = all_spots.child("SpotsInFrame").child("Spot");
    EXPECT_DOUBLE_EQ(first.attribute("QUALITY").as_double(), 0.9);
    EXPECT_DOUBLE_EQ(first.attribute("PHOTONS").as_double(), 2000);
    int without_photons = 0, quality_one = 0;
    for (const pugi::xml_node frame : all_spots.children("SpotsInFrame"))
        for (const pugi::xml_node s : frame.children("Spot")) {
            without_photons += !s.attribute("PHOTONS");
            quality_one += s.attribute("QUALITY").as_double() == 1.0;
        }
    EXPECT_EQ(without_photons, 1);
    EXPECT_EQ(quality_one, 1);
}

// Our own reader of the file gets back every point and every edge, bit for bit.
TEST_F(WriteTrackmate, RoundTripsEveryPointAndEdge) {
    std::mt19937_64 rng(11);
    std::uniform_real_distribution<double> pos(-0.5, 255.5);
    std::vector<Row> rows;
    for (int64_t k = 0; k < 6; ++k)
        for (int64_t f = 0; f < 40; ++f)
            if ((f * (k + 1)) % 5 != 3) rows.push_back({f, pos(rng), pos(rng), 100 - 7 * k});
    std::shuffle(rows.begin(), rows.end(), rng);
    std::vector<std::unique_ptr<OwnedPacket>> batches;
    batches.push_back(batch({rows.begin(), rows.begin() + 100}, false));
    batches.push_back(batch({rows.begin() + 100, rows.end()}, false));
    pugi::xml_document doc;
    run(batches, doc);
    const Parsed got = parse(doc);

    ASSERT_EQ(got.spots.size(), rows.size());
    std::map<std::tuple<int64_t, double, double>, int64_t> track_of; // (frame, x, y) -> track
    for (const Row& r : rows) track_of[{r.frame, r.x, r.y}] = r.track;
    std::map<int64_t, int64_t> spot_track;
    for (const auto& [id, s] : got.spots) {
        const auto it = track_of.find({s.frame, s.x, s.y});
        ASSERT_NE(it, track_of.end()) << "spot " << id << " is not an input point";
        spot_track[id] = it->second;
    }
    std::map<int64_t, std::vector<Row>> by_track;
    for (const Row& r : rows) by_track[r.track].push_back(r);
    ASSERT_EQ(got.edges.size(), by_track.size());
    for (auto& [track, members] : by_track) {
        std::sort(members.begin(), members.end(), [](const Row& a, const Row& b) { return a.frame < b.frame; });
        const auto& edges = got.edges.at(track);
        ASSERT_EQ(edges.size(), members.size() - 1);
        std::set<std::pair<int64_t, int64_t>> frame_pairs;
        for (const auto& [s, t] : edges) {
            EXPECT_EQ(spot_track[s], track);
            EXPECT_EQ(spot_track[t], track);
            frame_pairs.insert({got.spots.at(s).frame, got.spots.at(t).frame});
        }
        for (size_t k = 1; k < members.size(); ++k)
            EXPECT_TRUE(frame_pairs.count({members[k - 1].frame, members[k].frame})) << "track " << track;
    }
    EXPECT_EQ(host.logs.back(), std::to_string(rows.size()) + " spots, 6 tracks");
}

// Hand-computed at 108 nm/px, 50 ms/frame: positions in µm, times in s.
TEST_F(WriteTrackmate, ConvertsToPhysicalUnitsFromTheStream) {
    std::vector<std::unique_ptr<OwnedPacket>> batches;
    batches.push_back(batch({{0, 1, 1, 4}, {2, 4, 5, 4}, {1, 3, 3, 9}}, false, 108, 0.05));
    pugi::xml_document doc;
    run(batches, doc);
    const pugi::xml_node root = doc.child("TrackMate");
    const pugi::xml_node model = root.child("Model");
    EXPECT_STREQ(model.attribute("spatialunits").value(), "µm");
    EXPECT_STREQ(model.attribute("timeunits").value(), "sec");
    const pugi::xml_node image = root.child("Settings").child("ImageData");
    EXPECT_DOUBLE_EQ(image.attribute("pixelwidth").as_double(), 0.108);
    EXPECT_DOUBLE_EQ(image.attribute("timeinterval").as_double(), 0.05);
    EXPECT_EQ(image.attribute("width").as_int(), 5);
    EXPECT_EQ(image.attribute("height").as_int(), 6);
    EXPECT_EQ(image.attribute("nframes").as_int(), 3);

    const pugi::xml_node last = model.child("AllSpots").last_child().child("Spot"); // frame 2
    EXPECT_DOUBLE_EQ(last.attribute("POSITION_X").as_double(), 4 * 0.108);
    EXPECT_DOUBLE_EQ(last.attribute("POSITION_Y").as_double(), 5 * 0.108);
    EXPECT_DOUBLE_EQ(last.attribute("POSITION_T").as_double(), 0.1);
    EXPECT_DOUBLE_EQ(last.attribute("RADIUS").as_double(), 2 * 0.108);

    const pugi::xml_node track = model.child("AllTracks").child("Track");
    EXPECT_EQ(track.attribute("TRACK_ID").as_int(), 4);
    EXPECT_EQ(track.attribute("NUMBER_SPOTS").as_int(), 2);
    EXPECT_EQ(track.attribute("NUMBER_GAPS").as_int(), 1);
    EXPECT_EQ(track.attribute("LONGEST_GAP").as_int(), 1);
    EXPECT_DOUBLE_EQ(track.attribute("TRACK_START").as_double(), 0.0);
    EXPECT_DOUBLE_EQ(track.attribute("TRACK_STOP").as_double(), 0.1);
    EXPECT_DOUBLE_EQ(track.attribute("TRACK_DURATION").as_double(), 0.1);
    // (3, 4) px = (0.324, 0.432) µm: squared displacement 0.2916 µm^2.
    EXPECT_NEAR(track.child("Edge").attribute("LINK_COST").as_double(), 0.2916, 1e-12);
    // Track 9 has one point: a lone spot, not a track.
    EXPECT_FALSE(track.next_sibling("Track"));
    EXPECT_EQ(model.child("AllSpots").attribute("nspots").as_int(), 3);
    EXPECT_EQ(host.logs.back(), "3 spots, 1 tracks; 1 one-point tracks written as lone spots");
}

TEST_F(WriteTrackmate, ParamsOverrideCalibrationAndImageSize) {
    std::vector<std::unique_ptr<OwnedPacket>> batches;
    batches.push_back(batch({{0, 1, 1, 0}, {1, 2, 2, 0}}, false, 108, 0.05));
    pugi::xml_document doc;
    run(batches, doc,
        R"({"file": "tm.xml", "image_file": "movie.tif", "image_width": 256, "image_height": 128, "n_frames": 100,
            "pixel_size_nm": 160, "frame_interval_s": 0.1, "radius_px": 1.5})");
    const pugi::xml_node image = doc.child("TrackMate").child("Settings").child("ImageData");
    EXPECT_STREQ(image.attribute("filename").value(), "movie.tif");
    EXPECT_EQ(image.attribute("width").as_int(), 256);
    EXPECT_EQ(image.attribute("height").as_int(), 128);
    EXPECT_EQ(image.attribute("nframes").as_int(), 100);
    EXPECT_DOUBLE_EQ(image.attribute("pixelwidth").as_double(), 0.16);
    EXPECT_DOUBLE_EQ(image.attribute("timeinterval").as_double(), 0.1);
    EXPECT_EQ(doc.child("TrackMate").child("Settings").child("BasicSettings").attribute("tend").as_int(), 99);
}

TEST_F(WriteTrackmate, Errors) {
    NodeRunner node(desc, host, params());
    ASSERT_EQ(node.process(0, batch({{3, 1, 1, 8}, {3, 2, 2, 8}}, false)->p), SPOTFLOW_OK);
    EXPECT_EQ(node.finish(), SPOTFLOW_ERR_INVALID_ARGUMENT);
    EXPECT_EQ(host.error, "track 8 has two points in frame 3");

    NodeRunner big(desc, host, params());
    EXPECT_EQ(big.process(0, batch({{0, 1, 1, int64_t{1} << 40}}, false)->p), SPOTFLOW_ERR_UNSUPPORTED);
    EXPECT_EQ(host.error, "track_id 1099511627776 does not fit TrackMate's 32-bit track ids");

    NodeRunner cols(desc, host, params());
    ASSERT_EQ(cols.process(0, batch({{0, 1, 1, 0, 0.5, 10}}, true)->p), SPOTFLOW_OK);
    EXPECT_EQ(cols.process(0, batch({{1, 1, 1, 0}}, false)->p), SPOTFLOW_ERR_INVALID_ARGUMENT);
    EXPECT_EQ(host.error, "the tracks batch starting at row 1 lacks column 'probability' of the first batch");
}

// What Fiji's XML parser checks, with a strict parser: xmllint (libxml2)
// refuses a duplicate attribute, a bad attribute name, a control character
// or a byte that is not UTF-8. Returns its messages, "" if the file is fine.
std::string xmllint_problems(const fs::path& file) {
    const std::string cmd = std::string(XMLLINT) + " --noout '" + file.string() + "' 2>&1";
    FILE* p = popen(cmd.c_str(), "r");
    if (!p) return "cannot run " + cmd;
    std::string out;
    char buf[512];
    while (fgets(buf, sizeof buf, p)) out += buf;
    const int rc = pclose(p);
    return rc == 0 ? out : (out.empty() ? "xmllint failed" : out);
}

// read.thunderstorm's tracks carry an `id` column, which once became a second
// `ID` attribute of <Spot> ('Attribute "ID" was already specified' in
// Fiji). Every column name now maps to a unique XML-name key clear of the
// attributes the reader treats specially, and the file parses strictly.
TEST_F(WriteTrackmate, ColumnNamesBecomeSafeUniqueKeys) {
    const std::vector<std::pair<std::string, std::string>> columns = {
        // column, expected key
        {"id", "SPOTFLOW_ID"},                  // the duplicate ID
        {"Photons", "PHOTONS"},                 // differ only in case:
        {"photons", "PHOTONS_2"},               //   the second gets a suffix
        {"x sigma", "X_SIGMA"},                 // not an XML name
        {"x-sigma", "X_SIGMA_2"},
        {"2d_fit", "SPOTFLOW_2D_FIT"},          // starts with a digit
        {"roi_n_points", "SPOTFLOW_ROI_N_POINTS"}, // would make the reader parse a polygon
        {"quality", "SPOTFLOW_QUALITY"},        // a key this writer sets
        {"name", "NAME"},                       // "name" is reserved, "NAME" is not
        {"xml_tag", "SPOTFLOW_XML_TAG"},        // names starting with xml are reserved
        {"\xc2\xb5m", "__M"},                   // "µm" in UTF-8: two bytes, two '_'
        {"\xb5m<\"&\x01", "_M____"},             // Latin-1, markup, a control character
    };
    TableBuilder b;
    const auto f = b.add_column("frame", ColumnType::Int64);
    const auto x = b.add_column("x", ColumnType::Float64);
    const auto y = b.add_column("y", ColumnType::Float64);
    const auto id = b.add_column("track_id", ColumnType::Int64);
    std::vector<size_t> cols;
    for (const auto& [name, key] : columns) cols.push_back(b.add_column(name, ColumnType::Int64));
    for (int64_t r = 0; r < 2; ++r) {
        b.append_int(f, r);
        b.append_double(x, 1.0 + static_cast<double>(r));
        b.append_double(y, 1.0);
        b.append_int(id, 7);
        for (size_t k = 0; k < cols.size(); ++k) b.append_int(cols[k], 100 * r + static_cast<int64_t>(k));
    }
    std::vector<std::unique_ptr<OwnedPacket>> batches;
    batches.push_back(table_packet(b));

    pugi::xml_document doc;
    run(batches, doc); // xmllint included

    const pugi::xml_node model = doc.child("TrackMate").child("Model");
    std::map<std::string, std::string> declared; // key -> column name as written
    for (const pugi::xml_node d : model.child("FeatureDeclarations").child("SpotFeatures").children("Feature")) {
        EXPECT_FALSE(declared.count(d.attribute("feature").value())) << d.attribute("feature").value();
        declared[d.attribute("feature").value()] = d.attribute("name").value();
    }
    int spots = 0;
    for (const pugi::xml_node frame : model.child("AllSpots").children("SpotsInFrame"))
        for (const pugi::xml_node s : frame.children("Spot")) {
            const int64_t r = s.attribute("FRAME").as_llong();
            EXPECT_EQ(s.attribute("ID").as_llong(), r); // the writer's own spot ids, not the column
            EXPECT_FALSE(s.attribute("ROI_N_POINTS"));
            EXPECT_EQ(s.attribute("QUALITY").as_double(), 1.0);
            for (size_t k = 0; k < columns.size(); ++k) {
                const std::string& key = columns[k].second;
                ASSERT_TRUE(s.attribute(key.c_str())) << key;
                EXPECT_EQ(s.attribute(key.c_str()).as_llong(), 100 * r + static_cast<int64_t>(k)) << key;
                EXPECT_TRUE(declared.count(key)) << key;
            }
            ++spots;
        }
    EXPECT_EQ(spots, 2);
    // Declarations keep the column's name, made printable where it was not.
    EXPECT_EQ(declared["SPOTFLOW_ID"], "id");
    EXPECT_EQ(declared["__M"], "\xc2\xb5m");
    EXPECT_EQ(declared["_M____"], "?m<\"&?");
}

} // namespace
