#pragma once
// Thin RAII over the HDF5 C API and the few typed reads and writes smbsim needs. Every
// failure becomes an smbsim::OutputError naming the object; HDF5's own error stack
// printing is switched off so a user never sees it.
#include "engine/output_error.hpp"

#include <hdf5.h>

#include <cstdint>
#include <stdexcept>
#include <string>
#include <utility>
#include <vector>

namespace smbsim {

class H5Id {
 public:
  using Closer = herr_t (*)(hid_t);
  H5Id() = default;
  H5Id(hid_t id, Closer close, const std::string& what);
  ~H5Id() { reset(); }
  H5Id(H5Id&& o) noexcept : id_(std::exchange(o.id_, -1)), close_(o.close_) {}
  H5Id& operator=(H5Id&& o) noexcept {
    if (this != &o) {
      reset();
      id_ = std::exchange(o.id_, -1);
      close_ = o.close_;
    }
    return *this;
  }
  H5Id(const H5Id&) = delete;
  H5Id& operator=(const H5Id&) = delete;
  hid_t get() const { return id_; }
  operator hid_t() const { return id_; }  // NOLINT: used as the C API's handle
  void reset();

 private:
  hid_t id_ = -1;
  Closer close_ = nullptr;
};

/// Switches off HDF5's automatic error printing on the calling thread and its exit
/// handler for the process (cheap after the first call on a thread). Call it before
/// the first HDF5 call of the process and of each thread.
void silence_hdf5_errors();
/// Throws OutputError("HDF5: cannot WHAT (OS reason)") if status < 0.
void h5check(herr_t status, const std::string& what);
[[noreturn]] void throw_hdf5_failure(const std::string& what);

H5Id create_group(hid_t parent, const std::string& name);
H5Id open_group(hid_t parent, const std::string& name);
bool link_exists(hid_t parent, const std::string& path);
std::vector<std::string> child_names(hid_t group);

void write_attr(hid_t obj, const std::string& name, const std::string& value);
void write_attr(hid_t obj, const std::string& name, std::int64_t value);
void write_attr(hid_t obj, const std::string& name, double value);
void write_attr(hid_t obj, const std::string& name, const std::vector<std::string>& values);
void write_attr(hid_t obj, const std::string& name, const std::vector<std::int32_t>& values);
std::string read_attr_string(hid_t obj, const std::string& name);
std::int64_t read_attr_int(hid_t obj, const std::string& name);
double read_attr_double(hid_t obj, const std::string& name);
bool has_attr(hid_t obj, const std::string& name);

/// A whole dataset written at once, with `units` and `description` attributes.
struct DatasetInfo {
  std::string units;
  std::string description;
};
H5Id write_dataset(hid_t parent, const std::string& name, const std::vector<double>& data,
                   const std::vector<hsize_t>& dims, const DatasetInfo& info);
H5Id write_dataset(hid_t parent, const std::string& name, const std::vector<std::int64_t>& data,
                   const std::vector<hsize_t>& dims, const DatasetInfo& info);
H5Id write_string_dataset(hid_t parent, const std::string& name,
                          const std::vector<std::string>& data, const DatasetInfo& info);

/// Marks `scale` as the dimension scale called `name` and attaches it to `dim` of each
/// dataset, so netCDF readers (xarray with h5netcdf) see named dimensions.
void make_scale(hid_t scale, const std::string& name);
void attach_scale(hid_t dataset, hid_t scale, unsigned dim);

/// Stored bytes can stand for at most this many bytes of values: deflate packs at most
/// 1032 to 1, and shuffle and checksums pack nothing.
inline constexpr double kMaxCompression = 1100;
/// Throws InputError unless the dataset stores enough bytes for the values it declares
/// (a damaged or forged size, or chunks never written, would otherwise be allocated).
void check_stored(hid_t dataset);
/// Reads a 1-D dataset, or a slice [offset, offset + count) of it, converted to T.
std::vector<double> read_doubles(hid_t parent, const std::string& path, hsize_t offset = 0,
                                 hsize_t count = HSIZE_UNDEF);
std::vector<std::int64_t> read_ints(hid_t parent, const std::string& path);
std::vector<std::string> read_strings(hid_t parent, const std::string& path);
/// The dimensions of a dataset.
std::vector<hsize_t> dataset_dims(hid_t parent, const std::string& path);

}  // namespace smbsim
