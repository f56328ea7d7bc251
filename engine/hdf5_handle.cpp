#include "engine/hdf5_handle.hpp"

#include "engine/input_error.hpp"

#include <hdf5_hl.h>

#include <cmath>
#include <cstring>
#include <mutex>

namespace smbsim {

namespace {
/// The operating system's reason for the HDF5 failure just reported on this thread, if
/// any (" (No space left on device)"), read from HDF5's error stack, which it clears.
std::string os_reason() {
  std::string reason;
  auto visit = [](unsigned, const H5E_error2_t* e, void* data) -> herr_t {
    auto& out = *static_cast<std::string*>(data);
    // The file drivers write "..., errno = 28, error message = 'No space left on device', ...".
    const char* at = e->desc ? std::strstr(e->desc, "error message = '") : nullptr;
    if (at && out.empty()) {
      at += std::strlen("error message = '");
      const char* end = std::strchr(at, '\'');
      out.assign(at, end ? end : at + std::strlen(at));
    }
    return 0;
  };
  H5Ewalk2(H5E_DEFAULT, H5E_WALK_DOWNWARD, visit, &reason);
  H5Eclear2(H5E_DEFAULT);
  return reason.empty() ? "" : " (" + reason + ")";
}
}  // namespace

[[noreturn]] void throw_hdf5_failure(const std::string& what) {
  throw OutputError("HDF5: cannot " + what + os_reason());
}

H5Id::H5Id(hid_t id, Closer close, const std::string& what) : id_(id), close_(close) {
  if (id < 0) throw_hdf5_failure(what);
}

void H5Id::reset() {
  if (id_ >= 0 && close_) close_(id_);
  id_ = -1;
}

void silence_hdf5_errors() {
  static std::once_flag once;
  std::call_once(once, [] {
    // First, before anything starts the library: no H5close at exit. After a failed
    // write (a full disk) the library still holds the file, and closing it again from
    // the exit handler crashed in H5F__close_cb. The process's end closes the file.
    H5dont_atexit();
  });
  // The error stack, and so its automatic printing, is per thread in a thread-safe
  // libhdf5: switch it off on every thread that calls HDF5 (the writer stage of the
  // runner moves between worker threads).
  thread_local bool silenced = false;
  if (!silenced) silenced = H5Eset_auto2(H5E_DEFAULT, nullptr, nullptr) >= 0;
}

void h5check(herr_t status, const std::string& what) {
  if (status < 0) throw_hdf5_failure(what);
}

H5Id create_group(hid_t parent, const std::string& name) {
  H5Id lcpl(H5Pcreate(H5P_LINK_CREATE), H5Pclose, "make a property list");
  h5check(H5Pset_create_intermediate_group(lcpl, 1), "set group creation");
  // Track creation order so members list in the order they were written.
  H5Id gcpl(H5Pcreate(H5P_GROUP_CREATE), H5Pclose, "make a property list");
  h5check(H5Pset_link_creation_order(gcpl, H5P_CRT_ORDER_TRACKED | H5P_CRT_ORDER_INDEXED),
          "set creation order");
  return H5Id(H5Gcreate2(parent, name.c_str(), lcpl, gcpl, H5P_DEFAULT), H5Gclose,
              "create group " + name);
}

H5Id open_group(hid_t parent, const std::string& name) {
  return H5Id(H5Gopen2(parent, name.c_str(), H5P_DEFAULT), H5Gclose, "open group " + name);
}

bool link_exists(hid_t parent, const std::string& path) {
  // Check each prefix: H5Lexists fails on a path whose intermediate groups are missing.
  std::size_t pos = 0;
  while (true) {
    pos = path.find('/', pos + 1);
    const std::string prefix = path.substr(0, pos);
    if (H5Lexists(parent, prefix.c_str(), H5P_DEFAULT) <= 0) return false;
    if (pos == std::string::npos) return true;
  }
}

std::vector<std::string> child_names(hid_t group) {
  std::vector<std::string> names;
  auto collect = [](hid_t, const char* name, const H5L_info_t*, void* data) -> herr_t {
    static_cast<std::vector<std::string>*>(data)->emplace_back(name);
    return 0;
  };
  if (H5Literate(group, H5_INDEX_CRT_ORDER, H5_ITER_INC, nullptr, collect, &names) < 0) {
    names.clear();  // a group that does not track creation order: list by name
    h5check(H5Literate(group, H5_INDEX_NAME, H5_ITER_INC, nullptr, collect, &names), "list group members");
  }
  return names;
}

namespace {
H5Id string_type(std::size_t length) {
  H5Id t(H5Tcopy(H5T_C_S1), H5Tclose, "make string type");
  if (length == 0) {
    h5check(H5Tset_size(t, H5T_VARIABLE), "set string size");
  } else {
    h5check(H5Tset_size(t, length), "set string size");
  }
  h5check(H5Tset_cset(t, H5T_CSET_UTF8), "set string charset");
  return t;
}

void write_attr_raw(hid_t obj, const std::string& name, hid_t type, const void* data,
                    hsize_t n, bool scalar) {
  H5Id space(scalar ? H5Screate(H5S_SCALAR) : H5Screate_simple(1, &n, nullptr), H5Sclose,
             "make dataspace");
  if (H5Aexists(obj, name.c_str()) > 0) h5check(H5Adelete(obj, name.c_str()), "replace attribute " + name);
  H5Id attr(H5Acreate2(obj, name.c_str(), type, space, H5P_DEFAULT, H5P_DEFAULT), H5Aclose,
            "create attribute " + name);
  h5check(H5Awrite(attr, type, data), "write attribute " + name);
}

void set_info(hid_t dataset, const DatasetInfo& info) {
  write_attr(dataset, "units", info.units);
  write_attr(dataset, "description", info.description);
}

/// A dataset to be written whole now (`whole`), or in pieces later. Small whole ones
/// (the monthly statistics: a few KB) are stored contiguous: chunking and deflate would
/// save a few hundred bytes each for most of the time spent writing them.
H5Id create_numeric_dataset(hid_t parent, const std::string& name, hid_t file_type,
                       const std::vector<hsize_t>& dims, bool whole) {
  H5Id space(H5Screate_simple(static_cast<int>(dims.size()), dims.data(), nullptr), H5Sclose,
             "make dataspace for " + name);
  H5Id dcpl(H5Pcreate(H5P_DATASET_CREATE), H5Pclose, "make property list");
  hsize_t total = 1;
  for (auto d : dims) total *= d;
  constexpr hsize_t kSmallElements = 8192;  // 64 KB of doubles
  if (total > 0 && !(whole && total <= kSmallElements)) {
    std::vector<hsize_t> chunk = dims;
    // Chunk along the first axis: about 16k elements per chunk.
    hsize_t row = 1;
    for (std::size_t i = 1; i < dims.size(); ++i) row *= std::max<hsize_t>(dims[i], 1);
    chunk[0] = std::max<hsize_t>(1, std::min<hsize_t>(dims[0], 16384 / row));
    h5check(H5Pset_chunk(dcpl, static_cast<int>(chunk.size()), chunk.data()), "chunk " + name);
    h5check(H5Pset_shuffle(dcpl), "shuffle " + name);
    h5check(H5Pset_deflate(dcpl, 1), "compress " + name);
  }
  return H5Id(H5Dcreate2(parent, name.c_str(), file_type, space, H5P_DEFAULT, dcpl, H5P_DEFAULT),
              H5Dclose, "create dataset " + name);
}
}  // namespace

void write_attr(hid_t obj, const std::string& name, const std::string& value) {
  H5Id t = string_type(0);
  const char* p = value.c_str();
  write_attr_raw(obj, name, t, &p, 1, true);
}
void write_attr(hid_t obj, const std::string& name, std::int64_t value) {
  write_attr_raw(obj, name, H5T_NATIVE_INT64, &value, 1, true);
}
void write_attr(hid_t obj, const std::string& name, double value) {
  write_attr_raw(obj, name, H5T_NATIVE_DOUBLE, &value, 1, true);
}
void write_attr(hid_t obj, const std::string& name, const std::vector<std::string>& values) {
  H5Id t = string_type(0);
  std::vector<const char*> ptrs;
  for (const auto& v : values) ptrs.push_back(v.c_str());
  write_attr_raw(obj, name, t, ptrs.data(), ptrs.size(), false);
}
void write_attr(hid_t obj, const std::string& name, const std::vector<std::int32_t>& values) {
  write_attr_raw(obj, name, H5T_NATIVE_INT32, values.data(), values.size(), false);
}

bool has_attr(hid_t obj, const std::string& name) { return H5Aexists(obj, name.c_str()) > 0; }

std::string read_attr_string(hid_t obj, const std::string& name) {
  H5Id attr(H5Aopen(obj, name.c_str(), H5P_DEFAULT), H5Aclose, "open attribute " + name);
  H5Id ftype(H5Aget_type(attr), H5Tclose, "read type of " + name);
  if (H5Tget_class(ftype) != H5T_STRING) throw OutputError("HDF5: attribute " + name + " is not a string");
  if (H5Tis_variable_str(ftype) > 0) {
    H5Id t = string_type(0);
    char* p = nullptr;
    h5check(H5Aread(attr, t, &p), "read attribute " + name);
    std::string s = p ? p : "";
    H5free_memory(p);
    return s;
  }
  const std::size_t n = H5Tget_size(ftype);
  H5Id t = string_type(n);
  std::string s(n, '\0');
  h5check(H5Aread(attr, t, s.data()), "read attribute " + name);
  return s.substr(0, s.find('\0'));
}

namespace {
/// A scalar attribute read as `memory_type` (HDF5 converts from the stored type).
template <class T>
T read_scalar_attr(hid_t obj, const std::string& name, hid_t memory_type) {
  H5Id attr(H5Aopen(obj, name.c_str(), H5P_DEFAULT), H5Aclose, "open attribute " + name);
  T v{};
  h5check(H5Aread(attr, memory_type, &v), "read attribute " + name);
  return v;
}
}  // namespace

std::int64_t read_attr_int(hid_t obj, const std::string& name) {
  return read_scalar_attr<std::int64_t>(obj, name, H5T_NATIVE_INT64);
}

double read_attr_double(hid_t obj, const std::string& name) {
  return read_scalar_attr<double>(obj, name, H5T_NATIVE_DOUBLE);
}

H5Id write_dataset(hid_t parent, const std::string& name, const std::vector<double>& data,
                   const std::vector<hsize_t>& dims, const DatasetInfo& info) {
  H5Id d = create_numeric_dataset(parent, name, H5T_IEEE_F64LE, dims, !data.empty());
  if (!data.empty()) h5check(H5Dwrite(d, H5T_NATIVE_DOUBLE, H5S_ALL, H5S_ALL, H5P_DEFAULT, data.data()), "write " + name);
  set_info(d, info);
  return d;
}

H5Id write_dataset(hid_t parent, const std::string& name, const std::vector<std::int64_t>& data,
                   const std::vector<hsize_t>& dims, const DatasetInfo& info) {
  H5Id d = create_numeric_dataset(parent, name, H5T_STD_I64LE, dims, !data.empty());
  if (!data.empty()) h5check(H5Dwrite(d, H5T_NATIVE_INT64, H5S_ALL, H5S_ALL, H5P_DEFAULT, data.data()), "write " + name);
  set_info(d, info);
  return d;
}

H5Id write_string_dataset(hid_t parent, const std::string& name,
                          const std::vector<std::string>& data, const DatasetInfo& info) {
  H5Id t = string_type(0);
  const hsize_t n = data.size();
  H5Id space(H5Screate_simple(1, &n, nullptr), H5Sclose, "make dataspace for " + name);
  H5Id d(H5Dcreate2(parent, name.c_str(), t, space, H5P_DEFAULT, H5P_DEFAULT, H5P_DEFAULT),
         H5Dclose, "create dataset " + name);
  std::vector<const char*> ptrs;
  for (const auto& s : data) ptrs.push_back(s.c_str());
  if (n > 0) h5check(H5Dwrite(d, t, H5S_ALL, H5S_ALL, H5P_DEFAULT, ptrs.data()), "write " + name);
  set_info(d, info);
  return d;
}

void make_scale(hid_t scale, const std::string& name) {
  h5check(H5DSset_scale(scale, name.c_str()), "make dimension scale " + name);
}

void attach_scale(hid_t dataset, hid_t scale, unsigned dim) {
  h5check(H5DSattach_scale(dataset, scale, dim), "attach dimension scale");
}

std::vector<hsize_t> dataset_dims(hid_t parent, const std::string& path) {
  H5Id d(H5Dopen2(parent, path.c_str(), H5P_DEFAULT), H5Dclose, "open dataset " + path);
  H5Id space(H5Dget_space(d), H5Sclose, "read dataspace of " + path);
  const int rank = H5Sget_simple_extent_ndims(space);
  std::vector<hsize_t> dims(static_cast<std::size_t>(std::max(rank, 0)));
  H5Sget_simple_extent_dims(space, dims.data(), nullptr);
  return dims;
}

namespace {
/// An object's name in its file ("/variants/base/outcomes/survived" less the first '/').
std::string object_name(hid_t obj) {
  std::string name(static_cast<std::size_t>(std::max<ssize_t>(H5Iget_name(obj, nullptr, 0), 0)), '\0');
  if (!name.empty()) H5Iget_name(obj, name.data(), name.size() + 1);
  return name.empty() || name[0] != '/' ? name : name.substr(1);
}

std::string file_name(hid_t obj) {
  std::string name(static_cast<std::size_t>(std::max<ssize_t>(H5Fget_name(obj, nullptr, 0), 0)), '\0');
  if (!name.empty()) H5Fget_name(obj, name.data(), name.size() + 1);
  return name;
}
}  // namespace

void check_stored(hid_t dataset) {
  H5Id space(H5Dget_space(dataset), H5Sclose, "read the dataspace of " + object_name(dataset));
  H5Id type(H5Dget_type(dataset), H5Tclose, "read the type of " + object_name(dataset));
  const hssize_t points = H5Sget_simple_extent_npoints(space);
  const double declared = static_cast<double>(std::max<hssize_t>(points, 0)) * static_cast<double>(H5Tget_size(type));
  const double stored = static_cast<double>(H5Dget_storage_size(dataset));
  if (points < 0 || declared > kMaxCompression * stored)
    throw InputError(file_name(dataset) + ": expected a consistent smbsim result file, found " + object_name(dataset) +
                     ", which declares " + std::to_string(points) + " values (" + std::to_string(std::llround(declared)) +
                     " bytes) but stores " + std::to_string(std::llround(stored)) +
                     " bytes, more than deflate packs (at most 1032 to 1): refused before reading it");
}

namespace {
template <class T>
std::vector<T> read_numeric(hid_t parent, const std::string& path, hid_t mem_type,
                            hsize_t offset, hsize_t count) {
  H5Id d(H5Dopen2(parent, path.c_str(), H5P_DEFAULT), H5Dclose, "open dataset " + path);
  H5Id space(H5Dget_space(d), H5Sclose, "read dataspace of " + path);
  const int rank = H5Sget_simple_extent_ndims(space);
  std::vector<hsize_t> dims(static_cast<std::size_t>(std::max(rank, 0)));
  H5Sget_simple_extent_dims(space, dims.data(), nullptr);
  if (rank != 1 || count == HSIZE_UNDEF) {
    hsize_t total = 1;
    for (auto x : dims) total *= x;
    std::vector<T> out(total);
    if (total > 0) h5check(H5Dread(d, mem_type, H5S_ALL, H5S_ALL, H5P_DEFAULT, out.data()), "read " + path);
    return out;
  }
  count = std::min(count, dims[0] > offset ? dims[0] - offset : 0);
  std::vector<T> out(count);
  if (count == 0) return out;
  h5check(H5Sselect_hyperslab(space, H5S_SELECT_SET, &offset, nullptr, &count, nullptr), "select in " + path);
  H5Id mem(H5Screate_simple(1, &count, nullptr), H5Sclose, "make dataspace");
  h5check(H5Dread(d, mem_type, mem, space, H5P_DEFAULT, out.data()), "read " + path);
  return out;
}
}  // namespace

std::vector<double> read_doubles(hid_t parent, const std::string& path, hsize_t offset, hsize_t count) {
  return read_numeric<double>(parent, path, H5T_NATIVE_DOUBLE, offset, count);
}

std::vector<std::int64_t> read_ints(hid_t parent, const std::string& path) {
  return read_numeric<std::int64_t>(parent, path, H5T_NATIVE_INT64, 0, HSIZE_UNDEF);
}

std::vector<std::string> read_strings(hid_t parent, const std::string& path) {
  H5Id d(H5Dopen2(parent, path.c_str(), H5P_DEFAULT), H5Dclose, "open dataset " + path);
  H5Id space(H5Dget_space(d), H5Sclose, "read dataspace of " + path);
  const hssize_t n = H5Sget_simple_extent_npoints(space);
  H5Id t = string_type(0);
  std::vector<char*> ptrs(static_cast<std::size_t>(n), nullptr);
  if (n > 0) h5check(H5Dread(d, t, H5S_ALL, H5S_ALL, H5P_DEFAULT, ptrs.data()), "read " + path);
  std::vector<std::string> out;
  for (char* p : ptrs) {
    out.emplace_back(p ? p : "");
    H5free_memory(p);
  }
  return out;
}

}  // namespace smbsim
