// spotflow-make-test-movie: a deterministic synthetic movie of Gaussian spots
// on a constant background with Poisson shot noise, written as a multi-page
// TIFF (libtiff only, so it builds without ITK), plus the ground truth as CSV.
//
// Each spot is a pixel-integrated Gaussian holding --photons expected photons
// per frame; spots take Brownian steps and reflect off a margin of 3 sigma,
// so every true position lies well inside the image. The truth CSV has one
// row per spot and frame: its centre (pixels, centre of the top-left pixel =
// (0, 0)), its expected photons and its track_id (the spot's index).
#include <tiffio.h>

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <limits>
#include <memory>
#include <random>
#include <stdexcept>
#include <string>
#include <vector>

#include <CLI/CLI.hpp>
#include <fmt/format.h>
#include <fmt/os.h>

namespace {

constexpr double kStepSigmaPx = 0.3; // Brownian step per frame and axis

struct Options {
    std::string out;
    std::string truth;
    int frames = 20;
    int size = 64;
    int spots = 5;
    double photons = 2000;
    double background = 10;
    double sigma = 1.3;
    std::string dtype = "uint16";
    bool bigtiff = false;
    double pixel_size_nm = 108;
    double frame_interval_s = 0.05;
    uint64_t seed = 1;
};

struct Spot {
    double x;
    double y;
};

// Fraction of a unit Gaussian centred at c (sd sigma) that falls in each
// pixel [i - 0.5, i + 0.5] of a row of n pixels.
std::vector<double> pixel_fractions(double c, double sigma, int n) {
    std::vector<double> f(static_cast<size_t>(n));
    const double s = std::sqrt(2.0) * sigma;
    for (int i = 0; i < n; ++i) f[i] = 0.5 * (std::erf((i + 0.5 - c) / s) - std::erf((i - 0.5 - c) / s));
    return f;
}

// Keeps v in [lo, hi] by reflecting off the bounds.
double reflect(double v, double lo, double hi) {
    while (v < lo || v > hi) v = v < lo ? 2 * lo - v : 2 * hi - v;
    return v;
}

template <class T> std::vector<T> convert(const std::vector<double>& counts) {
    std::vector<T> out(counts.size());
    const double lo = static_cast<double>(std::numeric_limits<T>::lowest());
    const double hi = static_cast<double>(std::numeric_limits<T>::max());
    for (size_t i = 0; i < counts.size(); ++i) out[i] = static_cast<T>(std::clamp(counts[i], lo, hi));
    return out;
}

class TiffOut {
public:
    explicit TiffOut(const Options& o) : o_(o) {
        tif_ = TIFFOpen(o.out.c_str(), o.bigtiff ? "w8" : "w");
        if (!tif_) throw std::runtime_error("cannot create '" + o.out + "'");
    }
    ~TiffOut() {
        if (tif_) TIFFClose(tif_);
    }
    void close() {
        const bool ok = TIFFFlush(tif_) == 1;
        TIFFClose(tif_);
        tif_ = nullptr;
        if (!ok) throw std::runtime_error("cannot write '" + o_.out + "'");
    }

    void write_page(int frame, const std::vector<double>& counts) {
        if (o_.dtype == "uint8") write(frame, convert<uint8_t>(counts), SAMPLEFORMAT_UINT);
        else if (o_.dtype == "uint16") write(frame, convert<uint16_t>(counts), SAMPLEFORMAT_UINT);
        else if (o_.dtype == "uint32") write(frame, convert<uint32_t>(counts), SAMPLEFORMAT_UINT);
        else if (o_.dtype == "int16") write(frame, convert<int16_t>(counts), SAMPLEFORMAT_INT);
        else write(frame, convert<float>(counts), SAMPLEFORMAT_IEEEFP);
    }

private:
    template <class T> void write(int frame, std::vector<T> pixels, uint16_t sample_format) {
        const auto n = static_cast<uint32_t>(o_.size);
        TIFFSetField(tif_, TIFFTAG_IMAGEWIDTH, n);
        TIFFSetField(tif_, TIFFTAG_IMAGELENGTH, n);
        TIFFSetField(tif_, TIFFTAG_SAMPLESPERPIXEL, uint16_t{1});
        TIFFSetField(tif_, TIFFTAG_BITSPERSAMPLE, static_cast<uint16_t>(8 * sizeof(T)));
        TIFFSetField(tif_, TIFFTAG_SAMPLEFORMAT, sample_format);
        TIFFSetField(tif_, TIFFTAG_PHOTOMETRIC, PHOTOMETRIC_MINISBLACK);
        TIFFSetField(tif_, TIFFTAG_PLANARCONFIG, PLANARCONFIG_CONTIG);
        TIFFSetField(tif_, TIFFTAG_ROWSPERSTRIP, n);
        if (frame == 0) {
            std::string d = fmt::format("ImageJ=1.11a\nimages={0}\nframes={0}\n", o_.frames);
            if (o_.pixel_size_nm > 0) d += "unit=micron\n";
            if (o_.frame_interval_s > 0) d += fmt::format("finterval={}\n", o_.frame_interval_s);
            TIFFSetField(tif_, TIFFTAG_IMAGEDESCRIPTION, (d + "loop=false\n").c_str());
        }
        if (o_.pixel_size_nm > 0) {
            // ImageJ's convention: resolution in pixels per micron, as "unit=micron" says.
            TIFFSetField(tif_, TIFFTAG_XRESOLUTION, 1000.0 / o_.pixel_size_nm);
            TIFFSetField(tif_, TIFFTAG_YRESOLUTION, 1000.0 / o_.pixel_size_nm);
            TIFFSetField(tif_, TIFFTAG_RESOLUTIONUNIT, uint16_t{RESUNIT_NONE});
        }
        if (TIFFWriteEncodedStrip(tif_, 0, pixels.data(), static_cast<tmsize_t>(pixels.size() * sizeof(T))) < 0 ||
            !TIFFWriteDirectory(tif_))
            throw std::runtime_error(fmt::format("cannot write frame {} of '{}'", frame, o_.out));
    }

