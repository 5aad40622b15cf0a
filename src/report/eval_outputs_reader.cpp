// read_eval_outputs_sample (see eval_outputs_reader.hpp) over the HDF5 C API, every call checked.
#include "trm/report/eval_outputs_reader.hpp"

#include <hdf5.h>

#include <algorithm>

#include "trm/common/error.hpp"

namespace trm {
namespace {

constexpr const char* kHint = "eval_outputs.h5 is written by trm-eval --save-outputs; rerun it";
constexpr int32_t kIgnoredLabel = -100;
constexpr int64_t kBlockRows = 4096;

class Handle {
 public:
  Handle(hid_t id, herr_t (*close)(hid_t), const char* what, const std::string& path)
      : id_(id), close_(close) {
    TRM_CHECK(id_ >= 0, "HDF5: " << what << " failed for " << path, kHint);
  }
  ~Handle() {
    if (id_ >= 0) close_(id_);
  }
  Handle(const Handle&) = delete;
  Handle& operator=(const Handle&) = delete;
  hid_t get() const { return id_; }

 private:
  hid_t id_;
  herr_t (*close_)(hid_t);
};

int64_t read_attr_int(hid_t file, const char* name, const std::string& path) {
  TRM_CHECK(H5Aexists(file, name) > 0, path << " lacks the attribute " << name, kHint);
  Handle attr(H5Aopen(file, name, H5P_DEFAULT), H5Aclose, "H5Aopen", path);
  int64_t v = 0;
  TRM_CHECK(H5Aread(attr.get(), H5T_NATIVE_INT64, &v) >= 0,
            "HDF5: reading " << name << " of " << path << " failed", kHint);
  return v;
}

std::string read_attr_string(hid_t file, const char* name, const std::string& path) {
  if (H5Aexists(file, name) <= 0) return "";
  Handle attr(H5Aopen(file, name, H5P_DEFAULT), H5Aclose, "H5Aopen", path);
  Handle type(H5Aget_type(attr.get()), H5Tclose, "H5Aget_type", path);
  TRM_CHECK(H5Tget_class(type.get()) == H5T_STRING && !H5Tis_variable_str(type.get()),
            path << " attribute " << name << " is not a fixed-length string", kHint);
  std::string s(H5Tget_size(type.get()), '\0');
  TRM_CHECK(H5Aread(attr.get(), type.get(), s.data()) >= 0,
            "HDF5: reading " << name << " of " << path << " failed", kHint);
  s.erase(std::find(s.begin(), s.end(), '\0'), s.end());
  return s;
}

// Rows [start, start + count) of a [N, seq_len] int32 dataset.
void read_block(hid_t ds, int64_t start, int64_t count, int64_t seq_len, std::vector<int32_t>& out,
                const std::string& path) {
  out.resize(static_cast<size_t>(count * seq_len));
  Handle file_space(H5Dget_space(ds), H5Sclose, "H5Dget_space", path);
  const hsize_t offset[2] = {static_cast<hsize_t>(start), 0};
  const hsize_t dims[2] = {static_cast<hsize_t>(count), static_cast<hsize_t>(seq_len)};
  TRM_CHECK(
      H5Sselect_hyperslab(file_space.get(), H5S_SELECT_SET, offset, nullptr, dims, nullptr) >= 0,
      "HDF5: selecting rows of " << path << " failed", kHint);
  Handle mem_space(H5Screate_simple(2, dims, nullptr), H5Sclose, "H5Screate_simple", path);
  TRM_CHECK(H5Dread(ds, H5T_NATIVE_INT32, mem_space.get(), file_space.get(), H5P_DEFAULT,
                    out.data()) >= 0,
            "HDF5: reading rows " << start << ".." << start + count << " of " << path << " failed",
            kHint);
}

}  // namespace

EvalOutputsSample read_eval_outputs_sample(const std::string& path, int64_t max_rows) {
  H5Eset_auto2(H5E_DEFAULT, nullptr, nullptr);  // our messages replace HDF5's stack dumps
  TRM_CHECK(H5Fis_hdf5(path.c_str()) > 0, path << " is not an HDF5 file", kHint);
  Handle file(H5Fopen(path.c_str(), H5F_ACC_RDONLY, H5P_DEFAULT), H5Fclose, "H5Fopen", path);
  EvalOutputsSample s;
  s.path = path;
  TRM_CHECK(read_attr_string(file.get(), "format", path) == "trm-dist-eval-outputs",
            path << " is not an eval outputs file (format \"trm-dist-eval-outputs\")", kHint);
  const int64_t version = read_attr_int(file.get(), "format_version", path);
  TRM_CHECK(version == 1, path << " has format_version " << version << "; this trm-report reads 1",
            "use the trm-report of the trm-dist that wrote the file");
  s.kind = read_attr_string(file.get(), "kind", path);
  s.seq_len = read_attr_int(file.get(), "seq_len", path);
  s.num_examples = read_attr_int(file.get(), "num_examples", path);
  TRM_CHECK(s.seq_len > 0 && s.num_examples >= 0,
            path << " has seq_len " << s.seq_len << " and num_examples " << s.num_examples, kHint);

  Handle inputs(H5Dopen2(file.get(), "inputs", H5P_DEFAULT), H5Dclose, "opening /inputs", path);
  Handle labels(H5Dopen2(file.get(), "labels", H5P_DEFAULT), H5Dclose, "opening /labels", path);
  Handle preds(H5Dopen2(file.get(), "preds", H5P_DEFAULT), H5Dclose, "opening /preds", path);

  // The first max_rows failed and correct rows; the sample takes failed ones for half of it
  // (more when there are too few correct ones).
  std::vector<TokenRow> failed, correct;
  std::vector<int32_t> in_block, label_block, pred_block;
  for (int64_t start = 0; start < s.num_examples; start += kBlockRows) {
    const int64_t count = std::min(kBlockRows, s.num_examples - start);
    read_block(labels.get(), start, count, s.seq_len, label_block, path);
    read_block(preds.get(), start, count, s.seq_len, pred_block, path);
    const bool need_inputs = static_cast<int64_t>(failed.size()) < max_rows ||
                             static_cast<int64_t>(correct.size()) < max_rows;
    if (need_inputs) read_block(inputs.get(), start, count, s.seq_len, in_block, path);
    for (int64_t r = 0; r < count; ++r) {
      const int32_t* label = label_block.data() + r * s.seq_len;
      const int32_t* pred = pred_block.data() + r * s.seq_len;
      int64_t valid = 0, right = 0;
      for (int64_t t = 0; t < s.seq_len; ++t) {
        if (label[t] == kIgnoredLabel) continue;
        ++valid;
        right += pred[t] == label[t];
      }
      if (valid == 0) continue;  // padding rows of the split: nothing to score
      ++s.num_counted;
      s.num_tokens += valid;
      s.num_tokens_correct += right;
      const bool exact = right == valid;
      s.num_exact += exact;
      std::vector<TokenRow>& bucket = exact ? correct : failed;
      if (static_cast<int64_t>(bucket.size()) >= max_rows) continue;
      TokenRow row;
      row.index = start + r;
      row.input.assign(in_block.begin() + r * s.seq_len, in_block.begin() + (r + 1) * s.seq_len);
      row.label.assign(label, label + s.seq_len);
      row.pred.assign(pred, pred + s.seq_len);
      row.exact = exact;
      bucket.push_back(std::move(row));
    }
  }
  const int64_t n_correct = std::min<int64_t>(correct.size(), max_rows / 2);
  const int64_t n_failed = std::min<int64_t>(failed.size(), max_rows - n_correct);
  const int64_t n_correct_final = std::min<int64_t>(correct.size(), max_rows - n_failed);
  s.rows.assign(failed.begin(), failed.begin() + n_failed);
  s.rows.insert(s.rows.end(), correct.begin(), correct.begin() + n_correct_final);
  std::sort(s.rows.begin(), s.rows.end(),
            [](const TokenRow& a, const TokenRow& b) { return a.index < b.index; });
  return s;
}

}  // namespace trm
