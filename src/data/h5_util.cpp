// HDF5 helper implementations (see h5_util.hpp). Every call's return value is checked.
#include "h5_util.hpp"

#include <mutex>

#include "trm/common/error.hpp"

namespace trm {
namespace h5 {

void Handle::reset() {
  if (id_ < 0) return;
  switch (H5Iget_type(id_)) {
    case H5I_FILE: H5Fclose(id_); break;
    case H5I_DATASET: H5Dclose(id_); break;
    case H5I_DATASPACE: H5Sclose(id_); break;
    case H5I_GENPROP_LST: H5Pclose(id_); break;
    case H5I_ATTR: H5Aclose(id_); break;
    case H5I_DATATYPE: H5Tclose(id_); break;
    case H5I_GROUP: H5Gclose(id_); break;
    default: break;
  }
  id_ = -1;
}

void silence_errors() {
  static std::once_flag once;
  std::call_once(once, [] { H5Eset_auto2(H5E_DEFAULT, nullptr, nullptr); });
}

bool has_attr(hid_t obj, const char* name) { return H5Aexists(obj, name) > 0; }

namespace {
void write_attr(hid_t obj, const char* name, hid_t type, const void* value, const std::string& file) {
  if (H5Aexists(obj, name) > 0) H5Adelete(obj, name);
  Handle space(H5Screate(H5S_SCALAR));
  Handle attr(H5Acreate2(obj, name, type, space.get(), H5P_DEFAULT, H5P_DEFAULT));
  TRM_CHECK(attr.valid() && H5Awrite(attr.get(), type, value) >= 0,
            "cannot write attribute '" << name << "' to " << file, "check disk space and permissions");
}
// Opens a one-value attribute. The readers below read exactly one element, so an attribute of
// another shape (a list, or none) is refused here instead of overrunning their buffers.
Handle open_attr(hid_t obj, const char* name, const std::string& file, const char* hint) {
  TRM_CHECK(H5Aexists(obj, name) > 0, file << " lacks attribute '" << name << "'", hint);
  Handle attr(H5Aopen(obj, name, H5P_DEFAULT));
  TRM_CHECK(attr.valid(), "cannot open attribute '" << name << "' of " << file, hint);
  Handle space(H5Aget_space(attr.get()));
  TRM_CHECK(space.valid() && H5Sget_simple_extent_npoints(space.get()) == 1,
            "attribute '" << name << "' of " << file << " does not hold exactly one value", hint);
  return attr;
}
}  // namespace

void write_attr_i64(hid_t obj, const char* name, int64_t value, const std::string& file) {
  write_attr(obj, name, H5T_NATIVE_INT64, &value, file);
}
void write_attr_f64(hid_t obj, const char* name, double value, const std::string& file) {
  write_attr(obj, name, H5T_NATIVE_DOUBLE, &value, file);
}
void write_attr_str(hid_t obj, const char* name, const std::string& value, const std::string& file) {
  Handle type(H5Tcopy(H5T_C_S1));
  TRM_CHECK(type.valid() && H5Tset_size(type.get(), value.empty() ? 1 : value.size()) >= 0 &&
                H5Tset_strpad(type.get(), H5T_STR_NULLPAD) >= 0,
            "cannot make a string type for attribute '" << name << "' of " << file, "");
  std::string padded = value.empty() ? std::string(1, '\0') : value;
  write_attr(obj, name, type.get(), padded.data(), file);
}

int64_t read_attr_i64(hid_t obj, const char* name, const std::string& file, const char* hint) {
  Handle attr = open_attr(obj, name, file, hint);
  int64_t v = 0;
  TRM_CHECK(H5Aread(attr.get(), H5T_NATIVE_INT64, &v) >= 0,
            "cannot read attribute '" << name << "' of " << file, hint);
  return v;
}
double read_attr_f64(hid_t obj, const char* name, const std::string& file, const char* hint) {
  Handle attr = open_attr(obj, name, file, hint);
  double v = 0;
  TRM_CHECK(H5Aread(attr.get(), H5T_NATIVE_DOUBLE, &v) >= 0,
            "cannot read attribute '" << name << "' of " << file, hint);
  return v;
}
std::string read_attr_str(hid_t obj, const char* name, const std::string& file, const char* hint) {
  Handle attr = open_attr(obj, name, file, hint);
  Handle type(H5Aget_type(attr.get()));
  TRM_CHECK(type.valid() && H5Tget_class(type.get()) == H5T_STRING && !H5Tis_variable_str(type.get()),
            "attribute '" << name << "' of " << file << " is not a fixed-length string", hint);
  const size_t n = H5Tget_size(type.get());
  std::string s(n, '\0');
  Handle mem(H5Tcopy(H5T_C_S1));
  H5Tset_size(mem.get(), n);
  H5Tset_strpad(mem.get(), H5T_STR_NULLPAD);
  TRM_CHECK(H5Aread(attr.get(), mem.get(), &s[0]) >= 0,
            "cannot read attribute '" << name << "' of " << file, hint);
  const size_t end = s.find('\0');
  if (end != std::string::npos) s.resize(end);
  return s;
}

namespace {
template <typename T>
void write_vector(hid_t file, const char* name, hid_t type, const std::vector<T>& v, const std::string& path) {
  hsize_t dims[1] = {static_cast<hsize_t>(v.size())};
  Handle space(H5Screate_simple(1, dims, nullptr));
  Handle dset(H5Dcreate2(file, name, type, space.get(), H5P_DEFAULT, H5P_DEFAULT, H5P_DEFAULT));
  TRM_CHECK(dset.valid(), "cannot create dataset '" << name << "' in " << path, "check disk space and permissions");
  if (!v.empty()) {
    TRM_CHECK(H5Dwrite(dset.get(), type, H5S_ALL, H5S_ALL, H5P_DEFAULT, v.data()) >= 0,
              "cannot write dataset '" << name << "' in " << path, "check disk space and permissions");
  }
}
// Deflate cannot compress more than 1032:1, so a dataset cannot hold more bytes than this times
// what it occupies in the file; a shape beyond that is a damaged or forged header, refused
// before anything is allocated for it.
constexpr hsize_t kMaxDeflateRatio = 1032;
}  // namespace

void check_storage_holds(hid_t dset, hsize_t elements, const std::string& what, const std::string& path,
                         const char* hint) {
  Handle type(H5Dget_type(dset));
  Handle dcpl(H5Dget_create_plist(dset));
  TRM_CHECK(type.valid() && dcpl.valid(), "cannot read the type of " << what << " in " << path, hint);
  const hsize_t elem = H5Tget_size(type.get());
  const hsize_t storage = H5Dget_storage_size(dset);
  const hsize_t ratio = H5Pget_nfilters(dcpl.get()) > 0 ? kMaxDeflateRatio : 1;
  const hsize_t limit = storage > ~hsize_t{0} / ratio ? ~hsize_t{0} : storage * ratio;
  TRM_CHECK(elem > 0 && elements <= limit / elem,
            what << " in " << path << " claims " << elements << " elements of " << elem
                 << " bytes but occupies " << storage << " bytes of the file (damaged file)",
            hint);
}

namespace {
template <typename T>
std::vector<T> read_vector(hid_t file, const char* name, hid_t type, const std::string& path, const char* hint) {
  TRM_CHECK(H5Lexists(file, name, H5P_DEFAULT) > 0, path << " lacks dataset '" << name << "'", hint);
  Handle dset(H5Dopen2(file, name, H5P_DEFAULT));
  TRM_CHECK(dset.valid(), "cannot open dataset '" << name << "' in " << path, hint);
  Handle space(H5Dget_space(dset.get()));
  TRM_CHECK(H5Sget_simple_extent_ndims(space.get()) == 1, "dataset '" << name << "' in " << path << " is not 1-D", hint);
  hsize_t dims[1] = {0};
  H5Sget_simple_extent_dims(space.get(), dims, nullptr);
  check_storage_holds(dset.get(), dims[0], "dataset '" + std::string(name) + "'", path, hint);
  std::vector<T> v(dims[0]);
  if (dims[0] > 0) {
    TRM_CHECK(H5Dread(dset.get(), type, H5S_ALL, H5S_ALL, H5P_DEFAULT, v.data()) >= 0,
              "cannot read dataset '" << name << "' in " << path << " (damaged file?)", hint);
  }
  return v;
}
}  // namespace

void write_vector_i64(hid_t file, const char* name, const std::vector<int64_t>& v, const std::string& path) {
  write_vector(file, name, H5T_NATIVE_INT64, v, path);
}
void write_vector_i32(hid_t file, const char* name, const std::vector<int32_t>& v, const std::string& path) {
  write_vector(file, name, H5T_NATIVE_INT32, v, path);
}
std::vector<int64_t> read_vector_i64(hid_t file, const char* name, const std::string& path, const char* hint) {
  return read_vector<int64_t>(file, name, H5T_NATIVE_INT64, path, hint);
}
std::vector<int32_t> read_vector_i32(hid_t file, const char* name, const std::string& path, const char* hint) {
  return read_vector<int32_t>(file, name, H5T_NATIVE_INT32, path, hint);
}

}  // namespace h5
}  // namespace trm
