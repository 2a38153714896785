// spotflow/tensor.hpp: C++ helpers to make and read DLPack tensors.
// Header-only: a plugin that uses them links nothing from spotflow.
#pragma once

#include <cstdint>
#include <cstring>
#include <functional>
#include <numeric>
#include <stdexcept>
#include <string>
#include <utility>
#include <vector>

#include <dlpack/dlpack.h>

namespace spotflow {

template <class T> constexpr DLDataType dl_dtype();
template <> constexpr DLDataType dl_dtype<uint8_t>() { return {kDLUInt, 8, 1}; }
template <> constexpr DLDataType dl_dtype<uint16_t>() { return {kDLUInt, 16, 1}; }
template <> constexpr DLDataType dl_dtype<uint32_t>() { return {kDLUInt, 32, 1}; }
template <> constexpr DLDataType dl_dtype<int8_t>() { return {kDLInt, 8, 1}; }
template <> constexpr DLDataType dl_dtype<int16_t>() { return {kDLInt, 16, 1}; }
template <> constexpr DLDataType dl_dtype<int32_t>() { return {kDLInt, 32, 1}; }
template <> constexpr DLDataType dl_dtype<int64_t>() { return {kDLInt, 64, 1}; }
template <> constexpr DLDataType dl_dtype<float>() { return {kDLFloat, 32, 1}; }
template <> constexpr DLDataType dl_dtype<double>() { return {kDLFloat, 64, 1}; }

inline bool same_dtype(DLDataType a, DLDataType b) {
    return a.code == b.code && a.bits == b.bits && a.lanes == b.lanes;
}

// "uint16", "float32", ...: for error messages.
inline std::string dtype_name(DLDataType t) {
    const char* base = t.code == kDLInt ? "int" : t.code == kDLUInt ? "uint" : t.code == kDLFloat ? "float"
                                                : t.code == kDLBfloat ? "bfloat" : "dtype";
    std::string s = base + std::to_string(t.bits);
    if (t.lanes != 1) s += "x" + std::to_string(t.lanes);
    return s;
}

// A DLManagedTensor that owns its data as a std::vector. The deleter frees
// the vector, the shape and the managed struct itself, as DLPack requires;
// it touches nothing else, so it is safe on whichever host thread calls it
// (once, after the last consumer is done: spotflow/packet.h).
template <class T>
DLManagedTensor* make_tensor(std::vector<int64_t> shape, std::vector<T> data) {
    struct Holder {
        std::vector<int64_t> shape;
        std::vector<T> data;
        DLManagedTensor managed{};
    };
    const int64_t n = std::accumulate(shape.begin(), shape.end(), int64_t{1}, std::multiplies<int64_t>());
    if (n != static_cast<int64_t>(data.size()))
        throw std::invalid_argument("make_tensor: shape holds " + std::to_string(n) + " elements, data " +
                                    std::to_string(data.size()));
    auto* h = new Holder{std::move(shape), std::move(data), {}};
    DLTensor& t = h->managed.dl_tensor;
    t.data = h->data.data();
    t.device = {kDLCPU, 0};
    t.ndim = static_cast<int>(h->shape.size());
    t.dtype = dl_dtype<T>();
    t.shape = h->shape.data();
    t.strides = nullptr;
    t.byte_offset = 0;
    h->managed.manager_ctx = h;
    h->managed.deleter = [](DLManagedTensor* self) { delete static_cast<Holder*>(self->manager_ctx); };
    return &h->managed;
}

// A zero-filled tensor of the given shape.
template <class T> DLManagedTensor* make_tensor(std::vector<int64_t> shape) {
    const int64_t n = std::accumulate(shape.begin(), shape.end(), int64_t{1}, std::multiplies<int64_t>());
    return make_tensor<T>(std::move(shape), std::vector<T>(static_cast<size_t>(n)));
}

// Calls the deleter (if any); safe on NULL.
inline void release_tensor(DLManagedTensor* t) {
    if (t && t->deleter) t->deleter(t);
}

inline int64_t element_count(const DLTensor& t) {
    int64_t n = 1;
    for (int i = 0; i < t.ndim; ++i) n *= t.shape[i];
    return n;
}

// "[2, 8, 32, 32]": a tensor's shape for error messages.
inline std::string shape_name(const DLTensor& t) {
    std::string s = "[";
    for (int i = 0; i < t.ndim; ++i) s += (i ? ", " : "") + std::to_string(t.shape[i]);
    return s + "]";
}

inline bool same_shape(const DLTensor& a, const DLTensor& b) {
    if (a.ndim != b.ndim) return false;
    for (int i = 0; i < a.ndim; ++i)
        if (a.shape[i] != b.shape[i]) return false;
    return true;
}

inline bool is_compact(const DLTensor& t) {
    if (!t.strides) return true;
    int64_t expect = 1;
    for (int i = t.ndim - 1; i >= 0; --i) {
        if (t.shape[i] != 1 && t.strides[i] != expect) return false;
        expect *= t.shape[i];
    }
    return true;
}

// Typed read access to a compact CPU tensor. Throws std::invalid_argument
// naming what is wrong, so callers can turn it into one error line.
template <class T> class TensorView {
public:
    explicit TensorView(const DLTensor& t) : t_(t) {
        if (t.device.device_type != kDLCPU) throw std::invalid_argument("tensor is not on the CPU");
        if (!same_dtype(t.dtype, dl_dtype<T>()))
            throw std::invalid_argument("tensor is " + dtype_name(t.dtype) + ", expected " + dtype_name(dl_dtype<T>()));
        if (!is_compact(t)) throw std::invalid_argument("tensor is not compact row-major");
    }
    const T* data() const {
        return reinterpret_cast<const T*>(static_cast<const char*>(t_.data) + t_.byte_offset);
    }
    T* mutable_data() const { return const_cast<T*>(data()); }
    int ndim() const { return t_.ndim; }
    int64_t dim(int i) const { return t_.shape[i]; }
    int64_t size() const { return element_count(t_); }

private:
    const DLTensor& t_;
};

// Reads element i (row-major, compact) of any integer or float tensor as
// double: for plugins that accept every pixel type a camera writes.
inline double element_as_double(const DLTensor& t, int64_t i) {
    const char* p = static_cast<const char*>(t.data) + t.byte_offset;
    switch (t.dtype.code) {
    case kDLUInt:
        switch (t.dtype.bits) {
        case 8: return reinterpret_cast<const uint8_t*>(p)[i];
        case 16: return reinterpret_cast<const uint16_t*>(p)[i];
        case 32: return reinterpret_cast<const uint32_t*>(p)[i];
        case 64: return static_cast<double>(reinterpret_cast<const uint64_t*>(p)[i]);
        }
        break;
    case kDLInt:
        switch (t.dtype.bits) {
        case 8: return reinterpret_cast<const int8_t*>(p)[i];
        case 16: return reinterpret_cast<const int16_t*>(p)[i];
        case 32: return reinterpret_cast<const int32_t*>(p)[i];
        case 64: return static_cast<double>(reinterpret_cast<const int64_t*>(p)[i]);
        }
        break;
    case kDLFloat:
        switch (t.dtype.bits) {
        case 32: return reinterpret_cast<const float*>(p)[i];
        case 64: return reinterpret_cast<const double*>(p)[i];
        }
        break;
    }
    throw std::invalid_argument("unsupported tensor dtype " + dtype_name(t.dtype));
}

} // namespace spotflow
