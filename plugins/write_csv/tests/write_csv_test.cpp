#include <gtest/gtest.h>
#include <unistd.h>

#include <cmath>
#include <filesystem>
#include <fstream>
#include <sstream>

#include <nlohmann/json.hpp>

#include "plugin_harness.hpp"
#include "test_dir.hpp"

namespace fs = std::filesystem;
using namespace spotflow::testing; // the harness, ColumnType, TableBuilder, TableView

namespace {

std::unique_ptr<OwnedPacket> table_packet(TableBuilder& b) {
    auto p = std::make_unique<OwnedPacket>();
    p->p.kind = SPOTFLOW_DATA_TABLE;
    p->p.info.total_frames = -1;
    b.finish(&p->p.schema, &p->p.array);
    return p;
}

// A one-column float32 batch, built by hand (TableBuilder makes float64
// only). The buffers live in the struct; release just marks released.
struct Float32Batch {
    explicit Float32Batch(std::vector<float> v) : values(std::move(v)) {
        child_schema.format = "f";
        child_schema.name = "intensity";
        child_schema.flags = ARROW_FLAG_NULLABLE;
        child_schema.release = [](ArrowSchema* s) { s->release = nullptr; };
        child_array.length = static_cast<int64_t>(values.size());
        child_array.n_buffers = 2;
        child_array.buffers = child_buffers;
        child_array.release = [](ArrowArray* a) { a->release = nullptr; };
    }
    void move_into(spotflow_packet& p) {
        p.kind = SPOTFLOW_DATA_TABLE;
        p.schema = ArrowSchema{};
        p.schema.format = "+s";
        p.schema.name = "";
        p.schema.n_children = 1;
        p.schema.children = &schema_child;
        p.schema.release = [](ArrowSchema* s) {
            s->children[0]->release(s->children[0]);
            s->release = nullptr;
        };
        p.array = ArrowArray{};
        p.array.length = child_array.length;
        p.array.n_buffers = 1;
        p.array.buffers = struct_buffers;
        p.array.n_children = 1;
        p.array.children = &array_child;
        p.array.release = [](ArrowArray* a) {
            a->children[0]->release(a->children[0]);
            a->release = nullptr;
        };
    }
    std::vector<float> values;
    const void* child_buffers[2] = {nullptr, values.data()};
    const void* struct_buffers[1] = {nullptr};
    ArrowSchema child_schema{};
    ArrowArray child_array{};
    ArrowSchema* schema_child = &child_schema;
    ArrowArray* array_child = &child_array;
};

std::string read_file(const fs::path& path) {
    std::ifstream in(path, std::ios::binary);
    std::stringstream s;
    s << in.rdbuf();
    return s.str();
}

class WriteCsv : public spotflow::testing::TestDirFixture {
protected:

