// Checkpoint files over the HDF5 C API (layout in trm/ckpt/checkpoint_file.hpp).
// Writing: every item becomes one contiguous dataset, created in path order while the CRC is
// chained over (path, bytes); the file is closed with H5F_CLOSE_STRONG, fsynced and renamed.
// Reading: all dataset paths are collected, sorted the same way and hashed while being read, so
// the checksum check costs one pass over the file.
#include "trm/ckpt/checkpoint_file.hpp"

#include <hdf5.h>

#include <fcntl.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstdio>
#include <cstring>
#include <functional>
#include <utility>

#include "crc32.hpp"
#include "trm/common/error.hpp"

namespace trm {
namespace {

constexpr const char* kRebuildHint =
    "use an older checkpoint (trm-dist --resume auto skips damaged ones) or start without --resume";

// Owns one HDF5 identifier and closes it with the matching H5*close.
class H5Id {
 public:
  H5Id() = default;
  H5Id(hid_t id, herr_t (*close)(hid_t)) : id_(id), close_(close) {}
  H5Id(const H5Id&) = delete;
  H5Id& operator=(const H5Id&) = delete;
  H5Id(H5Id&& other) noexcept { *this = std::move(other); }
  H5Id& operator=(H5Id&& other) noexcept {
    reset();
    id_ = other.id_;
    close_ = other.close_;
    other.id_ = -1;
    return *this;
  }
  ~H5Id() { reset(); }
  void reset() {
    if (id_ >= 0 && close_ != nullptr) close_(id_);
    id_ = -1;
  }
  hid_t get() const { return id_; }
  bool valid() const { return id_ >= 0; }

 private:
  hid_t id_ = -1;
  herr_t (*close_)(hid_t) = nullptr;
};

// HDF5 prints its error stack to stderr by default; damaged files are an expected case here,
// reported through trm::Error, so printing is off while this guard lives.
class QuietHdf5 {
 public:
  QuietHdf5() {
    H5Eget_auto2(H5E_DEFAULT, &func_, &data_);
    H5Eset_auto2(H5E_DEFAULT, nullptr, nullptr);
  }
  ~QuietHdf5() { H5Eset_auto2(H5E_DEFAULT, func_, data_); }

