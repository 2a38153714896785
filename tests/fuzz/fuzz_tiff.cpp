// Bytes -> read.tiff's TIFF reader: open (page count, page 0 checks, declared
// sizes) and read every page in chunks, as the plugin does.
#include <cstddef>
#include <cstdint>
#include <vector>

#include "fuzz_input.hpp"
#include "spotflow/plugin_error.hpp"
#include "tiff_source.hpp"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
    static fuzz::MemFile file;
    const std::string path = file.write(data, size);
    if (!read_tiff::has_tiff_magic(data, size)) return 0;
    try {
        for (const bool truncated_ok : {false, true}) {
            read_tiff::TiffSource src(fuzz::quiet_host(), path, truncated_ok);
            const auto& m = src.layout();
            std::vector<unsigned char> buf(static_cast<size_t>(m.frame_bytes()));
            for (int64_t f = 0; f < m.frames; ++f) src.read_frames(f, 1, buf.data());
        }
    } catch (const spotflow::PluginError&) {
    }
    return 0;
}
