// spotflow._spotflow: the Python package's native part. It runs a recipe
// through the CLI's own code (spotflow_cli: cli::run_recipe), with the GIL
// released, and collects the packets the nodes emit:
//  - every table output port, its record batches appended column by column
//    into host-owned buffers, handed to numpy without a further copy;
//  - tensor output ports (those no edge consumes, or all with
//    capture_tensors="all"), concatenated along the stream axis and handed
//    to numpy through DLPack.
// The one copy is the capture itself: a plugin's Arrow release and DLPack
// deleter must have run before its instance is destroyed (packet.h), so
// nothing of a plugin's memory may outlive the run.
#include <pybind11/numpy.h>
#include <pybind11/pybind11.h>
#include <pybind11/stl.h>

#include <cmath>
#include <cstring>
#include <map>
#include <memory>
#include <mutex>
#include <set>
#include <string>
#include <vector>

#include <dlpack/dlpack.h>
#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include "commands.hpp"
#include "errors.hpp"
#include "recipe.hpp"
#include "spotflow/table.hpp"
#include "spotflow/tensor.hpp"

namespace py = pybind11;

namespace {

enum class Kind { Int, Float, Bool, String };

struct ColumnAcc {
    std::string name;
    Kind kind = Kind::Float;
    std::vector<int64_t> ints;
    std::vector<double> floats;
    std::vector<uint8_t> bools;
    std::vector<std::string> strings;
    std::vector<uint8_t> mask; // 1 = null; filled only once a null is seen
    int64_t rows = 0;
    bool any_null = false;
};

Kind kind_of(char f) {
    switch (f) {
    case 'u': case 'U': return Kind::String;
    case 'b': return Kind::Bool;
    case 'f': case 'g': case 'e': return Kind::Float;
    default: return Kind::Int;
    }
}

struct TableAcc {
    std::vector<ColumnAcc> cols;
    int64_t rows = 0;
    int64_t batches = 0;

    void append(const ArrowSchema& schema, const ArrowArray& array, const std::string& key) {
        spotflow::TableView v(schema, array);
        if (batches == 0) {
            for (int64_t c = 0; c < v.columns(); ++c) {
                ColumnAcc col;
                col.name = std::string(v.column_name(c));
                col.kind = kind_of(v.column_format(c));
                cols.push_back(std::move(col));
            }
        } else if (v.columns() != static_cast<int64_t>(cols.size())) {
            throw std::runtime_error(fmt::format("{}: a batch with {} columns after batches with {}", key, v.columns(), cols.size()));
        }
        const int64_t n = v.rows();
        for (int64_t c = 0; c < v.columns(); ++c) {
            ColumnAcc& col = cols[static_cast<size_t>(c)];
            if (col.name != v.column_name(c) || col.kind != kind_of(v.column_format(c)))
                throw std::runtime_error(fmt::format("{}: column {} changes name or type between batches", key, c));
            const ArrowArray& ch = *array.children[c];
            const bool has_nulls = ch.null_count != 0 && ch.buffers[0];
            if (has_nulls && !col.any_null) {
                col.any_null = true;
                col.mask.assign(static_cast<size_t>(col.rows), 0);
            }
            const char f = v.column_format(c);
            const int64_t first = array.offset + ch.offset;
            switch (col.kind) {
            case Kind::Float:
                if (f == 'g' && !has_nulls) {
                    const auto* b = static_cast<const double*>(ch.buffers[1]) + first;
                    col.floats.insert(col.floats.end(), b, b + n);
                } else {
                    for (int64_t r = 0; r < n; ++r) col.floats.push_back(v.get_double(c, r)); // NaN for nulls
                }
                break;
            case Kind::Int:
                if (f == 'l' && !has_nulls) {
                    const auto* b = static_cast<const int64_t*>(ch.buffers[1]) + first;
                    col.ints.insert(col.ints.end(), b, b + n);
                } else {
                    for (int64_t r = 0; r < n; ++r) col.ints.push_back(v.get_int(c, r));
                }
                break;
            case Kind::Bool:
                for (int64_t r = 0; r < n; ++r) col.bools.push_back(v.is_null(c, r) ? 0 : v.get_double(c, r) != 0);
                break;
            case Kind::String:
                for (int64_t r = 0; r < n; ++r) col.strings.emplace_back(v.is_null(c, r) ? std::string_view() : v.get_string(c, r));
                break;
            }
            if (col.any_null)
                for (int64_t r = 0; r < n; ++r) col.mask.push_back(has_nulls && v.is_null(c, r));
            col.rows += n;
        }
        rows += n;
        ++batches;
    }
};

size_t dtype_bytes(DLDataType t) { return static_cast<size_t>(t.bits) / 8 * t.lanes; }

struct TensorAcc {
    DLDataType dtype{};
    std::vector<int64_t> shape; // shape[0] grows
    std::vector<uint8_t> bytes;
    int64_t packets = 0;

