// write_eval_outputs (see eval_outputs_file.hpp). Each rank writes maximal runs of consecutive
// example indices with one hyperslab per run and dataset. Turns are separated by
// Communicator::any(failed), which is both the barrier and the way a failure reaches every rank.
#include "trm/eval/eval_outputs_file.hpp"

#include <hdf5.h>

#include <cstdio>
#include <filesystem>

#include "trm/common/error.hpp"

namespace trm {
namespace {

class H5 {
 public:
  H5(hid_t id, const char* what, const std::string& path) : id_(id) {
    TRM_CHECK(id_ >= 0, "HDF5: " << what << " failed for " << path,
              "check the output directory, its permissions and free space");
  }
  ~H5() {
    if (id_ < 0) return;
    switch (H5Iget_type(id_)) {
      case H5I_FILE: H5Fclose(id_); break;
      case H5I_DATASET: H5Dclose(id_); break;
      case H5I_DATASPACE: H5Sclose(id_); break;
      case H5I_ATTR: H5Aclose(id_); break;
      case H5I_DATATYPE: H5Tclose(id_); break;
      default: break;
    }
  }
  H5(const H5&) = delete;
  H5& operator=(const H5&) = delete;
  hid_t get() const { return id_; }

 private:
  hid_t id_;
};

void check(herr_t rc, const char* what, const std::string& path) {
  TRM_CHECK(rc >= 0, "HDF5: " << what << " failed for " << path,
            "check the output directory, its permissions and free space");
}

void write_attr_i64(hid_t obj, const char* name, int64_t value, const std::string& path) {
  H5 space(H5Screate(H5S_SCALAR), "H5Screate", path);
  H5 attr(H5Acreate2(obj, name, H5T_STD_I64LE, space.get(), H5P_DEFAULT, H5P_DEFAULT),
          "H5Acreate2", path);
  check(H5Awrite(attr.get(), H5T_NATIVE_INT64, &value), "H5Awrite", path);
}

void write_attr_str(hid_t obj, const char* name, const std::string& value,
                    const std::string& path) {
  H5 type(H5Tcopy(H5T_C_S1), "H5Tcopy", path);
  check(H5Tset_size(type.get(), value.size()), "H5Tset_size", path);
  H5 space(H5Screate(H5S_SCALAR), "H5Screate", path);
  H5 attr(H5Acreate2(obj, name, type.get(), space.get(), H5P_DEFAULT, H5P_DEFAULT),
          "H5Acreate2", path);
  check(H5Awrite(attr.get(), type.get(), value.data()), "H5Awrite", path);
}

struct Column {
  const char* name;
  hid_t mem_type;
  int64_t width;  // values per row
  const void* data;
  size_t elem_size;
};

void create_file(const std::string& path, int64_t n, int64_t seq_len, const std::string& kind) {
  H5 file(H5Fcreate(path.c_str(), H5F_ACC_TRUNC, H5P_DEFAULT, H5P_DEFAULT), "H5Fcreate", path);
  const struct {
    const char* name;
    hid_t type;
    bool wide;
  } sets[] = {{"inputs", H5T_STD_I32LE, true},
              {"labels", H5T_STD_I32LE, true},
              {"puzzle_identifiers", H5T_STD_I32LE, false},
              {"preds", H5T_STD_I32LE, true},
              {"q_halt_logits", H5T_IEEE_F32LE, false}};
  for (const auto& s : sets) {
    const hsize_t dims[2] = {static_cast<hsize_t>(n), static_cast<hsize_t>(seq_len)};
    H5 space(H5Screate_simple(s.wide ? 2 : 1, dims, nullptr), "H5Screate_simple", path);
    H5 ds(H5Dcreate2(file.get(), s.name, s.type, space.get(), H5P_DEFAULT, H5P_DEFAULT,
                     H5P_DEFAULT),
          "H5Dcreate2", path);
  }
  write_attr_str(file.get(), "format", kEvalOutputsFormat, path);
  write_attr_i64(file.get(), "format_version", kEvalOutputsFormatVersion, path);
  write_attr_i64(file.get(), "seq_len", seq_len, path);
  write_attr_i64(file.get(), "num_examples", n, path);
  if (!kind.empty()) write_attr_str(file.get(), "kind", kind, path);
}

void write_rows(const std::string& path, const EvalRows& rows) {
  H5 file(H5Fopen(path.c_str(), H5F_ACC_RDWR, H5P_DEFAULT), "H5Fopen", path);
  const Column columns[] = {
      {"inputs", H5T_NATIVE_INT32, rows.seq_len, rows.inputs.data(), sizeof(int32_t)},
      {"labels", H5T_NATIVE_INT32, rows.seq_len, rows.labels.data(), sizeof(int32_t)},
      {"puzzle_identifiers", H5T_NATIVE_INT32, 1, rows.puzzle_identifiers.data(),
       sizeof(int32_t)},
      {"preds", H5T_NATIVE_INT32, rows.seq_len, rows.preds.data(), sizeof(int32_t)},
      {"q_halt_logits", H5T_NATIVE_FLOAT, 1, rows.q_halt_logits.data(), sizeof(float)}};
  for (const auto& col : columns) {
    H5 ds(H5Dopen2(file.get(), col.name, H5P_DEFAULT), "H5Dopen2", path);
    H5 file_space(H5Dget_space(ds.get()), "H5Dget_space", path);
    const int rank = H5Sget_simple_extent_ndims(file_space.get());
    int64_t i = 0;
    while (i < rows.rows()) {
      int64_t j = i + 1;  // [i, j): consecutive example indices
      while (j < rows.rows() && rows.example_indices[j] == rows.example_indices[j - 1] + 1) ++j;
      const hsize_t start[2] = {static_cast<hsize_t>(rows.example_indices[i]), 0};
      const hsize_t count[2] = {static_cast<hsize_t>(j - i), static_cast<hsize_t>(col.width)};
      check(H5Sselect_hyperslab(file_space.get(), H5S_SELECT_SET, start, nullptr, count, nullptr),
            "H5Sselect_hyperslab", path);
      H5 mem_space(H5Screate_simple(rank, count, nullptr), "H5Screate_simple", path);
      const auto* src = static_cast<const char*>(col.data) + i * col.width * col.elem_size;
      check(H5Dwrite(ds.get(), col.mem_type, mem_space.get(), file_space.get(), H5P_DEFAULT, src),
            "H5Dwrite", path);
      i = j;
    }
  }
  check(H5Fflush(file.get(), H5F_SCOPE_GLOBAL), "H5Fflush", path);
}

}  // namespace

void write_eval_outputs(const std::string& path, const EvalRows& local, int64_t num_examples,
                        Communicator& comm, const std::string& dataset_kind) {
  namespace fs = std::filesystem;
  const fs::path target(path);
  const fs::path dir = target.has_parent_path() ? target.parent_path() : fs::path(".");
  const std::string tmp = (dir / ("." + target.filename().string() + ".tmp")).string();

  // Every row exactly once: sizes add up and each rank's indices are in range and increasing.
  bool ok = local.rows() == 0 || (local.example_indices.front() >= 0 &&
                                  local.example_indices.back() < num_examples);
  for (int64_t i = 1; i < local.rows(); ++i) {
    ok = ok && local.example_indices[i] > local.example_indices[i - 1];
  }
  torch::Tensor total = torch::tensor({local.rows()}, torch::kInt64);
  comm.all_reduce_sum(total);
  const bool bad = comm.any(!ok) || total.item<int64_t>() != num_examples;
  TRM_CHECK(!bad,
            "evaluation outputs cover " << total.item<int64_t>() << " rows (or are out of order)"
                                        << ", the test split has " << num_examples,
            "this is a bug in the test iteration; please report it");

  H5Eset_auto2(H5E_DEFAULT, nullptr, nullptr);  // our messages replace HDF5's stack dumps
  std::string error;
  if (comm.rank() == 0) {
    try {
      std::error_code ec;
      fs::create_directories(dir, ec);
      create_file(tmp, num_examples, local.seq_len, dataset_kind);
    } catch (const std::exception& e) {
      error = e.what();
    }
  }
  for (int r = 0; r < comm.world_size(); ++r) {
    if (comm.any(!error.empty())) break;
    if (comm.rank() == r && local.rows() > 0) {
      try {
        write_rows(tmp, local);
      } catch (const std::exception& e) {
        error = e.what();
      }
    }
  }
  bool failed = comm.any(!error.empty());
  if (!failed && comm.rank() == 0 && std::rename(tmp.c_str(), path.c_str()) != 0) {
    error = "cannot rename " + tmp + " to " + path;
  }
  failed = comm.any(!error.empty());
  if (failed) {
    if (comm.rank() == 0) std::remove(tmp.c_str());
    TRM_FAIL("writing evaluation outputs to " << path << " failed on "
                                              << (error.empty() ? "another rank" : "this rank")
                                              << (error.empty() ? "" : ": " + error),
             "check the output directory, its permissions and free space");
  }
}

}  // namespace trm
