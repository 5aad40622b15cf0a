// Private HDF5 helpers for the dataset writer and reader: an RAII handle, attribute and
// dataset I/O, and checks that turn a failed HDF5 call into a trm::Error naming the file.
// HDF5's own error stack printing is silenced; our messages say what failed and how to fix it.
#pragma once

#include <hdf5.h>

#include <cstdint>
#include <string>
#include <vector>

namespace trm {
namespace h5 {

// Owns one HDF5 identifier (file, dataset, dataspace, property list, attribute, type).
class Handle {
 public:
  Handle() = default;
  explicit Handle(hid_t id) : id_(id) {}
  ~Handle() { reset(); }
  Handle(Handle&& o) noexcept : id_(o.id_) { o.id_ = -1; }
  Handle& operator=(Handle&& o) noexcept {
    if (this != &o) {
      reset();
      id_ = o.id_;
      o.id_ = -1;
    }
    return *this;
  }
  Handle(const Handle&) = delete;
  Handle& operator=(const Handle&) = delete;
  hid_t get() const { return id_; }
  bool valid() const { return id_ >= 0; }
  void reset();

 private:
  hid_t id_ = -1;
};

void silence_errors();  // once per process: no HDF5 stack dumps on stderr

bool has_attr(hid_t obj, const char* name);
void write_attr_i64(hid_t obj, const char* name, int64_t value, const std::string& file);
void write_attr_f64(hid_t obj, const char* name, double value, const std::string& file);
void write_attr_str(hid_t obj, const char* name, const std::string& value, const std::string& file);
int64_t read_attr_i64(hid_t obj, const char* name, const std::string& file, const char* hint);
double read_attr_f64(hid_t obj, const char* name, const std::string& file, const char* hint);
std::string read_attr_str(hid_t obj, const char* name, const std::string& file, const char* hint);

// Throws unless dataset `dset` can hold `elements` values given the bytes it occupies in the file
// (for filtered datasets: at deflate's maximum ratio), so a forged shape allocates nothing.
void check_storage_holds(hid_t dset, hsize_t elements, const std::string& what, const std::string& path,
                         const char* hint);

// 1-D contiguous dataset of int64 or int32.
void write_vector_i64(hid_t file, const char* name, const std::vector<int64_t>& v, const std::string& path);
void write_vector_i32(hid_t file, const char* name, const std::vector<int32_t>& v, const std::string& path);
std::vector<int64_t> read_vector_i64(hid_t file, const char* name, const std::string& path, const char* hint);
std::vector<int32_t> read_vector_i32(hid_t file, const char* name, const std::string& path, const char* hint);

}  // namespace h5
}  // namespace trm
