// Non-TIFF images that ITK reads (MetaImage .mha/.mhd, NRRD, NIfTI, MRC,
// VTK, PNG): ITK cannot stream them page by page, so the whole image is read
// at open and handed out in chunks.
#pragma once

#include <string>
#include <vector>

#include "movie_source.hpp"

namespace read_tiff {

class ItkSource final : public MovieSource {
public:
    // Reads the whole image; throws PluginError (FORMAT if no ITK reader
    // recognises the file).
    explicit ItkSource(std::string path);

    void read_frames(int64_t first, int64_t count, void* dst) override;

private:
    std::string path_;
    std::vector<unsigned char> pixels_;
};

} // namespace read_tiff