 private:
  H5E_auto2_t func_ = nullptr;
  void* data_ = nullptr;
};

// Data types: the file keeps little-endian standard types; bool/half/bfloat16 are stored as raw
// unsigned integers of their width with the torch dtype recorded in an attribute.
struct TypeInfo {
  hid_t h5_type;
  const char* torch_dtype_attr;  // nullptr when HDF5 represents the dtype itself
};

TypeInfo type_for(torch::ScalarType dtype, const std::string& path) {
  switch (dtype) {
    case torch::kFloat32: return {H5T_IEEE_F32LE, nullptr};
    case torch::kFloat64: return {H5T_IEEE_F64LE, nullptr};
    case torch::kInt8: return {H5T_STD_I8LE, nullptr};
    case torch::kUInt8: return {H5T_STD_U8LE, nullptr};
    case torch::kInt16: return {H5T_STD_I16LE, nullptr};
    case torch::kInt32: return {H5T_STD_I32LE, nullptr};
    case torch::kInt64: return {H5T_STD_I64LE, nullptr};
    case torch::kBool: return {H5T_STD_U8LE, "bool"};
    case torch::kBFloat16: return {H5T_STD_U16LE, "bfloat16"};
    case torch::kFloat16: return {H5T_STD_U16LE, "float16"};
    default:
      TRM_FAIL("checkpoint tensor " << path << " has dtype " << dtype
                                    << ", which checkpoints do not store",
               "convert it to float32 or an integer type before saving");
  }
}

// The torch dtype of a dataset from its HDF5 type and torch_dtype attribute.
torch::ScalarType dtype_for(hid_t type, const std::string& attr, const std::string& where) {
  const H5T_class_t cls = H5Tget_class(type);
  const size_t size = H5Tget_size(type);
  if (!attr.empty()) {
    if (attr == "bool" && cls == H5T_INTEGER && size == 1) return torch::kBool;
    if (attr == "bfloat16" && cls == H5T_INTEGER && size == 2) return torch::kBFloat16;
    if (attr == "float16" && cls == H5T_INTEGER && size == 2) return torch::kFloat16;
    TRM_FAIL(where << " has torch_dtype '" << attr << "' on an incompatible HDF5 type",
             kRebuildHint);
  }
  if (cls == H5T_FLOAT && size == 4) return torch::kFloat32;
  if (cls == H5T_FLOAT && size == 8) return torch::kFloat64;
  if (cls == H5T_INTEGER) {
    const bool is_signed = H5Tget_sign(type) == H5T_SGN_2;
    if (size == 1) return is_signed ? torch::kInt8 : torch::kUInt8;
    if (size == 2 && is_signed) return torch::kInt16;
    if (size == 4 && is_signed) return torch::kInt32;
    if (size == 8 && is_signed) return torch::kInt64;
  }
  TRM_FAIL(where << " has an HDF5 type (class " << int(cls) << ", " << size
                 << " bytes) that checkpoints do not use",
           "write float32/float64 or signed integer datasets (see docs/CHECKPOINTS.md)");
}

// The in-memory HDF5 type matching a torch dtype (little-endian hosts, which trm-dist requires).
hid_t memory_type_for(torch::ScalarType dtype) {
  switch (dtype) {
    case torch::kFloat32: return H5T_IEEE_F32LE;
    case torch::kFloat64: return H5T_IEEE_F64LE;
    case torch::kInt8: return H5T_STD_I8LE;
    case torch::kUInt8:
    case torch::kBool: return H5T_STD_U8LE;
    case torch::kInt16: return H5T_STD_I16LE;
    case torch::kInt32: return H5T_STD_I32LE;
    case torch::kInt64: return H5T_STD_I64LE;
    default: return H5T_STD_U16LE;  // bfloat16, float16: raw 16-bit words
  }
}

// One dataset to write: its path (no leading '/'), bytes and shape.
struct Item {
  std::string path;
  torch::Tensor tensor;  // contiguous CPU tensor owning the bytes
  bool scalar = false;   // 0-d dataspace
};

void check_name(const std::string& name, const std::string& what) {
  TRM_CHECK(!name.empty() && name.front() != '/' && name.back() != '/' &&
                name.find("//") == std::string::npos,
            "checkpoint " << what << " name '" << name << "' is empty or malformed",
            "use names like \"model\", \"optim/m\" or \"rng/rank0\"");
}

std::vector<Item> collect_items(const CheckpointContent& content) {
  std::vector<Item> items;
  for (const auto& [group, tensors] : content.tensors) {
    check_name(group, "group");
    TRM_CHECK(group != "state" && group.rfind("state/", 0) != 0,
              "checkpoint tensor group '" << group << "' uses the reserved name 'state'",
              "put scalars in CheckpointContent::ints/floats/blobs instead");
    for (const auto& [name, tensor] : tensors) {
      TRM_CHECK(!name.empty() && name.find('/') == std::string::npos,
                "checkpoint tensor name '" << name << "' in group " << group
                                           << " is empty or contains '/'",
                "tensor names are state-dict names (dots, never slashes)");
      TRM_CHECK(tensor.defined(), "checkpoint tensor " << group << "/" << name << " is undefined",
                "fill every tensor before saving");
      Item item;
      item.path = group + "/" + name;
      item.tensor = tensor.detach().to(torch::kCPU).contiguous();
      item.scalar = tensor.dim() == 0;
      items.push_back(std::move(item));
    }
  }
  for (const auto& [key, value] : content.ints) {
    check_name(key, "state");
    items.push_back({"state/" + key, torch::tensor(value, torch::kInt64), true});
  }
  for (const auto& [key, value] : content.floats) {
    check_name(key, "state");
    items.push_back({"state/" + key, torch::tensor(value, torch::kFloat64), true});
  }
  for (const auto& [key, bytes] : content.blobs) {
    check_name(key, "state");
    auto t = torch::empty({int64_t(bytes.size())}, torch::kUInt8);
    if (!bytes.empty()) std::memcpy(t.data_ptr(), bytes.data(), bytes.size());
    items.push_back({"state/" + key, t, false});
  }
  for (const auto& [key, text] : content.texts) {
    check_name(key, "text");
    TRM_CHECK(key.find('/') == std::string::npos && !content.tensors.count(key) && key != "state",
              "checkpoint text key '" << key << "' must be a plain name not used by a group",
              "use a name like \"config\"");
    auto t = torch::empty({int64_t(text.size())}, torch::kUInt8);
    if (!text.empty()) std::memcpy(t.data_ptr(), text.data(), text.size());
    items.push_back({key, t, false});
  }
  std::sort(items.begin(), items.end(),
            [](const Item& a, const Item& b) { return a.path < b.path; });
  for (size_t i = 1; i < items.size(); ++i)
    TRM_CHECK(items[i].path != items[i - 1].path,
              "checkpoint item " << items[i].path << " is defined twice",
              "use distinct keys for ints, floats, blobs and tensors");
  return items;
}

void write_string_attr(hid_t obj, const char* name, const std::string& value,
                       const std::string& path) {
  H5Id type(H5Tcopy(H5T_C_S1), H5Tclose);
  H5Tset_size(type.get(), std::max<size_t>(value.size(), 1));
  H5Tset_strpad(type.get(), H5T_STR_NULLPAD);
  H5Id space(H5Screate(H5S_SCALAR), H5Sclose);
  H5Id attr(H5Acreate2(obj, name, type.get(), space.get(), H5P_DEFAULT, H5P_DEFAULT), H5Aclose);
  std::string padded = value;
  padded.resize(std::max<size_t>(value.size(), 1), '\0');
  TRM_CHECK(attr.valid() && H5Awrite(attr.get(), type.get(), padded.data()) >= 0,
            "cannot write attribute " << name << " in " << path, "check disk space and permissions");
}

template <class T>
void write_scalar_attr(hid_t obj, const char* name, hid_t type, T value, const std::string& path) {
  H5Id space(H5Screate(H5S_SCALAR), H5Sclose);
  H5Id attr(H5Acreate2(obj, name, type, space.get(), H5P_DEFAULT, H5P_DEFAULT), H5Aclose);
  TRM_CHECK(attr.valid() && H5Awrite(attr.get(), type, &value) >= 0,
            "cannot write attribute " << name << " in " << path, "check disk space and permissions");
}

// True when attribute `attr` holds exactly one value: the readers below read one element, and an
// attribute of another shape (a list, or none) would overrun their buffers.
bool single_value(hid_t attr) {
  H5Id space(H5Aget_space(attr), H5Sclose);
  return space.valid() && H5Sget_simple_extent_npoints(space.get()) == 1;
}

// Reads a string attribute whether it was written fixed-length (by us) or variable-length (h5py).
std::string read_string_attr(hid_t obj, const char* name) {
  if (H5Aexists(obj, name) <= 0) return "";
  H5Id attr(H5Aopen(obj, name, H5P_DEFAULT), H5Aclose);
  if (!attr.valid() || !single_value(attr.get())) return "";
  H5Id type(H5Aget_type(attr.get()), H5Tclose);
  if (H5Tget_class(type.get()) != H5T_STRING) return "";
  if (H5Tis_variable_str(type.get()) > 0) {
    H5Id mem(H5Tcopy(H5T_C_S1), H5Tclose);
    H5Tset_size(mem.get(), H5T_VARIABLE);
    H5Tset_cset(mem.get(), H5Tget_cset(type.get()));
    char* value = nullptr;
    if (H5Aread(attr.get(), mem.get(), &value) < 0 || value == nullptr) return "";
    std::string out(value);
    H5free_memory(value);
    return out;
  }
  const size_t size = H5Tget_size(type.get());
  std::string out(size, '\0');
  if (H5Aread(attr.get(), type.get(), out.data()) < 0) return "";
  out.resize(std::strlen(out.c_str()));
  return out;
}

bool read_int64_attr(hid_t obj, const char* name, int64_t& value) {
  if (H5Aexists(obj, name) <= 0) return false;
  H5Id attr(H5Aopen(obj, name, H5P_DEFAULT), H5Aclose);
  return attr.valid() && single_value(attr.get()) &&
         H5Aread(attr.get(), H5T_NATIVE_INT64, &value) >= 0;
}

void fsync_path(const std::string& path, bool directory) {
  const int fd = ::open(path.c_str(), directory ? (O_RDONLY | O_DIRECTORY) : O_RDONLY);
  TRM_CHECK(fd >= 0, "cannot open " << path << " to fsync it: " << std::strerror(errno),
            "check the checkpoint folder's permissions");
  const int rc = ::fsync(fd);
  const int err = errno;
  ::close(fd);
  TRM_CHECK(rc == 0, "fsync of " << path << " failed: " << std::strerror(err),
            "check the file system (full disk, I/O errors)");
}

std::string parent_dir(const std::string& path) {
  const size_t slash = path.rfind('/');
  if (slash == std::string::npos) return ".";
  if (slash == 0) return "/";
  return path.substr(0, slash);
}

std::string base_name(const std::string& path) {
  const size_t slash = path.rfind('/');
  return slash == std::string::npos ? path : path.substr(slash + 1);
}

// Creates the groups above `item_path` that do not exist yet, without modification times
// (intermediate groups made by the link property list would carry them).
void create_parent_groups(hid_t file, const std::string& item_path, const std::string& path) {
  H5Id gcpl(H5Pcreate(H5P_GROUP_CREATE), H5Pclose);
  H5Pset_obj_track_times(gcpl.get(), 0);
  for (size_t slash = item_path.find('/', 1); slash != std::string::npos;
       slash = item_path.find('/', slash + 1)) {
    const std::string group = item_path.substr(0, slash);
    if (H5Lexists(file, group.c_str(), H5P_DEFAULT) > 0) continue;
    H5Id g(H5Gcreate2(file, group.c_str(), H5P_DEFAULT, gcpl.get(), H5P_DEFAULT), H5Gclose);
    TRM_CHECK(g.valid(), "cannot create group " << group << " in " << path,
              "check disk space and that names do not clash (a group and a tensor of one name)");
  }
}

void write_items(hid_t file, const std::vector<Item>& items, const std::string& path) {
  H5Id lcpl(H5Pcreate(H5P_LINK_CREATE), H5Pclose);
  H5Pset_create_intermediate_group(lcpl.get(), 1);
  // No modification times in object headers: the same content gives the same bytes.
  H5Id dcpl(H5Pcreate(H5P_DATASET_CREATE), H5Pclose);
  H5Pset_obj_track_times(dcpl.get(), 0);
  uint32_t crc = 0;
  for (const Item& item : items) {
    const TypeInfo info = type_for(item.tensor.scalar_type(), item.path);
    std::vector<hsize_t> dims(item.tensor.sizes().begin(), item.tensor.sizes().end());
    H5Id space = item.scalar ? H5Id(H5Screate(H5S_SCALAR), H5Sclose)
                             : H5Id(H5Screate_simple(int(dims.size()), dims.data(), nullptr),
                                    H5Sclose);
    TRM_CHECK(space.valid(), "cannot create the dataspace of " << item.path << " in " << path,
              "report this as a bug with the tensor's shape");
    create_parent_groups(file, item.path, path);
    H5Id dset(H5Dcreate2(file, item.path.c_str(), info.h5_type, space.get(), lcpl.get(),
                         dcpl.get(), H5P_DEFAULT),
              H5Dclose);
    TRM_CHECK(dset.valid(), "cannot create dataset " << item.path << " in " << path,
              "check disk space and that names do not clash (a group and a tensor of one name)");
    const size_t bytes = item.tensor.numel() * item.tensor.element_size();
    if (bytes > 0) {
      TRM_CHECK(H5Dwrite(dset.get(), memory_type_for(item.tensor.scalar_type()), H5S_ALL, H5S_ALL,
                         H5P_DEFAULT, item.tensor.data_ptr()) >= 0,
                "cannot write dataset " << item.path << " to " << path,
                "check disk space and quota of the checkpoint folder");
    }
    if (info.torch_dtype_attr != nullptr)
      write_string_attr(dset.get(), "torch_dtype", info.torch_dtype_attr, path);
    crc = crc32_update(crc, item.path.data(), item.path.size());
    if (bytes > 0) crc = crc32_update(crc, item.tensor.data_ptr(), bytes);
  }
  write_string_attr(file, "format", kCheckpointFormatName, path);
  write_scalar_attr<int64_t>(file, "format_version", H5T_STD_I64LE, kCheckpointFormatVersion, path);
  write_scalar_attr<uint32_t>(file, "checksum_crc32", H5T_STD_U32LE, crc, path);
  write_string_attr(file, "created_by", "trm-dist", path);
}

// Dataset paths (no leading '/') of a file, collected by H5Lvisit (whose link-info type changed
// in HDF5 1.12; the callback only needs the name).
#if H5_VERSION_GE(1, 12, 0)
using LinkInfo = H5L_info2_t;
#else
using LinkInfo = H5L_info_t;
#endif
herr_t collect_dataset(hid_t group, const char* name, const LinkInfo* info, void* out) {
  if (info->type != H5L_TYPE_HARD) return 0;
  const hid_t obj = H5Oopen(group, name, H5P_DEFAULT);
  if (obj < 0) return -1;
  const bool is_dataset = H5Iget_type(obj) == H5I_DATASET;
  H5Oclose(obj);
  if (is_dataset) static_cast<std::vector<std::string>*>(out)->emplace_back(name);
  return 0;
}

bool in_groups(const std::string& group, const std::vector<std::string>& wanted) {
  if (wanted.empty()) return true;
  for (const auto& w : wanted)
    if (group == w || group.rfind(w + "/", 0) == 0) return true;
  return false;
}

// Reads a dataset (hashing its bytes into crc) as a CPU tensor. When `keep` is false the bytes
// are only hashed, in slices of at most ~64 MiB along dim 0.
torch::Tensor read_dataset(hid_t file, const std::string& dpath, const std::string& file_path,
                           bool keep, bool hash, uint32_t& crc) {
  const std::string where = file_path + ":/" + dpath;
  H5Id dset(H5Dopen2(file, dpath.c_str(), H5P_DEFAULT), H5Dclose);
  TRM_CHECK(dset.valid(), "cannot open dataset " << where, kRebuildHint);
  H5Id type(H5Dget_type(dset.get()), H5Tclose);
  const torch::ScalarType dtype =
      dtype_for(type.get(), read_string_attr(dset.get(), "torch_dtype"), where);
  H5Id space(H5Dget_space(dset.get()), H5Sclose);
  const int ndims = H5Sget_simple_extent_ndims(space.get());
  TRM_CHECK(ndims >= 0, "cannot read the shape of " << where, kRebuildHint);
  std::vector<hsize_t> dims(ndims);
  H5Sget_simple_extent_dims(space.get(), dims.data(), nullptr);
  std::vector<int64_t> shape(dims.begin(), dims.end());
  const hid_t mem_type = memory_type_for(dtype);

  // A shape is trusted only as far as the file can hold it (deflate: at most 1032:1), so a
  // forged header allocates nothing and numel * elem cannot overflow.
  const hsize_t storage = H5Dget_storage_size(dset.get());
  H5Id dcpl(H5Dget_create_plist(dset.get()), H5Pclose);
  const hsize_t ratio = dcpl.valid() && H5Pget_nfilters(dcpl.get()) > 0 ? 1032 : 1;
  constexpr hsize_t kMaxElements = hsize_t(1) << 50;
  const hsize_t limit = storage > kMaxElements / ratio ? kMaxElements : storage * ratio;
  const hsize_t file_elem = std::max<hsize_t>(H5Tget_size(type.get()), 1);
  hsize_t elements = 1;  // product of the non-zero sides, saturated above kMaxElements
  bool empty = false;
  for (const hsize_t d : dims) {
    if (d == 0) empty = true;
    else elements = elements <= kMaxElements / d ? elements * d : kMaxElements + 1;
  }
  TRM_CHECK(elements <= kMaxElements && (ndims == 0 || empty || elements <= limit / file_elem),
            where << " claims shape " << torch::IntArrayRef(shape) << " but occupies " << storage
                  << " bytes of the file (truncated or damaged file)",
            kRebuildHint);
  if (hash) crc = crc32_update(crc, dpath.data(), dpath.size());
  const int64_t elem = torch::elementSize(dtype);
  int64_t numel = 1;
  for (int64_t d : shape) numel *= d;

  if (keep || ndims == 0 || numel * elem <= (int64_t(64) << 20)) {
    torch::Tensor out = torch::empty(shape, torch::TensorOptions().dtype(dtype));
    if (numel > 0) {
      TRM_CHECK(H5Dread(dset.get(), mem_type, H5S_ALL, H5S_ALL, H5P_DEFAULT, out.data_ptr()) >= 0,
                "cannot read " << where << " (truncated or damaged file)", kRebuildHint);
      if (hash) crc = crc32_update(crc, out.data_ptr(), size_t(numel * elem));
    }
    return keep ? out : torch::Tensor();
  }
  // Hash only, in slices of whole rows.
  const int64_t row_elems = numel / shape[0];
  const int64_t rows_per_slice = std::max<int64_t>(1, (int64_t(64) << 20) / (row_elems * elem));
  std::vector<int64_t> slice_shape = shape;
  for (int64_t row = 0; row < shape[0]; row += rows_per_slice) {
    const int64_t rows = std::min(rows_per_slice, shape[0] - row);
    slice_shape[0] = rows;
    torch::Tensor buf = torch::empty(slice_shape, torch::TensorOptions().dtype(dtype));
    std::vector<hsize_t> start(ndims, 0), count(dims);
    start[0] = hsize_t(row);
    count[0] = hsize_t(rows);
    H5Sselect_hyperslab(space.get(), H5S_SELECT_SET, start.data(), nullptr, count.data(), nullptr);
    H5Id mem_space(H5Screate_simple(ndims, count.data(), nullptr), H5Sclose);
    TRM_CHECK(H5Dread(dset.get(), mem_type, mem_space.get(), space.get(), H5P_DEFAULT,
                      buf.data_ptr()) >= 0,
              "cannot read " << where << " (truncated or damaged file)", kRebuildHint);
    crc = crc32_update(crc, buf.data_ptr(), size_t(rows * row_elems * elem));
  }
  return torch::Tensor();
}

const char* or_default(const std::string& source) {
  return source.empty() ? "checkpoint" : source.c_str();
}

}  // namespace

const TensorMap& CheckpointContent::group(const std::string& g, const std::string& source) const {
  auto it = tensors.find(g);
  TRM_CHECK(it != tensors.end(), or_default(source) << " has no group /" << g,
            "the checkpoint was written by another trm-dist version or with other settings");
  return it->second;
}

const torch::Tensor& CheckpointContent::tensor(const std::string& g, const std::string& name,
                                               const std::string& source) const {
  const TensorMap& m = group(g, source);
  auto it = m.find(name);
  TRM_CHECK(it != m.end(), or_default(source) << " has no tensor /" << g << "/" << name,
            "the checkpoint was written for another model; check arch.* settings");
  return it->second;
}

int64_t CheckpointContent::int_value(const std::string& key, const std::string& source) const {
  auto it = ints.find(key);
  TRM_CHECK(it != ints.end(), or_default(source) << " has no integer /state/" << key,
            "the checkpoint was written by another trm-dist version");
  return it->second;
}

double CheckpointContent::float_value(const std::string& key, const std::string& source) const {
  auto it = floats.find(key);
  TRM_CHECK(it != floats.end(), or_default(source) << " has no float /state/" << key,
            "the checkpoint was written by another trm-dist version");
  return it->second;
}

const std::vector<uint8_t>& CheckpointContent::blob(const std::string& key,
                                                    const std::string& source) const {
  auto it = blobs.find(key);
  TRM_CHECK(it != blobs.end(), or_default(source) << " has no blob /state/" << key,
            "the checkpoint was written by another trm-dist version or another world size");
  return it->second;
}

const std::string& CheckpointContent::text(const std::string& key,
                                           const std::string& source) const {
  auto it = texts.find(key);
  TRM_CHECK(it != texts.end(), or_default(source) << " has no text /" << key,
            "the checkpoint was written by another trm-dist version");
  return it->second;
}

void write_checkpoint_file(const std::string& path, const CheckpointContent& content) {
  const std::vector<Item> items = collect_items(content);
  const std::string dir = parent_dir(path);
  const std::string tmp = dir + "/." + base_name(path) + ".tmp-" + std::to_string(::getpid());
  QuietHdf5 quiet;
  try {
    {
      H5Id fapl(H5Pcreate(H5P_FILE_ACCESS), H5Pclose);
      H5Pset_fclose_degree(fapl.get(), H5F_CLOSE_STRONG);
      H5Id fcpl(H5Pcreate(H5P_FILE_CREATE), H5Pclose);
      H5Pset_obj_track_times(fcpl.get(), 0);
      H5Id file(H5Fcreate(tmp.c_str(), H5F_ACC_TRUNC, fcpl.get(), fapl.get()), H5Fclose);
      TRM_CHECK(file.valid(), "cannot create checkpoint file " << tmp,
                "check that the folder " + dir + " exists and is writable");
      write_items(file.get(), items, path);
      TRM_CHECK(H5Fflush(file.get(), H5F_SCOPE_GLOBAL) >= 0, "cannot flush " << tmp,
                "check disk space and quota of the checkpoint folder");
      file.reset();
    }
    fsync_path(tmp, false);
    TRM_CHECK(std::rename(tmp.c_str(), path.c_str()) == 0,
              "cannot rename " << tmp << " to " << path << ": " << std::strerror(errno),
              "check the checkpoint folder's permissions");
  } catch (...) {
    std::remove(tmp.c_str());
    throw;
  }
  fsync_path(dir, true);
}

CheckpointContent read_checkpoint_file(const std::string& path,
                                       const CheckpointReadOptions& options) {
  QuietHdf5 quiet;
  TRM_CHECK(::access(path.c_str(), R_OK) == 0,
            "checkpoint " << path << " does not exist or is not readable",
            "check the path; trm-dist --resume auto picks the latest valid checkpoint itself");
  H5Id file(H5Fopen(path.c_str(), H5F_ACC_RDONLY, H5P_DEFAULT), H5Fclose);
  TRM_CHECK(file.valid(),
            "checkpoint " << path << " cannot be opened as HDF5 (truncated or damaged file)",
            kRebuildHint);
  const std::string format = read_string_attr(file.get(), "format");
  TRM_CHECK(format == kCheckpointFormatName,
            path << " is not a trm-dist checkpoint (format attribute '" << format << "')",
            "a reference PyTorch checkpoint must be converted first: "
            "python3 tools/convert_reference_checkpoint.py to-trm IN.pt OUT.h5");
  int64_t version = 0;
  TRM_CHECK(read_int64_attr(file.get(), "format_version", version),
            path << " has no format_version attribute", kRebuildHint);
  TRM_CHECK(version == kCheckpointFormatVersion,
            path << " has checkpoint format version " << version << "; this trm-dist reads version "
                 << kCheckpointFormatVersion,
            "use the trm-dist version that wrote it, or convert it");
  int64_t stored_crc = -1;
  TRM_CHECK(read_int64_attr(file.get(), "checksum_crc32", stored_crc),
            path << " has no checksum (half-written file?)", kRebuildHint);

  std::vector<std::string> paths;
  TRM_CHECK(H5Lvisit(file.get(), H5_INDEX_NAME, H5_ITER_INC, collect_dataset, &paths) >= 0,
            "cannot list the datasets of " << path << " (damaged file)", kRebuildHint);
  std::sort(paths.begin(), paths.end());

  CheckpointContent content;
  uint32_t crc = 0;
  for (const std::string& dpath : paths) {
    const size_t slash = dpath.rfind('/');
    const std::string where = path + ":/" + dpath;
    if (slash == std::string::npos) {  // root: text
      torch::Tensor t = read_dataset(file.get(), dpath, path, true, options.verify_checksum, crc);
      TRM_CHECK(t.scalar_type() == torch::kUInt8 && t.dim() == 1,
                where << " should be a 1-d uint8 text", kRebuildHint);
      content.texts[dpath] =
          std::string(static_cast<const char*>(t.data_ptr()), size_t(t.numel()));
    } else if (dpath.rfind("state/", 0) == 0) {
      const std::string key = dpath.substr(6);
      torch::Tensor t = read_dataset(file.get(), dpath, path, true, options.verify_checksum, crc);
      if (t.dim() == 0 && t.scalar_type() == torch::kInt64) {
        content.ints[key] = t.item<int64_t>();
      } else if (t.dim() == 0 && t.scalar_type() == torch::kFloat64) {
        content.floats[key] = t.item<double>();
      } else if (t.dim() == 1 && t.scalar_type() == torch::kUInt8) {
        const auto* p = static_cast<const uint8_t*>(t.data_ptr());
        content.blobs[key] = std::vector<uint8_t>(p, p + t.numel());
      } else {
        TRM_FAIL(where << " is neither a 0-d int64/float64 nor a 1-d uint8 dataset", kRebuildHint);
      }
    } else {
      const std::string group = dpath.substr(0, slash);
      const bool keep = in_groups(group, options.groups);
      if (!keep && !options.verify_checksum) continue;
      torch::Tensor t = read_dataset(file.get(), dpath, path, keep, options.verify_checksum, crc);
      if (keep) content.tensors[group][dpath.substr(slash + 1)] = t;
    }
  }
  if (options.verify_checksum) {
    TRM_CHECK(int64_t(crc) == stored_crc,
              "checkpoint " << path << " is damaged: CRC32 of its data is " << crc
                            << ", the file says " << stored_crc,
              kRebuildHint);
  }
  return content;
}

std::string checkpoint_file_problem(const std::string& path) {
  try {
    // A group filter that matches nothing: every dataset is hashed, no tensor is kept.
    read_checkpoint_file(path, CheckpointReadOptions{{"/"}, true});
    return "";
  } catch (const Error& e) {
    return e.message();
  } catch (const std::exception& e) {
    return e.what();
  }
}

}  // namespace trm