    FakeHost host{dir_};
    PluginLibrary lib{PLUGIN_PATH};
    const spotflow_plugin_desc& desc = lib.plugin("write.csv");
    const std::string params = R"({"file": "detections.csv", "columns": []})";
};

TEST_F(WriteCsv, DescribesItself) {
    EXPECT_STREQ(desc.kind, "writer");
    ASSERT_EQ(desc.n_inputs, 1u);
    EXPECT_EQ(desc.n_outputs, 0u);
    EXPECT_STREQ(desc.inputs[0].name, "table");
    EXPECT_STREQ(desc.inputs[0].type, SPOTFLOW_TYPE_TABLE);
    EXPECT_EQ(desc.inputs[0].kind, SPOTFLOW_DATA_TABLE);
    const auto schema = nlohmann::json::parse(desc.params_schema);
    EXPECT_EQ(schema.at("additionalProperties"), false);
    EXPECT_EQ(schema.at("required"), nlohmann::json::array({"file"}));
}

TEST_F(WriteCsv, WritesTheChosenColumnsInTheChosenOrder) {
    NodeRunner node(desc, host, R"({"file": "tracks.csv", "columns": ["track_id", "x"]})");
    ASSERT_TRUE(node.created()) << host.error;
    TableBuilder a;
    const auto x = a.add_column("x", ColumnType::Float64);
    const auto y = a.add_column("y", ColumnType::Float64);
    const auto id = a.add_column("track_id", ColumnType::Int64);
    a.append_double(x, 1.5), a.append_double(y, 2.5), a.append_int(id, 7);
    ASSERT_EQ(node.process(0, table_packet(a)->p), SPOTFLOW_OK) << host.error;
    ASSERT_EQ(node.finish(), SPOTFLOW_OK) << host.error;
    EXPECT_EQ(read_file(dir_ / "tracks.csv"), "track_id,x\n7,1.5\n");
}

TEST_F(WriteCsv, NamesAChosenColumnTheTableLacks) {
    NodeRunner node(desc, host, R"({"file": "tracks.csv", "columns": ["probability"]})");
    ASSERT_TRUE(node.created()) << host.error;
    TableBuilder a;
    a.append_double(a.add_column("x", ColumnType::Float64), 1.0);
    EXPECT_EQ(node.process(0, table_packet(a)->p), SPOTFLOW_ERR_INVALID_ARGUMENT);
    EXPECT_EQ(host.error, "column 'probability' of the columns param is not in the table (it has: x)");
}

TEST_F(WriteCsv, WritesHeaderThenRowsOfEveryBatch) {
    NodeRunner node(desc, host, params);
    ASSERT_TRUE(node.created()) << host.error;

    TableBuilder a;
    const auto frame = a.add_column("frame", ColumnType::Int64);
    const auto x = a.add_column("x", ColumnType::Float64);
    const auto label = a.add_column("label", ColumnType::Utf8);
    a.append_int(frame, 0), a.append_double(x, 1.5), a.append_string(label, "a,b");
    a.append_int(frame, 1), a.append_null(x), a.append_string(label, "say \"hi\"");
    a.append_null(frame), a.append_double(x, 0.1), a.append_null(label);
    a.append_int(frame, -3), a.append_double(x, std::nan("")), a.append_string(label, "line\nbreak");
    ASSERT_EQ(node.process(0, table_packet(a)->p), SPOTFLOW_OK) << host.error;

    TableBuilder b;
    b.add_column("frame", ColumnType::Int64);
    b.add_column("x", ColumnType::Float64);
    b.add_column("label", ColumnType::Utf8);
    b.append_int(0, 4), b.append_double(1, 1e-7), b.append_string(2, "plain");
    ASSERT_EQ(node.process(0, table_packet(b)->p), SPOTFLOW_OK) << host.error;
    ASSERT_EQ(node.finish(), SPOTFLOW_OK) << host.error;

    EXPECT_EQ(read_file(dir_ / "detections.csv"), "frame,x,label\n"
                                                  "0,1.5,\"a,b\"\n"
                                                  "1,,\"say \"\"hi\"\"\"\n"
                                                  ",0.1,\n"
                                                  "-3,,\"line\nbreak\"\n"
                                                  "4,1e-07,plain\n");
}

TEST_F(WriteCsv, WritesFloat32InItsOwnShortestForm) {
    NodeRunner node(desc, host, params);
    Float32Batch batch({0.1f, -2.5f, 3.4e38f});
    OwnedPacket p;
    batch.move_into(p.p);
    ASSERT_EQ(node.process(0, p.p), SPOTFLOW_OK) << host.error;
    ASSERT_EQ(node.finish(), SPOTFLOW_OK) << host.error;
    EXPECT_EQ(read_file(dir_ / "detections.csv"), "intensity\n0.1\n-2.5\n3.4e+38\n");
}

TEST_F(WriteCsv, WritesTheHeaderOfAnEmptyFirstBatch) {
    NodeRunner node(desc, host, params);
    TableBuilder a;
    a.add_column("track_id", ColumnType::Int64);
    a.add_column("f", ColumnType::Float64);
    ASSERT_EQ(node.process(0, table_packet(a)->p), SPOTFLOW_OK) << host.error;
    ASSERT_EQ(node.finish(), SPOTFLOW_OK) << host.error;
    EXPECT_EQ(read_file(dir_ / "detections.csv"), "track_id,f\n");
}

TEST_F(WriteCsv, RejectsBatchWithOtherColumnNames) {
    NodeRunner node(desc, host, params);
    TableBuilder a;
    a.add_column("frame", ColumnType::Int64);
    a.add_column("x", ColumnType::Float64);
    a.append_int(0, 0), a.append_double(1, 2.0);
    ASSERT_EQ(node.process(0, table_packet(a)->p), SPOTFLOW_OK) << host.error;

    TableBuilder b;
    b.add_column("frame", ColumnType::Int64);
    b.add_column("y", ColumnType::Float64);
    EXPECT_EQ(node.process(0, table_packet(b)->p), SPOTFLOW_ERR_INVALID_ARGUMENT);
    EXPECT_EQ(host.error_status, SPOTFLOW_ERR_INVALID_ARGUMENT);
    EXPECT_EQ(host.error, "the batch starting at row 1 has column 'y' where the first batch has 'x'");

    TableBuilder c;
    c.add_column("frame", ColumnType::Int64);
    EXPECT_EQ(node.process(0, table_packet(c)->p), SPOTFLOW_ERR_INVALID_ARGUMENT);
    EXPECT_EQ(host.error, "the batch starting at row 1 lacks column 'x' of the first batch");
}

TEST_F(WriteCsv, RejectsTensor) {
    NodeRunner node(desc, host, params);
    OwnedPacket p;
    p.p.kind = SPOTFLOW_DATA_TENSOR;
    p.p.tensor = spotflow::make_tensor<uint16_t>({1, 2, 2});
    EXPECT_EQ(node.process(0, p.p), SPOTFLOW_ERR_INVALID_ARGUMENT);
    EXPECT_EQ(host.error, "write.csv received a tensor; it writes tables");
}

TEST_F(WriteCsv, WritesNoFileForAnEmptyStream) {
    NodeRunner node(desc, host, params);
    ASSERT_EQ(node.finish(), SPOTFLOW_OK) << host.error;
    EXPECT_FALSE(fs::exists(dir_ / "detections.csv"));
    ASSERT_EQ(host.logs.size(), 1u);
    EXPECT_EQ(host.logs[0], "no table arrived; 'detections.csv' was not written");
}

} // namespace