    const Options& o_;
    TIFF* tif_ = nullptr;
};

void simulate(const Options& o) {
    std::mt19937_64 rng(o.seed);
    const double margin = std::min(3 * o.sigma, (o.size - 1) / 2.0);
    const double lo = margin, hi = o.size - 1 - margin;
    std::uniform_real_distribution<double> place(lo, hi);
    std::normal_distribution<double> step(0, kStepSigmaPx);

    // Spots start at least 6 sigma apart where the field allows, so that a
    // test can expect every one to be resolved; rejection sampling gives up
    // on the spacing after a bounded number of tries on a crowded field.
    std::vector<Spot> spots;
    const double min_d2 = 36 * o.sigma * o.sigma;
    for (int k = 0; k < o.spots; ++k) {
        Spot s{place(rng), place(rng)};
        for (int tries = 0; tries < 1000; ++tries) {
            const bool clear = std::all_of(spots.begin(), spots.end(), [&](const Spot& q) {
                return (q.x - s.x) * (q.x - s.x) + (q.y - s.y) * (q.y - s.y) >= min_d2;
            });
            if (clear) break;
            s = {place(rng), place(rng)};
        }
        spots.push_back(s);
    }

    TiffOut tiff(o);
    std::unique_ptr<fmt::ostream> truth;
    if (!o.truth.empty()) {
        truth = std::make_unique<fmt::ostream>(fmt::output_file(o.truth));
        truth->print("frame,x,y,photons,track_id\n");
    }
    const size_t pixels = size_t(o.size) * size_t(o.size);
    for (int t = 0; t < o.frames; ++t) {
        std::vector<double> expected(pixels, o.background);
        for (size_t k = 0; k < spots.size(); ++k) {
            Spot& s = spots[k];
            if (t > 0) s = {reflect(s.x + step(rng), lo, hi), reflect(s.y + step(rng), lo, hi)};
            const auto fx = pixel_fractions(s.x, o.sigma, o.size);
            const auto fy = pixel_fractions(s.y, o.sigma, o.size);
            for (int y = 0; y < o.size; ++y)
                for (int x = 0; x < o.size; ++x) expected[size_t(y) * o.size + x] += o.photons * fy[y] * fx[x];
            if (truth) truth->print("{},{},{},{},{}\n", t, s.x, s.y, o.photons, k);
        }
        std::vector<double> counts(pixels);
        // std::poisson_distribution needs a positive mean; a zero background far from spots has none.
        for (size_t i = 0; i < pixels; ++i)
            if (expected[i] > 0) counts[i] = static_cast<double>(std::poisson_distribution<int64_t>(expected[i])(rng));
        tiff.write_page(t, counts);
    }
    tiff.close();
    if (truth) truth->close();
}

} // namespace

int main(int argc, char** argv) {
    Options o;
    CLI::App app{"Writes a synthetic movie of Gaussian spots with Poisson noise, and its ground truth."};
    app.add_option("--out", o.out, "Movie file to write (TIFF)")->required();
    app.add_option("--truth", o.truth, "Ground-truth CSV to write: frame,x,y,photons,track_id");
    const auto option = [&app](const char* name, auto& value, const char* help) {
        return app.add_option(name, value, help)->capture_default_str();
    };
    option("--frames", o.frames, "Number of frames")->check(CLI::PositiveNumber);
    option("--size", o.size, "Width and height in pixels")->check(CLI::Range(8, 16384));
    option("--spots", o.spots, "Number of spots (tracks)")->check(CLI::NonNegativeNumber);
    option("--photons", o.photons, "Expected photons per spot and frame")->check(CLI::NonNegativeNumber);
    option("--background", o.background, "Expected background photons per pixel")->check(CLI::NonNegativeNumber);
    option("--sigma", o.sigma, "Gaussian sd of a spot, in pixels")->check(CLI::PositiveNumber);
    option("--dtype", o.dtype, "Pixel type")->check(CLI::IsMember({"uint8", "uint16", "uint32", "int16", "float32"}));
    app.add_flag("--bigtiff", o.bigtiff, "Write BigTIFF");
    option("--pixel-size-nm", o.pixel_size_nm, "Pixel size written as resolution (0: none)")
        ->check(CLI::NonNegativeNumber);
    option("--frame-interval-s", o.frame_interval_s, "Frame interval written as ImageJ finterval (0: none)")
        ->check(CLI::NonNegativeNumber);
    option("--seed", o.seed, "Random seed");
    CLI11_PARSE(app, argc, argv);

    try {
        simulate(o);
    } catch (const std::exception& e) {
        std::fprintf(stderr, "spotflow-make-test-movie: %s\n", e.what());
        return 1;
    }
    return 0;
}
