// abi_layout_test: the public headers build as strict C++17 too, the ABI's
// layout is the frozen one, and C and C++ compilers agree on it (the C side
// comes from all_headers.c). Most checks run at compile time.
#include "spotflow/plugin.h"

#include "spotflow/arrow_c.h"
#include "spotflow/host.h"
#include "spotflow/loss.h"
#include "spotflow/node.h"
#include "spotflow/packet.h"
#include "spotflow/status.h"
#include "spotflow/table.hpp"
#include "spotflow/tensor.hpp"
#include "spotflow/version.h"

#include <cstdio>
#include <iterator>
#include <string_view>

#include "layout.h"

// The layout is stated for LP64; other data models have their own, which
// only the C/C++ agreement below covers.
#if defined(__LP64__)
#define EXPECT_LP64(expr, lp64) static_assert((expr) == (lp64), #expr " changed: an ABI break");
SPOTFLOW_ABI_LAYOUT(EXPECT_LP64)
#endif

// Numbers that cross the ABI are frozen as well.
static_assert(SPOTFLOW_ABI_MAJOR == 1, "ABI major");
static_assert(SPOTFLOW_ABI_MINOR >= 1, "ABI minor: 1.1 added publish_output, plugin_dir and the probability type");
static_assert(std::string_view(SPOTFLOW_TYPE_PROBABILITY) == "probability" && std::string_view(SPOTFLOW_TYPE_MASK) == "mask",
              "port types");
static_assert(std::string_view(SPOTFLOW_ENTRY_SYMBOL) == "spotflow_entry", "entry symbol");
static_assert(SPOTFLOW_OK == 0 && SPOTFLOW_DONE == 1 && SPOTFLOW_ERR_INVALID_ARGUMENT == -1 &&
                  SPOTFLOW_ERR_IO == -2 && SPOTFLOW_ERR_FORMAT == -3 && SPOTFLOW_ERR_UNSUPPORTED == -4 &&
                  SPOTFLOW_ERR_OUT_OF_MEMORY == -5 && SPOTFLOW_ERR_CANCELLED == -6 && SPOTFLOW_ERR_INTERNAL == -7,
              "status codes");
static_assert(SPOTFLOW_DATA_TENSOR == 1 && SPOTFLOW_DATA_TABLE == 2, "data kinds");
static_assert(SPOTFLOW_PORT_OPTIONAL == 1 && SPOTFLOW_PORT_MULTIPLE == 2 && SPOTFLOW_PORT_WHOLE_STREAM == 4,
              "port flags");
static_assert(SPOTFLOW_LOG_DEBUG == 0 && SPOTFLOW_LOG_INFO == 1 && SPOTFLOW_LOG_WARNING == 2 &&
                  SPOTFLOW_LOG_ERROR == 3,
              "log levels");

int main() {
#define AS_ENTRY(expr, lp64) {#expr, expr},
    static const struct {
        const char* what;
        size_t cxx;
    } layout[] = {SPOTFLOW_ABI_LAYOUT(AS_ENTRY)};
    int failures = 0;
    for (size_t i = 0; i < std::size(layout); ++i) {
        if (layout[i].cxx != spotflow_abi_layout_c[i]) {
            std::fprintf(stderr, "%s: %zu in C, %zu in C++\n", layout[i].what, spotflow_abi_layout_c[i],
                         layout[i].cxx);
            ++failures;
        }
    }
    std::printf("%zu layout values checked, %d differ between C and C++\n", std::size(layout), failures);
    return failures ? 1 : 0;
}
