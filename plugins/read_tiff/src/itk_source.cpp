#include "itk_source.hpp"

#include <unistd.h>

#include <itkImageIOBase.h>
#include <itkImageIOFactory.h>
#include <itkMRCImageIOFactory.h>
#include <itkMetaImageIOFactory.h>
#include <itkNiftiImageIOFactory.h>
#include <itkNrrdImageIOFactory.h>
#include <itkPNGImageIOFactory.h>
#include <itkVTKImageIOFactory.h>

#include <cstring>
#include <mutex>
#include <optional>
#include <sstream>

#include "errors.hpp"

namespace read_tiff {
namespace {

// Registered on first use rather than at dlopen, so listing plugins runs no
// ITK code.
void register_itk_readers() {
    static std::once_flag once;
    std::call_once(once, [] {
        itk::MetaImageIOFactory::RegisterOneFactory();
        itk::NrrdImageIOFactory::RegisterOneFactory();
        itk::NiftiImageIOFactory::RegisterOneFactory();
        itk::MRCImageIOFactory::RegisterOneFactory();
        itk::VTKImageIOFactory::RegisterOneFactory();
        itk::PNGImageIOFactory::RegisterOneFactory();
    });
}

std::optional<DLDataType> dtype_of(itk::IOComponentEnum c) {
    using C = itk::IOComponentEnum;
    switch (c) {
    case C::UCHAR: return DLDataType{kDLUInt, 8, 1};
    case C::CHAR: return DLDataType{kDLInt, 8, 1};
    case C::USHORT: return DLDataType{kDLUInt, 16, 1};
    case C::SHORT: return DLDataType{kDLInt, 16, 1};
    case C::UINT: return DLDataType{kDLUInt, 32, 1};
    case C::INT: return DLDataType{kDLInt, 32, 1};
    case C::FLOAT: return DLDataType{kDLFloat, 32, 1};
    case C::DOUBLE: return DLDataType{kDLFloat, 64, 1};
    default: return std::nullopt;
    }
}

// ITK descriptions span lines and start with the reporting object and its
// address ("ITK ERROR: NrrdImageIO(0x55d0...): "); keep the words after it.
std::string one_line(const std::string& text) {
    std::istringstream in(text);
    std::string word, line;
    while (in >> word) line += (line.empty() ? "" : " ") + word;
    const size_t object_end = line.find("): ");
    if ((line.rfind("ITK ERROR: ", 0) == 0 || line.rfind("itk::ERROR: ", 0) == 0) && object_end != std::string::npos &&
        line.find("(0x") < object_end)
        line.erase(0, object_end + 3);
    return line.empty() ? "ITK reported no reason" : line;
}

} // namespace

ItkSource::ItkSource(std::string path) : path_(std::move(path)) {
    const std::string where = "cannot read movie '" + path_ + "': ";
    register_itk_readers();
    try {
        itk::ImageIOBase::Pointer io = itk::ImageIOFactory::CreateImageIO(path_.c_str(), itk::IOFileModeEnum::ReadMode);
        if (!io) throw PluginError(SPOTFLOW_ERR_FORMAT, where + "not a TIFF file, and no image reader recognises it");
        io->SetFileName(path_);
        io->ReadImageInformation();

        if (io->GetNumberOfComponents() != 1)
            throw PluginError(SPOTFLOW_ERR_UNSUPPORTED,
                              where + "it has " + std::to_string(io->GetNumberOfComponents()) +
                                  " components per pixel; only single-component greyscale images are supported");
        const auto dtype = dtype_of(io->GetComponentType());
        if (!dtype)
            throw PluginError(SPOTFLOW_ERR_UNSUPPORTED,
                              where + "unsupported pixel type " +
                                  itk::ImageIOBase::GetComponentTypeAsString(io->GetComponentType()));
        const unsigned dims = io->GetNumberOfDimensions();
        // ITK may report trailing dimensions of size 1 (a NIfTI 4-D stack of one volume).
        for (unsigned d = 3; d < dims; ++d)
            if (io->GetDimensions(d) != 1)
                throw PluginError(SPOTFLOW_ERR_UNSUPPORTED,
                                  where + "it has " + std::to_string(dims) + " dimensions; movies have 2 or 3");
        if (dims < 2) throw PluginError(SPOTFLOW_ERR_UNSUPPORTED, where + "it has 1 dimension; movies have 2 or 3");

        // ITK's first index is x (column): its buffer is row-major T x H x W.
        layout_.dtype = *dtype;
        layout_.width = io->GetDimensions(0);
        layout_.height = io->GetDimensions(1);
        layout_.frames = dims >= 3 ? io->GetDimensions(2) : 1;

        itk::ImageIORegion region(dims);
        for (unsigned d = 0; d < dims; ++d) region.SetSize(d, io->GetDimensions(d));
        io->SetIORegion(region);
        // The whole image is read at once: its declared size must fit.
        const double bytes = static_cast<double>(layout_.frames) * static_cast<double>(layout_.width) *
                             static_cast<double>(layout_.height) * (layout_.dtype.bits / 8);
        const double budget = static_cast<double>(sysconf(_SC_PHYS_PAGES)) * static_cast<double>(sysconf(_SC_PAGESIZE)) / 4;
        if (bytes > budget)
            throw PluginError(SPOTFLOW_ERR_FORMAT, where + "it declares " + std::to_string(layout_.width) + "x" +
                                                       std::to_string(layout_.height) + "x" + std::to_string(layout_.frames) +
                                                       " pixels, more than a quarter of this machine's memory");
        pixels_.resize(static_cast<size_t>(layout_.frames * layout_.frame_bytes()));
        io->Read(pixels_.data());
    } catch (const itk::ExceptionObject& e) {
        throw PluginError(SPOTFLOW_ERR_FORMAT, where + one_line(e.GetDescription()));
    }
}

void ItkSource::read_frames(int64_t first, int64_t count, void* dst) {
    const auto bytes = static_cast<size_t>(layout_.frame_bytes());
    std::memcpy(dst, pixels_.data() + static_cast<size_t>(first) * bytes, static_cast<size_t>(count) * bytes);
}

} // namespace read_tiff
