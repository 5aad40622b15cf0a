// Shared by the structure-aware HDF5 targets: small helpers that write VALID HDF5 objects
// (attributes and datasets of a chosen type, shape and value) through the HDF5 C API, so that
// what the fuzzer varies is the content our readers validate, not libhdf5's own file parser.
// Every HDF5 failure here is a bug in the target and aborts.
#pragma once

#include <fuzzer/FuzzedDataProvider.h>
#include <hdf5.h>

#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <algorithm>
#include <string>
#include <vector>

namespace trm_fuzz {

inline hid_t h5_ok(hid_t id, const char* what) {
  if (id < 0) {
    std::fprintf(stderr, "fuzz target: HDF5 call failed: %s\n", what);
    std::abort();
  }
  return id;
}

// Element types the targets choose from; kNative* are the types our writers use.
enum class H5Kind { kI64, kI32, kU8, kI8, kU16, kU32, kU64, kF32, kF64, kString, kVarString, kI16 };
constexpr int kNumH5Kinds = 12;

inline hid_t h5_type_of(H5Kind k, size_t string_size) {
  switch (k) {
    case H5Kind::kI64: return H5Tcopy(H5T_STD_I64LE);
    case H5Kind::kI32: return H5Tcopy(H5T_STD_I32LE);
    case H5Kind::kU8: return H5Tcopy(H5T_STD_U8LE);
    case H5Kind::kI8: return H5Tcopy(H5T_STD_I8LE);
    case H5Kind::kU16: return H5Tcopy(H5T_STD_U16LE);
    case H5Kind::kI16: return H5Tcopy(H5T_STD_I16LE);
    case H5Kind::kU32: return H5Tcopy(H5T_STD_U32LE);
    case H5Kind::kU64: return H5Tcopy(H5T_STD_U64LE);
    case H5Kind::kF32: return H5Tcopy(H5T_IEEE_F32LE);
    case H5Kind::kF64: return H5Tcopy(H5T_IEEE_F64LE);
    case H5Kind::kString: {
      const hid_t t = H5Tcopy(H5T_C_S1);
      H5Tset_size(t, string_size == 0 ? 1 : string_size);
      H5Tset_strpad(t, H5T_STR_NULLPAD);
      return t;
    }
    case H5Kind::kVarString: {
      const hid_t t = H5Tcopy(H5T_C_S1);
      H5Tset_size(t, H5T_VARIABLE);
      return t;
    }
  }
  return -1;
}

inline size_t h5_element_size(H5Kind k, size_t string_size) {
  switch (k) {
    case H5Kind::kI64: case H5Kind::kU64: case H5Kind::kF64: return 8;
    case H5Kind::kI32: case H5Kind::kU32: case H5Kind::kF32: return 4;
    case H5Kind::kU16: case H5Kind::kI16: return 2;
    case H5Kind::kU8: case H5Kind::kI8: return 1;
    case H5Kind::kString: return string_size == 0 ? 1 : string_size;
    case H5Kind::kVarString: return sizeof(char*);
  }
  return 1;
}

// A dataspace: rank < 0 is H5S_NULL, rank 0 scalar, else simple with `dims`.
inline hid_t h5_space(int rank, const std::vector<hsize_t>& dims) {
  if (rank < 0) return h5_ok(H5Screate(H5S_NULL), "H5Screate(NULL)");
  if (rank == 0) return h5_ok(H5Screate(H5S_SCALAR), "H5Screate(SCALAR)");
  return h5_ok(H5Screate_simple(rank, dims.data(), nullptr), "H5Screate_simple");
}

inline hsize_t h5_elements(int rank, const std::vector<hsize_t>& dims) {
  if (rank < 0) return 0;
  hsize_t n = 1;
  for (int i = 0; i < rank; ++i) n *= dims[static_cast<size_t>(i)];
  return n;
}

// Bytes for n elements of `kind` from `values` (repeated, or the fuzzer's bytes when empty).
inline std::vector<uint8_t> h5_fill(H5Kind kind, size_t string_size, hsize_t n,
                                    const std::vector<uint8_t>& values, std::vector<std::string>* strings) {
  const size_t elem = h5_element_size(kind, string_size);
  std::vector<uint8_t> buf(static_cast<size_t>(n) * elem, 0);
  if (kind == H5Kind::kVarString) {
    strings->assign(static_cast<size_t>(n), std::string(values.begin(), values.end()));
    for (size_t i = 0; i < n; ++i) {
      const char* p = (*strings)[i].c_str();
      std::memcpy(buf.data() + i * elem, &p, sizeof(p));
    }
    return buf;
  }
  for (size_t i = 0; i < buf.size() && !values.empty(); ++i) buf[i] = values[i % values.size()];
  return buf;
}

// (Re)writes attribute `name` on `obj`: any type, dataspace and value.
inline void h5_put_attr(hid_t obj, const char* name, H5Kind kind, size_t string_size, int rank,
                        const std::vector<hsize_t>& dims, const std::vector<uint8_t>& value) {
  if (H5Aexists(obj, name) > 0) H5Adelete(obj, name);
  const hid_t type = h5_ok(h5_type_of(kind, string_size), "attr type");
  const hid_t space = h5_space(rank, dims);
  const hid_t attr = h5_ok(H5Acreate2(obj, name, type, space, H5P_DEFAULT, H5P_DEFAULT), name);
  std::vector<std::string> strings;
  const hsize_t n = rank == 0 ? 1 : h5_elements(rank, dims);
  if (n > 0) {
    const std::vector<uint8_t> buf = h5_fill(kind, string_size, n, value, &strings);
    h5_ok(H5Awrite(attr, type, buf.data()), name);
  }
  H5Aclose(attr);
  H5Sclose(space);
  H5Tclose(type);
}

inline void h5_put_i64_attr(hid_t obj, const char* name, int64_t v) {
  std::vector<uint8_t> bytes(8);
  std::memcpy(bytes.data(), &v, 8);
  h5_put_attr(obj, name, H5Kind::kI64, 0, 0, {}, bytes);
}
inline void h5_put_f64_attr(hid_t obj, const char* name, double v) {
  std::vector<uint8_t> bytes(8);
  std::memcpy(bytes.data(), &v, 8);
  h5_put_attr(obj, name, H5Kind::kF64, 0, 0, {}, bytes);
}
inline void h5_put_str_attr(hid_t obj, const char* name, const std::string& s) {
  h5_put_attr(obj, name, H5Kind::kString, s.size(), 0, {}, std::vector<uint8_t>(s.begin(), s.end()));
}

// (Re)creates dataset `name` (parent groups included). chunk_rows > 0: chunked with deflate.
// Data is written only when `write` and the shape is small; otherwise the dataset stays
// unallocated (reads give the fill value: a tiny file may claim a huge shape, which readers must
// not trust). False when HDF5 refuses the shape (e.g. more bytes than an address can hold).
inline bool h5_put_dataset(hid_t file, const std::string& name, H5Kind kind, size_t string_size,
                           int rank, const std::vector<hsize_t>& dims, const std::vector<uint8_t>& value,
                           hsize_t chunk_rows, bool write) {
  if (H5Lexists(file, name.c_str(), H5P_DEFAULT) > 0) H5Ldelete(file, name.c_str(), H5P_DEFAULT);
  const hid_t type = h5_ok(h5_type_of(kind, string_size), "dataset type");
  const hid_t space = h5_space(rank, dims);
  const hid_t lcpl = h5_ok(H5Pcreate(H5P_LINK_CREATE), "lcpl");
  H5Pset_create_intermediate_group(lcpl, 1);
  const hid_t dcpl = h5_ok(H5Pcreate(H5P_DATASET_CREATE), "dcpl");
  if (chunk_rows > 0 && rank > 0) {
    std::vector<hsize_t> chunk(dims.begin(), dims.begin() + rank);
    for (hsize_t& c : chunk) c = c == 0 ? 1 : std::min<hsize_t>(c, 64);
    chunk[0] = std::min<hsize_t>(chunk_rows, dims[0] == 0 ? 1 : dims[0]);
    h5_ok(H5Pset_chunk(dcpl, rank, chunk.data()), "H5Pset_chunk");
    h5_ok(H5Pset_deflate(dcpl, 1), "H5Pset_deflate");
  }
  const hid_t dset = H5Dcreate2(file, name.c_str(), type, space, lcpl, dcpl, H5P_DEFAULT);
  bool small = true;
  for (int i = 0; i < rank; ++i) small = small && dims[static_cast<size_t>(i)] <= 4096;
  const hsize_t n = rank == 0 ? 1 : h5_elements(rank, dims);
  small = small && n <= (hsize_t{1} << 16);
  if (dset >= 0 && write && small && n > 0) {
    std::vector<std::string> strings;
    const std::vector<uint8_t> buf = h5_fill(kind, string_size, n, value, &strings);
    h5_ok(H5Dwrite(dset, type, H5S_ALL, H5S_ALL, H5P_DEFAULT, buf.data()), name.c_str());
  }
  if (dset >= 0) H5Dclose(dset);
  H5Pclose(dcpl);
  H5Pclose(lcpl);
  H5Sclose(space);
  H5Tclose(type);
  return dset >= 0;
}

// A fuzzed shape: rank -1 (null), 0 (scalar) .. 3; each side 0..4 or, when `huge`, possibly
// 2^20..2^62 (datasets only: attributes are stored whole in the object header).
inline int fuzz_rank(FuzzedDataProvider& fdp) { return fdp.ConsumeIntegralInRange<int>(-1, 3); }
inline std::vector<hsize_t> fuzz_dims(FuzzedDataProvider& fdp, int rank, bool huge) {
  std::vector<hsize_t> dims(static_cast<size_t>(rank > 0 ? rank : 0));
  for (hsize_t& d : dims) {
    d = huge && fdp.ConsumeBool()
            ? (hsize_t{1} << fdp.ConsumeIntegralInRange<int>(20, 62)) + fdp.ConsumeIntegral<uint8_t>()
            : fdp.ConsumeIntegralInRange<hsize_t>(0, 4);
  }
  return dims;
}

}  // namespace trm_fuzz
