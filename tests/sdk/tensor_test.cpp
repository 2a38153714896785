// spotflow/tensor.hpp: making DLPack tensors that own their data, and typed
// or dtype-agnostic reads of tensors others made.
#include <gtest/gtest.h>

#include <cstring>
#include <string>
#include <vector>

#include "spotflow/tensor.hpp"

namespace {

using spotflow::TensorView;

TEST(MakeTensor, OwnsShapeAndDataAndFreesThemInItsDeleter) {
    DLManagedTensor* m = spotflow::make_tensor<uint16_t>({2, 3}, {1, 2, 3, 4, 5, 6});
    const DLTensor& t = m->dl_tensor;
    EXPECT_EQ(t.device.device_type, kDLCPU);
    EXPECT_TRUE(spotflow::same_dtype(t.dtype, DLDataType{kDLUInt, 16, 1}));
    ASSERT_EQ(t.ndim, 2);
    EXPECT_EQ(t.shape[0], 2);
    EXPECT_EQ(t.shape[1], 3);
    EXPECT_EQ(t.strides, nullptr);
    EXPECT_EQ(t.byte_offset, 0u);
    EXPECT_EQ(static_cast<const uint16_t*>(t.data)[5], 6);
    EXPECT_EQ(spotflow::element_count(t), 6);
    ASSERT_NE(m->deleter, nullptr);
    spotflow::release_tensor(m); // ASan reports a leak or a double free here
    spotflow::release_tensor(nullptr);
}

TEST(MakeTensor, ZeroFilledAndMismatchedSizes) {
    DLManagedTensor* m = spotflow::make_tensor<float>({4, 5});
    const TensorView<float> v(m->dl_tensor);
    EXPECT_EQ(v.size(), 20);
    for (int64_t i = 0; i < v.size(); ++i) EXPECT_EQ(v.data()[i], 0.0f);
    spotflow::release_tensor(m);

    try {
        spotflow::make_tensor<int32_t>({2, 2}, {1, 2, 3});
        FAIL() << "accepted 3 values for a 2 x 2 shape";
    } catch (const std::invalid_argument& e) {
        EXPECT_STREQ(e.what(), "make_tensor: shape holds 4 elements, data 3");
    }
}

// A tensor over caller-owned memory, to set the fields make_tensor does not.
struct Borrowed {
    std::vector<int64_t> shape;
    DLTensor t{};
    Borrowed(void* data, DLDataType dtype, std::vector<int64_t> s) : shape(std::move(s)) {
        t.data = data;
        t.device = {kDLCPU, 0};
        t.ndim = static_cast<int>(shape.size());
        t.dtype = dtype;
        t.shape = shape.data();
    }
};

std::string view_error(const DLTensor& t) {
    try {
        TensorView<float> v(t);
    } catch (const std::invalid_argument& e) {
        return e.what();
    }
    return "no exception";
}

TEST(TensorView, ChecksDtypeDeviceAndLayout) {
    int16_t shorts[4] = {};
    Borrowed s(shorts, spotflow::dl_dtype<int16_t>(), {2, 2});
    EXPECT_EQ(view_error(s.t), "tensor is int16, expected float32");

    float floats[6] = {0, 1, 2, 3, 4, 5};
    Borrowed f(floats, spotflow::dl_dtype<float>(), {2, 3});
    f.t.device = {kDLCUDA, 0};
    EXPECT_EQ(view_error(f.t), "tensor is not on the CPU");
    f.t.device = {kDLCPU, 0};

    int64_t transposed[2] = {1, 3};
    f.t.strides = transposed;
    EXPECT_EQ(view_error(f.t), "tensor is not compact row-major");
    int64_t row_major[2] = {3, 1}; // compact strides spelled out are fine
    f.t.strides = row_major;
    EXPECT_EQ(view_error(f.t), "no exception");

    f.t.strides = nullptr;
    f.t.byte_offset = 2 * sizeof(float); // a 1 x 3 view of floats[2..4]
    f.t.shape[0] = 1;
    const TensorView<float> v(f.t);
    EXPECT_EQ(v.data()[0], 2.0f);
    EXPECT_EQ(v.ndim(), 2);
    EXPECT_EQ(v.dim(1), 3);
    EXPECT_EQ(v.size(), 3);
}

template <class T> double element(T value, DLDataType dtype) {
    T values[3] = {T{}, T{}, value};
    Borrowed b(values, dtype, {2});
    b.t.byte_offset = sizeof(T); // element 1 of the tensor is values[2]
    return spotflow::element_as_double(b.t, 1);
}

TEST(ElementAsDouble, ReadsEveryIntegerAndFloatDtype) {
    using spotflow::dl_dtype;
    EXPECT_EQ(element<uint8_t>(255, dl_dtype<uint8_t>()), 255);
    EXPECT_EQ(element<uint16_t>(65535, dl_dtype<uint16_t>()), 65535);
    EXPECT_EQ(element<uint32_t>(4294967295u, dl_dtype<uint32_t>()), 4294967295.0);
    EXPECT_EQ(element<uint64_t>(uint64_t{1} << 60, DLDataType{kDLUInt, 64, 1}), 1152921504606846976.0);
    EXPECT_EQ(element<int8_t>(-128, dl_dtype<int8_t>()), -128);
    EXPECT_EQ(element<int16_t>(-32768, dl_dtype<int16_t>()), -32768);
    EXPECT_EQ(element<int32_t>(-2147483647 - 1, dl_dtype<int32_t>()), -2147483648.0);
    EXPECT_EQ(element<int64_t>(-(int64_t{1} << 60), dl_dtype<int64_t>()), -1152921504606846976.0);
    EXPECT_EQ(element<float>(0.25f, dl_dtype<float>()), 0.25);
    EXPECT_EQ(element<double>(-1e300, dl_dtype<double>()), -1e300);
}

TEST(ElementAsDouble, NamesAnUnsupportedDtype) {
    uint16_t halves[2] = {};
    Borrowed h(halves, DLDataType{kDLFloat, 16, 1}, {2});
    try {
        spotflow::element_as_double(h.t, 0);
        FAIL() << "read a float16";
    } catch (const std::invalid_argument& e) {
        EXPECT_STREQ(e.what(), "unsupported tensor dtype float16");
    }
    EXPECT_EQ(spotflow::dtype_name(DLDataType{kDLBfloat, 16, 1}), "bfloat16");
    EXPECT_EQ(spotflow::dtype_name(DLDataType{kDLFloat, 32, 4}), "float32x4");
}

} // namespace