    void append(const DLTensor& t, const std::string& key) {
        if (t.dtype.bits % 8 != 0) throw std::runtime_error(fmt::format("{}: {}-bit elements are not supported", key, t.dtype.bits));
        std::vector<int64_t> s(t.shape, t.shape + t.ndim);
        if (s.empty()) s.push_back(1); // a scalar stream: one row per packet
        if (packets == 0) {
            dtype = t.dtype;
            shape = s;
            shape[0] = 0;
        } else if (!spotflow::same_dtype(dtype, t.dtype) || s.size() != shape.size() ||
                   !std::equal(s.begin() + 1, s.end(), shape.begin() + 1)) {
            throw std::runtime_error(fmt::format("{}: packets of different dtype or shape cannot be stacked", key));
        }
        const size_t eb = dtype_bytes(t.dtype);
        const int64_t count = spotflow::element_count(t);
        const size_t at = bytes.size();
        bytes.resize(at + static_cast<size_t>(count) * eb);
        const auto* src = static_cast<const uint8_t*>(t.data) + t.byte_offset;
        if (spotflow::is_compact(t)) {
            std::memcpy(bytes.data() + at, src, static_cast<size_t>(count) * eb);
        } else { // strided: walk the elements in row-major order
            std::vector<int64_t> idx(static_cast<size_t>(t.ndim), 0);
            for (int64_t k = 0; k < count; ++k) {
                int64_t off = 0;
                for (int d = 0; d < t.ndim; ++d) off += idx[static_cast<size_t>(d)] * t.strides[d];
                std::memcpy(bytes.data() + at + static_cast<size_t>(k) * eb, src + off * static_cast<int64_t>(eb), eb);
                for (int d = t.ndim - 1; d >= 0; --d) {
                    if (++idx[static_cast<size_t>(d)] < t.shape[d]) break;
                    idx[static_cast<size_t>(d)] = 0;
                }
            }
        }
        shape[0] += s[0];
        if (t.ndim == 0) shape[0] = packets + 1;
        ++packets;
    }
};

struct Collector {
    std::mutex mu;
    std::set<std::string> tensor_ports; // "node.port" to keep besides the unconsumed ones
    bool all_tensors = false;
    std::map<std::string, TableAcc> tables;
    std::map<std::string, TensorAcc> tensors;

    void operator()(const std::string& node, const std::string& port, bool consumed, const spotflow_packet& p) {
        const std::string key = node + "." + port;
        if (p.kind == SPOTFLOW_DATA_TABLE) {
            std::lock_guard<std::mutex> lock(mu);
            tables[key].append(p.schema, p.array, key);
        } else if (p.kind == SPOTFLOW_DATA_TENSOR && p.tensor && (all_tensors || !consumed || tensor_ports.count(key))) {
            std::lock_guard<std::mutex> lock(mu);
            tensors[key].append(p.tensor->dl_tensor, key);
        }
    }
};

// A numpy array viewing a vector that the array's base object now owns.
template <class T> py::array owned_array(std::vector<T>&& v) {
    auto* heap = new std::vector<T>(std::move(v));
    py::capsule owner(heap, [](void* p) { delete static_cast<std::vector<T>*>(p); });
    return py::array_t<T>({static_cast<py::ssize_t>(heap->size())}, {sizeof(T)}, heap->data(), owner);
}

py::array bool_array(std::vector<uint8_t>&& v) {
    auto* heap = new std::vector<uint8_t>(std::move(v));
    py::capsule owner(heap, [](void* p) { delete static_cast<std::vector<uint8_t>*>(p); });
    return py::array(py::dtype("bool"), {static_cast<py::ssize_t>(heap->size())}, {sizeof(uint8_t)}, heap->data(), owner);
}

// A DLPack producer (__dlpack__, __dlpack_device__) over a captured tensor,
// for np.from_dlpack: the capsule hands numpy a DLManagedTensor whose
// deleter frees the buffer when the array goes.
struct DLPackTensor {
    std::shared_ptr<TensorAcc> acc;
    bool taken = false;

    py::capsule dlpack(py::object /*stream*/) {
        if (taken) throw std::runtime_error("this tensor was already exported through DLPack");
        taken = true;
        struct Holder {
            std::shared_ptr<TensorAcc> acc;
            DLManagedTensor managed{};
        };
        auto* h = new Holder{acc, {}};
        DLTensor& t = h->managed.dl_tensor;
        t.data = acc->bytes.empty() ? nullptr : acc->bytes.data();
        t.device = {kDLCPU, 0};
        t.ndim = static_cast<int32_t>(acc->shape.size());
        t.dtype = acc->dtype;
        t.shape = acc->shape.data();
        t.strides = nullptr;
        t.byte_offset = 0;
        h->managed.manager_ctx = h;
        h->managed.deleter = [](DLManagedTensor* self) { delete static_cast<Holder*>(self->manager_ctx); };
        // The protocol: a capsule still named "dltensor" when it dies was
        // never consumed, and its destructor calls the deleter.
        PyObject* cap = PyCapsule_New(&h->managed, "dltensor", [](PyObject* c) {
            if (PyCapsule_IsValid(c, "dltensor")) {
                auto* m = static_cast<DLManagedTensor*>(PyCapsule_GetPointer(c, "dltensor"));
                if (m && m->deleter) m->deleter(m);
            }
        });
        if (!cap) {
            delete h;
            throw py::error_already_set();
        }
        return py::reinterpret_steal<py::capsule>(cap);
    }
    py::tuple device() const { return py::make_tuple(static_cast<int>(kDLCPU), 0); }
};

py::object json_to_py(const nlohmann::json& j) { return py::module_::import("json").attr("loads")(j.dump()); }

} // namespace

