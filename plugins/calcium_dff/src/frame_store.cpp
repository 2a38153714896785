#include "frame_store.hpp"

#include <cerrno>
#include <cstring>
#include <stdexcept>
#include <string>

#include "spotflow/tensor.hpp"

namespace calcium_dff {

FrameStore::FrameStore() : file_(std::tmpfile(), &std::fclose) {
    if (!file_) throw std::runtime_error(std::string("cannot create a temporary file for the movie: ") + std::strerror(errno));
}

void FrameStore::append(const DLTensor& c, int64_t first) {
    if (c.ndim != 3) throw std::invalid_argument("the movie must be T x H x W");
    const int h = static_cast<int>(c.shape[1]), w = static_cast<int>(c.shape[2]);
    if (frames_ == 0) {
        width_ = w;
        height_ = h;
    } else if (w != width_ || h != height_) {
        throw std::invalid_argument("movie frames change size from " + std::to_string(width_) + "x" +
                                    std::to_string(height_) + " to " + std::to_string(w) + "x" + std::to_string(h));
    }
    if (first != frames_)
        throw std::invalid_argument("movie chunk starts at frame " + std::to_string(first) + ", expected " +
                                    std::to_string(frames_));
    const int64_t plane = static_cast<int64_t>(w) * h;
    std::vector<float> buf(static_cast<size_t>(plane));
    for (int64_t t = 0; t < c.shape[0]; ++t) {
        for (int64_t i = 0; i < plane; ++i) buf[static_cast<size_t>(i)] = static_cast<float>(spotflow::element_as_double(c, t * plane + i));
        if (std::fwrite(buf.data(), sizeof(float), buf.size(), file_.get()) != buf.size())
            throw std::runtime_error(std::string("cannot write the temporary movie file: ") + std::strerror(errno));
    }
    frames_ += c.shape[0];
}

std::vector<float> FrameStore::read(int64_t t) const {
    const size_t plane = static_cast<size_t>(width_) * static_cast<size_t>(height_);
    std::vector<float> buf(plane);
    if (std::fseek(file_.get(), static_cast<long>(static_cast<size_t>(t) * plane * sizeof(float)), SEEK_SET) != 0 ||
        std::fread(buf.data(), sizeof(float), plane, file_.get()) != plane)
        throw std::runtime_error("cannot read frame " + std::to_string(t) + " back from the temporary movie file");
    return buf;
}

} // namespace calcium_dff
