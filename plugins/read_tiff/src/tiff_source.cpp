#include "tiff_source.hpp"

#include <sys/stat.h>

#include <algorithm>
#include <cerrno>
#include <cstdarg>
#include <cstdio>
#include <cstring>
#include <optional>
#include <stdexcept>
#include <vector>

#include "calibration.hpp"
#include "errors.hpp"
#include "spotflow/tensor.hpp"

namespace read_tiff {
namespace {

struct PageFormat {
    uint32_t width = 0;
    uint32_t height = 0;
    uint16_t samples = 1;
    uint16_t bits = 1;
    uint16_t sample_format = SAMPLEFORMAT_UINT;
    uint16_t photometric = PHOTOMETRIC_MINISBLACK;
    uint16_t compression = COMPRESSION_NONE;
};

PageFormat page_format(TIFF* t) {
    PageFormat f;
    TIFFGetField(t, TIFFTAG_IMAGEWIDTH, &f.width);
    TIFFGetField(t, TIFFTAG_IMAGELENGTH, &f.height);
    TIFFGetFieldDefaulted(t, TIFFTAG_SAMPLESPERPIXEL, &f.samples);
    TIFFGetFieldDefaulted(t, TIFFTAG_BITSPERSAMPLE, &f.bits);
    TIFFGetFieldDefaulted(t, TIFFTAG_SAMPLEFORMAT, &f.sample_format);
    TIFFGetField(t, TIFFTAG_PHOTOMETRIC, &f.photometric);
    TIFFGetFieldDefaulted(t, TIFFTAG_COMPRESSION, &f.compression);
    return f;
}

std::optional<DLDataType> dtype_of(const PageFormat& f) {
    const uint8_t bits = static_cast<uint8_t>(f.bits);
    switch (f.sample_format) {
    case SAMPLEFORMAT_UINT:
    case SAMPLEFORMAT_VOID: // "undefined": cameras use it for plain counts
        if (bits == 8 || bits == 16 || bits == 32) return DLDataType{kDLUInt, bits, 1};
        break;
    case SAMPLEFORMAT_INT:
        if (bits == 8 || bits == 16 || bits == 32) return DLDataType{kDLInt, bits, 1};
        break;
    case SAMPLEFORMAT_IEEEFP:
        if (bits == 32 || bits == 64) return DLDataType{kDLFloat, bits, 1};
        break;
    }
    return std::nullopt;
}

// One line from libtiff's printf-style message.
std::string quoted(const std::string& path) { return "'" + path + "'"; }

std::string page_of(int64_t page, const std::string& path) {
    return "page " + std::to_string(page) + " of movie " + quoted(path);
}

// The checks every page must pass on its own: one greyscale sample of a
// supported pixel type.
DLDataType supported_dtype(const PageFormat& f, int64_t page, const std::string& path) {
    if (f.samples != 1)
        throw PluginError(SPOTFLOW_ERR_UNSUPPORTED,
                          page_of(page, path) + " has " + std::to_string(f.samples) +
                              " samples per pixel (RGB or interleaved channels); only single-sample greyscale "
                              "pages are supported");
    if (f.photometric == PHOTOMETRIC_PALETTE)
        throw PluginError(SPOTFLOW_ERR_UNSUPPORTED,
                          page_of(page, path) + " is a palette-colour image; only greyscale pages are supported");
    const auto dtype = dtype_of(f);
    if (!dtype)
        throw PluginError(SPOTFLOW_ERR_UNSUPPORTED,
                          page_of(page, path) + " has " + std::to_string(f.bits) +
                              "-bit samples of TIFF sample format " + std::to_string(f.sample_format) +
                              "; supported: 8/16/32-bit unsigned and signed integers, 32/64-bit floats");
    if (!TIFFIsCODECConfigured(f.compression))
        throw PluginError(SPOTFLOW_ERR_UNSUPPORTED, page_of(page, path) + " uses TIFF compression " +
                                                        std::to_string(f.compression) +
                                                        ", which this build of libtiff cannot decode");
    if (f.width == 0 || f.height == 0) throw PluginError(SPOTFLOW_ERR_FORMAT, page_of(page, path) + " has no pixels");
    return *dtype;
}

// Follows the page chain (the next-page offset at the end of each IFD) in the
// raw file and returns the number of pages before an offset repeats, or -1
// if the chain ends. libtiff stops at a loop silently, so a movie whose last
// page points back at its first read as a shorter one with no word said.
int64_t pages_before_loop(const std::string& path, uint64_t file_size) {
    std::unique_ptr<FILE, int (*)(FILE*)> f(std::fopen(path.c_str(), "rb"), std::fclose);
    if (!f) return -1;
    unsigned char h[16] = {};
    if (std::fread(h, 1, sizeof h, f.get()) < 8) return -1;
    const bool le = h[0] == 'I';
    auto get = [&](const unsigned char* p, int n) {
        uint64_t v = 0;
        for (int i = 0; i < n; ++i) v |= uint64_t{p[le ? i : n - 1 - i]} << (8 * i);
        return v;
    };
    const bool big = get(h + 2, 2) == 43;
    uint64_t off = big ? get(h + 8, 8) : get(h + 4, 4);
    std::vector<uint64_t> seen;
    while (off != 0 && off < file_size) {
        if (std::find(seen.begin(), seen.end(), off) != seen.end()) return static_cast<int64_t>(seen.size());
        seen.push_back(off);
        unsigned char c[8] = {};
        if (std::fseek(f.get(), static_cast<long>(off), SEEK_SET) != 0 || std::fread(c, 1, big ? 8 : 2, f.get()) != (big ? 8u : 2u))
            return -1;
        const uint64_t entries = get(c, big ? 8 : 2);
        const uint64_t next_at = off + (big ? 8 : 2) + entries * (big ? 20 : 12);
        if (next_at + (big ? 8 : 4) > file_size) return -1;
        if (std::fseek(f.get(), static_cast<long>(next_at), SEEK_SET) != 0 || std::fread(c, 1, big ? 8 : 4, f.get()) != (big ? 8u : 4u))
            return -1;
        off = get(c, big ? 8 : 4);
    }
    return -1;
}

} // namespace

bool has_tiff_magic(const unsigned char* h, size_t n) {
    if (n < 4) return false;
    const bool ii = h[0] == 'I' && h[1] == 'I' && (h[2] == 42 || h[2] == 43) && h[3] == 0;
    const bool mm = h[0] == 'M' && h[1] == 'M' && h[2] == 0 && (h[3] == 42 || h[3] == 43);
    return ii || mm;
}

TiffSource::TiffSource(const spotflow_host* host, std::string path, bool allow_truncated)
    : host_(host), path_(std::move(path)), errors_(host, path_, "movie ") {
    // "m": no memory mapping, so resident memory follows the chunks read,
    // not the pages of the file touched so far.
    tif_.reset(errors_.open("rm"));
    if (!tif_) throw PluginError(SPOTFLOW_ERR_FORMAT, "cannot read movie " + quoted(path_) + ": " + take_error());

    // A truncated file (an interrupted acquisition, a partial copy) leaves a
    // broken link after the last whole page. Reading on would silently
    // analyse part of the movie, so it fails unless the user asks for the
    // pages found. A page whose pixels are cut short fails when it is read.
    const tdir_t pages = TIFFNumberOfDirectories(tif_.get());
    if (errors_.has_error() && !allow_truncated)
        throw PluginError(SPOTFLOW_ERR_FORMAT, "movie " + quoted(path_) + " is truncated or corrupt after page " +
                                                   std::to_string(pages) + " (" + take_error() +
                                                   "); set allow_truncated to read the pages before it");
    if (errors_.has_error())
        host_->log(
            host_, SPOTFLOW_LOG_WARNING,
            ("movie " + quoted(path_) + ": " + take_error() + "; reading the " + std::to_string(pages) + " pages found")
                .c_str());

    const PageFormat f = page_format(tif_.get());
    layout_.dtype = supported_dtype(f, 0, path_);
    layout_.frames = pages;
    layout_.width = f.width;
    layout_.height = f.height;
    struct stat st {};
    if (::stat(path_.c_str(), &st) != 0)
        throw PluginError(SPOTFLOW_ERR_IO, "cannot read movie " + quoted(path_) + ": " + std::strerror(errno));
    file_size_ = static_cast<uint64_t>(st.st_size);
    check_declared_size(0);
    if (const int64_t before = pages_before_loop(path_, file_size_); before >= 0) {
        const std::string what = "movie " + quoted(path_) + ": its page chain loops back after page " +
                                 std::to_string(before - 1) + " (a corrupt file)";
        if (!allow_truncated)
            throw PluginError(SPOTFLOW_ERR_FORMAT, what + "; set allow_truncated to read the " + std::to_string(before) +
                                                       " pages before the loop");
        host_->log(host_, SPOTFLOW_LOG_WARNING, (what + "; reading the " + std::to_string(before) + " pages before it").c_str());
        layout_.frames = std::min<int64_t>(layout_.frames, before);
    }

    char* description = nullptr;
    float x_resolution = 0;
    uint16_t resolution_unit = RESUNIT_NONE;
    TIFFGetField(tif_.get(), TIFFTAG_IMAGEDESCRIPTION, &description);
    TIFFGetField(tif_.get(), TIFFTAG_XRESOLUTION, &x_resolution);
    TIFFGetFieldDefaulted(tif_.get(), TIFFTAG_RESOLUTIONUNIT, &resolution_unit);
    const Calibration c = parse_calibration(description ? description : "", x_resolution, resolution_unit);
    layout_.pixel_size_nm = c.pixel_size_nm;
    layout_.frame_interval_s = c.frame_interval_s;
    if (c.imagej_channels > 1)
        host_->log(host_, SPOTFLOW_LOG_WARNING,
                   ("movie " + quoted(path_) + " is an ImageJ hyperstack of " + std::to_string(c.imagej_channels) +
                    " channels; its pages are read in file order, one frame each")
                       .c_str());
}

// A header declares sizes; the file must hold them. Checked before any
// pixel buffer is allocated: a 274-byte file declaring 100000 x 100000
// pixels made the reader reserve 19.5 GB.
void TiffSource::check_declared_size(int64_t page) const {
    TIFF* t = tif_.get();
    const double declared = static_cast<double>(layout_.width) * static_cast<double>(layout_.height) *
                            static_cast<double>(layout_.dtype.bits / 8);
    if (declared > 0x1p46)
        throw PluginError(SPOTFLOW_ERR_FORMAT, page_of(page, path_) + " declares " + std::to_string(layout_.width) +
                                                   "x" + std::to_string(layout_.height) +
                                                   " pixels, beyond any movie (a corrupt header?)");
    const bool tiled = TIFFIsTiled(t) != 0;
    const uint32_t blocks = tiled ? TIFFNumberOfTiles(t) : TIFFNumberOfStrips(t);
    if (blocks == 0 || blocks > file_size_)
        throw PluginError(SPOTFLOW_ERR_FORMAT, page_of(page, path_) + " declares " + std::to_string(blocks) +
                                                   (tiled ? " tiles" : " strips") + " in a file of " +
                                                   std::to_string(file_size_) + " bytes (truncated or corrupt)");
    if (tiled) {
        // A tile larger than the page it tiles is legal, but its size is read
        // from the file (a fuzzed 8 x 8 page declared 43 GB tiles) and the
        // reader allocates one. Real tiles (16 to 1024 px a side) are within
        // 4 pages or 1 MiB.
        uint32_t tile_w = 0, tile_h = 0;
        TIFFGetField(t, TIFFTAG_TILEWIDTH, &tile_w);
        TIFFGetField(t, TIFFTAG_TILELENGTH, &tile_h);
        const uint64_t tile_bytes = uint64_t{tile_w} * tile_h * (layout_.dtype.bits / 8);
        const uint64_t bound = std::max<uint64_t>(uint64_t{1} << 20, 4 * static_cast<uint64_t>(layout_.frame_bytes()));
        if (tile_bytes == 0 || tile_bytes > bound)
            throw PluginError(SPOTFLOW_ERR_FORMAT, page_of(page, path_) + " declares tiles of " + std::to_string(tile_w) +
                                                       " x " + std::to_string(tile_h) + " px (" + std::to_string(tile_bytes) +
                                                       " bytes) for a page of " + std::to_string(layout_.width) + " x " +
                                                       std::to_string(layout_.height) + " px (a corrupt header?)");
    }
    uint64_t stored = 0;
    for (uint32_t i = 0; i < blocks; ++i) {
        const uint64_t off = TIFFGetStrileOffset(t, i);
        const uint64_t n = TIFFGetStrileByteCount(t, i);
        if (off > file_size_ || n > file_size_ - off)
            throw PluginError(SPOTFLOW_ERR_FORMAT,
                              page_of(page, path_) + " declares pixel data at bytes " + std::to_string(off) + ".." +
                                  std::to_string(off + n) + ", but the file has " + std::to_string(file_size_) +
                                  " bytes (truncated, or a corrupt header declaring " + std::to_string(layout_.width) +
                                  "x" + std::to_string(layout_.height) + " pixels)");
        stored += n;
    }
    const auto want = static_cast<uint64_t>(layout_.frame_bytes());
    uint16_t compression = COMPRESSION_NONE;
    TIFFGetFieldDefaulted(t, TIFFTAG_COMPRESSION, &compression);
    // Strips or tiles may overlap (a fuzzed file: 1000 strips each naming the
    // whole file), so no more than the file's length counts as stored. Tiles
    // cover the page, padding included, so an uncompressed page, striped or
    // tiled, stores at least its pixels: a tiled 2^31 x 1 page in 940 bytes
    // made libtiff and the reader take 8.4 GB.
    const uint64_t held = std::min(stored, file_size_);
    if (compression == COMPRESSION_NONE && held < want)
        throw PluginError(SPOTFLOW_ERR_FORMAT, page_of(page, path_) + " declares " + std::to_string(layout_.width) +
                                                   "x" + std::to_string(layout_.height) + " pixels (" +
                                                   std::to_string(want) + " bytes) but stores " +
                                                   std::to_string(held) + " bytes of them (truncated or corrupt)");
    // No codec libtiff has expands 4096-fold on real pixels (LZW at most
    // ~2700-fold); a large page claiming more is a corrupt header.
    if (compression != COMPRESSION_NONE && want > (uint64_t{256} << 20) && want / 4096 > held)
        throw PluginError(SPOTFLOW_ERR_FORMAT, page_of(page, path_) + " declares " + std::to_string(want) +
                                                   " bytes of pixels from " + std::to_string(held) +
                                                   " compressed bytes, more than any TIFF codec expands (a corrupt header?)");
}

void TiffSource::read_frames(int64_t first, int64_t count, void* dst) {
    auto* out = static_cast<unsigned char*>(dst);
    for (int64_t i = 0; i < count; ++i) {
        // A chunk of large pages takes a while: stop when the run stops (Ctrl-C).
        if (host_->is_cancelled(host_)) throw PluginError(SPOTFLOW_ERR_CANCELLED, "cancelled");
        read_page(first + i, out + i * layout_.frame_bytes());
    }
}

void TiffSource::read_page(int64_t page, unsigned char* dst) {
    go_to_page(page);
    check_page(page);
    if (page > 0) check_declared_size(page);
    if (TIFFIsTiled(tif_.get())) read_tiles(page, dst);
    else read_strips(page, dst);
}

// Pages are read in order, so libtiff only ever steps to the next directory.
void TiffSource::go_to_page(int64_t page) {
    if (page == page_) return;
    if (page != page_ + 1) throw std::logic_error("TiffSource: pages must be read in order");
    if (!TIFFReadDirectory(tif_.get())) fail_read(page);
    page_ = page;
}

void TiffSource::check_page(int64_t page) const {
    const PageFormat f = page_format(tif_.get());
    const DLDataType dtype = supported_dtype(f, page, path_);
    if (f.width != layout_.width || f.height != layout_.height)
        throw PluginError(SPOTFLOW_ERR_FORMAT, page_of(page, path_) + " is " + std::to_string(f.width) + "x" +
                                                   std::to_string(f.height) + " pixels, but page 0 is " +
                                                   std::to_string(layout_.width) + "x" +
                                                   std::to_string(layout_.height));
    if (!spotflow::same_dtype(dtype, layout_.dtype))
        throw PluginError(SPOTFLOW_ERR_FORMAT, page_of(page, path_) + " holds " + spotflow::dtype_name(dtype) +
                                                   " pixels, but page 0 holds " + spotflow::dtype_name(layout_.dtype));
}

void TiffSource::read_strips(int64_t page, unsigned char* dst) {
    const tmsize_t want = layout_.frame_bytes();
    tmsize_t got = 0;
    const uint32_t strips = TIFFNumberOfStrips(tif_.get());
    for (uint32_t s = 0; s < strips && got < want; ++s) {
        const tmsize_t n = TIFFReadEncodedStrip(tif_.get(), s, dst + got, want - got);
        if (n < 0) fail_read(page);
        got += n;
    }
    if (got != want)
        throw PluginError(SPOTFLOW_ERR_FORMAT, "cannot read " + page_of(page, path_) + ": its strips hold " +
                                                   std::to_string(got) + " bytes, expected " + std::to_string(want));
}

void TiffSource::read_tiles(int64_t page, unsigned char* dst) {
    uint32_t tile_w = 0, tile_h = 0;
    TIFFGetField(tif_.get(), TIFFTAG_TILEWIDTH, &tile_w);
    TIFFGetField(tif_.get(), TIFFTAG_TILELENGTH, &tile_h);
    if (tile_w == 0 || tile_h == 0)
        throw PluginError(SPOTFLOW_ERR_FORMAT, "cannot read " + page_of(page, path_) + ": tiles of size 0");
    std::vector<unsigned char> tile(static_cast<size_t>(TIFFTileSize(tif_.get())));
    const size_t px = layout_.dtype.bits / 8;
    const auto width = static_cast<uint32_t>(layout_.width);
    const auto height = static_cast<uint32_t>(layout_.height);
    for (uint32_t y = 0; y < height; y += tile_h) {
        for (uint32_t x = 0; x < width; x += tile_w) {
            const uint32_t index = TIFFComputeTile(tif_.get(), x, y, 0, 0);
            if (TIFFReadEncodedTile(tif_.get(), index, tile.data(), static_cast<tmsize_t>(tile.size())) < 0)
                fail_read(page);
            const uint32_t rows = std::min(tile_h, height - y);
            const uint32_t cols = std::min(tile_w, width - x);
            for (uint32_t r = 0; r < rows; ++r)
                std::memcpy(dst + ((size_t{y} + r) * width + x) * px, tile.data() + size_t{r} * tile_w * px, cols * px);
        }
    }
}

void TiffSource::fail_read(int64_t page) {
    throw PluginError(SPOTFLOW_ERR_FORMAT, "cannot read " + page_of(page, path_) + ": " + take_error());
}

} // namespace read_tiff
