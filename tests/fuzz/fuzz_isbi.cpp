// Bytes -> read.isbi_xml's reader (the particle tracking challenge's XML).
#include <cstddef>
#include <cstdint>

#include "fuzz_input.hpp"
#include "isbi_format.hpp"
#include "spotflow/plugin_error.hpp"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
    static fuzz::MemFile file;
    const std::string path = file.write(data, size);
    try {
        (void)io_isbi::read_isbi(path);
    } catch (const spotflow::PluginError&) {
    }
    return 0;
}