PYBIND11_MODULE(_spotflow, m) {
    m.doc() = "spotflow's native part; use the spotflow package";
    static py::exception<spotflow::UserError> error(m, "Error");
    py::register_exception_translator([](std::exception_ptr p) {
        try {
            if (p) std::rethrow_exception(p);
        } catch (const spotflow::UserError& e) {
            error(e.what());
        }
    });

    py::class_<DLPackTensor>(m, "DLPackTensor")
        .def("__dlpack__", &DLPackTensor::dlpack, py::arg("stream") = py::none())
        .def("__dlpack_device__", &DLPackTensor::device)
        .def_property_readonly("shape", [](const DLPackTensor& t) { return t.acc->shape; })
        .def_property_readonly("dtype_code", [](const DLPackTensor& t) {
            return py::make_tuple(static_cast<int>(t.acc->dtype.code), static_cast<int>(t.acc->dtype.bits));
        });

    m.def("plugins", [] { return json_to_py(spotflow::cli::plugins_json()); });
    m.def("describe", [](const std::string& id) { return json_to_py(spotflow::cli::describe_json(id)); });

    // Returns (code, tables, tensors): code as the CLI's exit code; a bad
    // recipe or input raises Error (UserError), a failed run raises Error
    // with the CLI's line.
    m.def(
        "run",
        [](const std::string& recipe, const std::map<std::string, std::string>& inputs, const std::vector<std::string>& sets,
           std::optional<uint64_t> seed, const std::string& out, int threads, const std::vector<std::string>& tensor_ports,
           bool all_tensors, bool quiet, const std::vector<std::string>& argv) {
            spotflow::cli::RunArgs args;
            args.recipe = recipe;
            for (const auto& [k, v] : inputs) args.inputs.push_back(k + "=" + v);
            args.sets = sets;
            args.seed = seed;
            args.out = out;
            args.threads = threads;
            args.quiet = quiet;
            args.argv = argv;
            args.handle_signals = false;
            std::string failure;
            args.failure = &failure;
            auto collector = std::make_shared<Collector>();
            collector->tensor_ports.insert(tensor_ports.begin(), tensor_ports.end());
            collector->all_tensors = all_tensors;
            args.capture = [collector](const std::string& n, const std::string& p, bool consumed, const spotflow_packet& pk) {
                (*collector)(n, p, consumed, pk);
            };
            int code = 0;
            {
                py::gil_scoped_release release;
                try {
                    code = spotflow::cli::run(args);
                } catch (const spotflow::UserError& e) { // the CLI prints it and exits 2
                    failure = e.what();
                    code = -1;
                }
            }
            // A failed run (1) or a node refusing its params or files at
            // create (2, bad input): the error line the CLI would print.
            if (code == -1 || code == spotflow::cli::kRunFailed || (code == spotflow::cli::kBadInput && !failure.empty()))
                throw spotflow::UserError(failure.empty() ? "run failed" : failure);
            if (code == spotflow::cli::kInterrupted) throw spotflow::UserError("interrupted");
            if (code != 0) throw spotflow::UserError(fmt::format("run ended with code {}", code));

            py::dict tables;
            for (auto& [key, acc] : collector->tables) {
                py::list cols;
                for (auto& c : acc.cols) {
                    py::object values;
                    switch (c.kind) {
                    case Kind::Int: values = owned_array(std::move(c.ints)); break;
                    case Kind::Float: values = owned_array(std::move(c.floats)); break;
                    case Kind::Bool: values = bool_array(std::move(c.bools)); break;
                    case Kind::String: {
                        py::list l(c.strings.size());
                        for (size_t i = 0; i < c.strings.size(); ++i)
                            l[i] = (c.any_null && c.mask[i]) ? py::object(py::none()) : py::object(py::str(c.strings[i]));
                        values = l;
                        break;
                    }
                    }
                    py::object mask = py::none();
                    if (c.any_null && c.kind != Kind::Float && c.kind != Kind::String) mask = bool_array(std::move(c.mask));
                    cols.append(py::make_tuple(c.name, values, mask));
                }
                tables[py::str(key)] = py::make_tuple(cols, acc.rows);
            }
            py::dict tensors;
            for (auto& [key, acc] : collector->tensors) {
                DLPackTensor t{std::make_shared<TensorAcc>(std::move(acc))};
                tensors[py::str(key)] = py::cast(std::move(t));
            }
            return py::make_tuple(code, tables, tensors);
        },
        py::arg("recipe"), py::arg("inputs"), py::arg("sets"), py::arg("seed"), py::arg("out"), py::arg("threads"),
        py::arg("tensor_ports"), py::arg("all_tensors"), py::arg("quiet"), py::arg("argv"));
}
