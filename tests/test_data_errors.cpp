// Bad input is reported, not crashed on: trm-convert names the file, line or puzzle and what is
// wrong, exits 1 and leaves no output (nor temporary) directory; the dataset reader names the
// damaged shard and says how to rebuild for mixed, missing, truncated, corrupt or newer shards.
#include <gtest/gtest.h>
#include <hdf5.h>

#include <filesystem>
#include <functional>
#include <fstream>

#include "test_data_helpers.hpp"
#include "trm/common/error.hpp"
#include "trm/data/dataset_writer.hpp"
#include "trm/data/puzzle_dataset.hpp"
#include "trm/data/rng.hpp"

namespace trm {
namespace {

namespace fs = std::filesystem;
using testing::run_convert;
using testing::TempDir;
using testing::write_file;

const char* kGoodTask = R"({"train": [{"input": [[1, 2], [3, 4]], "output": [[4, 3], [2, 1]]}],
 "test": [{"input": [[0, 1]], "output": [[1, 0]]}]})";

// Runs `trm-convert arc --input-dirs <dir> ...` on one task file and returns the result.
testing::CommandResult convert_task(const TempDir& tmp, const std::string& task_json) {
  fs::create_directories(tmp / "tasks");
  write_file(tmp / "tasks/good.json", kGoodTask);
  write_file(tmp / "tasks/bad1.json", task_json);
  return run_convert("arc --input-dirs " + tmp / "tasks" + " --test-set tasks --num-aug 2 --output " + tmp / "out");
}

void expect_clean_failure(const TempDir& tmp, const testing::CommandResult& r, const std::string& needle) {
  EXPECT_EQ(r.exit_code, 1) << r.output;
  EXPECT_NE(r.output.find(needle), std::string::npos) << "missing '" << needle << "' in:\n" << r.output;
  EXPECT_FALSE(fs::exists(tmp / "out"));
  for (const auto& e : fs::directory_iterator(tmp.path())) {
    EXPECT_EQ(e.path().filename().string().find("out.tmp"), std::string::npos) << e.path();
  }
}

class ConvertErrors : public ::testing::Test {
 protected:
  void SetUp() override {
    if (!testing::convert_binary_exists()) GTEST_SKIP() << "build trm-convert first";
  }
};

TEST_F(ConvertErrors, ArcTaskProblemsNameFileAndPuzzle) {
  {
    TempDir tmp("e_json");
    expect_clean_failure(tmp, convert_task(tmp, "{\"train\": [\n  {\"input\": [[1]], \"output\": [[1]]},\n]}"),
                         "bad1.json:3:1: invalid JSON: trailing comma");
  }
  {
    TempDir tmp("e_big");
    std::string row = "[" + std::string("0,", 0);
    for (int i = 0; i < 31; ++i) row += (i ? ",0" : "0");
    row += "]";
    expect_clean_failure(tmp, convert_task(tmp, "{\"train\": [{\"input\": [" + row + "], \"output\": [[1]]}], \"test\": []}"),
                         "puzzle bad1 train[0].input has 31 columns, more than 30");
  }
  {
    TempDir tmp("e_ragged");
    expect_clean_failure(tmp, convert_task(tmp, R"({"train": [{"input": [[1, 2], [3]], "output": [[1]]}], "test": []})"),
                         "train[0].input is ragged: row 1 has 1 cells, row 0 has 2");
  }
  {
    TempDir tmp("e_colour");
    expect_clean_failure(tmp, convert_task(tmp, R"({"train": [{"input": [[1, 12]], "output": [[1]]}], "test": []})"),
                         "holds colour 12, outside 0-9");
  }
  {
    TempDir tmp("e_missing");
    expect_clean_failure(tmp, convert_task(tmp, R"({"train": [{"input": [[1]], "output": [[1]]}], "test": [{"input": [[1]]}]})"),
                         "puzzle bad1 test[0] has no \"output\" (missing test output)");
  }
}

TEST_F(ConvertErrors, KaggleSolutionsMissingOutputs) {
  TempDir tmp("e_kaggle");
  write_file(tmp / "x_training_challenges.json",
             R"({"p1": {"train": [{"input": [[1]], "output": [[2]]}], "test": [{"input": [[1]]}, {"input": [[3]]}]}})");
  write_file(tmp / "x_training_solutions.json", R"({"p1": [[[2]]]})");
  const auto r = run_convert("arc --input-prefix " + tmp / "x" + " --subsets training --test-set training --output " +
                             tmp / "out");
  expect_clean_failure(tmp, r, "puzzle p1 has 1 test outputs, the challenge has 2 test inputs (missing test outputs)");
  const auto r2 = run_convert("arc --input-prefix " + tmp / "x" + " --subsets training --test-set evaluation --output " +
                              tmp / "out");
  expect_clean_failure(tmp, r2, "test set 'evaluation' is not among the input subsets");
}

TEST_F(ConvertErrors, CsvProblemsNameFileAndLine) {
  const std::string q = "..3.2.6..9..3.5..1..18.64....81.29..7.......8..67.82....26.95..8..2.3..9..5.1.3..";
  const std::string a = "483921657967345821251876493548132976729564138136798245372689514814253769695417382";
  {
    TempDir tmp("e_sudoku_width");
    write_file(tmp / "train.csv", "source,question,answer,rating\ns," + q + "," + a + ",1\ns," + q + "1," + a + ",1\n");
    write_file(tmp / "test.csv", "source,question,answer,rating\n");
    expect_clean_failure(tmp, run_convert("sudoku --train-csv " + tmp / "train.csv" + " --test-csv " + tmp / "test.csv" +
                                          " --output " + tmp / "out"),
                         "train.csv:3: question has 82 characters, expected 81");
  }
  {
    TempDir tmp("e_sudoku_char");
    std::string bad = a;
    bad[10] = 'x';
    write_file(tmp / "train.csv", "source,question,answer,rating\ns," + q + "," + bad + ",1\n");
    write_file(tmp / "test.csv", "source,question,answer,rating\n");
    expect_clean_failure(tmp, run_convert("sudoku --train-csv " + tmp / "train.csv" + " --test-csv " + tmp / "test.csv" +
                                          " --output " + tmp / "out"),
                         "train.csv:2: answer character 11 is 'x'");
  }
  {
    TempDir tmp("e_sudoku_header");
    write_file(tmp / "train.csv", "question,answer\n");
    write_file(tmp / "test.csv", "source,question,answer,rating\n");
    expect_clean_failure(tmp, run_convert("sudoku --train-csv " + tmp / "train.csv" + " --test-csv " + tmp / "test.csv" +
                                          " --output " + tmp / "out"),
                         "train.csv:1: header is 'question,answer', expected 'source,question,answer,rating'");
  }
  {
    TempDir tmp("e_maze");
    write_file(tmp / "train.csv", "source,question,answer,rating\ns,#S G,#SoG,0\ns,#SxG,#SoG,0\n");
    write_file(tmp / "test.csv", "source,question,answer,rating\n");
    expect_clean_failure(tmp, run_convert("maze --train-csv " + tmp / "train.csv" + " --test-csv " + tmp / "test.csv" +
                                          " --output " + tmp / "out"),
                         "train.csv:3 question: character 3 is 'x', not one of \"# SGo\"");
    write_file(tmp / "train.csv", "source,question,answer,rating\ns,#S G,#SoG,0\ns,#S G#,#SoG#,0\n");
    expect_clean_failure(tmp, run_convert("maze --train-csv " + tmp / "train.csv" + " --test-csv " + tmp / "test.csv" +
                                          " --output " + tmp / "out"),
                         "train.csv:3: question has 5 characters, not a square grid");
  }
}

TEST_F(ConvertErrors, UnsolvableGeneratorSpecs) {
  TempDir tmp("e_gen");
  expect_clean_failure(tmp, run_convert("sudoku --generate 5 --size 4 --blanks 15 --output " + tmp / "out"),
                       "unsolvable generated spec");
  expect_clean_failure(tmp, run_convert("maze --generate 5 --size 7 --min-path-length 400 --output " + tmp / "out"),
                       "unsolvable generated spec");
  const auto usage = run_convert("sudoku --generate 5 --size 4 --output " + tmp / "out");
  EXPECT_EQ(usage.exit_code, 2) << usage.output;
  EXPECT_NE(usage.output.find("--generate needs --blanks or --givens"), std::string::npos);
}

TEST_F(ConvertErrors, ExistingOutputIsKeptUnlessForced) {
  TempDir tmp("e_exists");
  ASSERT_EQ(run_convert("sudoku --generate 4 --size 4 --blanks 4 --output " + tmp / "out").exit_code, 0);
  const auto again = run_convert("sudoku --generate 4 --size 4 --blanks 4 --output " + tmp / "out");
  EXPECT_EQ(again.exit_code, 1);
  EXPECT_NE(again.output.find("already exists"), std::string::npos) << again.output;
  EXPECT_EQ(run_convert("sudoku --generate 6 --size 4 --blanks 4 --force --output " + tmp / "out").exit_code, 0);
  EXPECT_EQ(PuzzleDataset(tmp / "out", "train").num_groups(), 6);
}

TEST(DatasetWriter, AbandonedWriterLeavesNothing) {
  TempDir tmp("abandon");
  ThreadPool pool(2);
  DatasetMetadata base;
  base.seq_len = 4;
  base.vocab_size = 3;
  DatasetWriterOptions o;
  o.output_dir = tmp / "out";
  {
    DatasetWriter w(o, base, &pool);
    w.begin_split("train", 10);
    const uint8_t x[4] = {1, 2, 1, 2};
    w.begin_group("train");
    w.add_puzzle("train", 0, x, x, 1);
    w.end_group("train");
    EXPECT_TRUE(fs::exists(w.temp_dir()));
    EXPECT_THROW(w.commit(1), Error);  // 1 of 10 declared groups
  }
  EXPECT_TRUE(fs::is_empty(tmp.path()));
}

// --- Reader errors ------------------------------------------------------------------------------

void write_dataset(const std::string& dir, int groups, int shards, uint64_t salt) {
  ThreadPool pool(1);
  DatasetMetadata base;
  base.seq_len = 64;
  base.vocab_size = 256;
  DatasetWriterOptions o;
  o.output_dir = dir;
  o.num_shards = shards;
  o.chunk_rows = 8;
  o.compression_level = 1;
  DatasetWriter w(o, base, &pool);
  w.begin_split("train", groups);
  w.begin_split("test", 0);
  Rng rng(salt);
  std::vector<uint8_t> rows(4 * 64);
  for (int g = 0; g < groups; ++g) {
    for (auto& t : rows) t = static_cast<uint8_t>(rng.below(256));  // incompressible: the file is mostly chunks
    w.begin_group("train");
    w.add_puzzle("train", 0, rows.data(), rows.data(), 4);
    w.end_group("train");
  }
  w.write_side_file("identifiers.json", "[\"<blank>\"]");
  w.commit(1);
}

// Opens the train split (rows read from disk unless in_memory) and reads every row.
std::string open_error(const std::string& dir, bool in_memory = false) {
  try {
    PuzzleDataset ds(dir, "train", in_memory ? PuzzleDataset::kDefaultInMemoryBytes : 0);
    std::vector<int64_t> rows(ds.num_examples());
    for (int64_t i = 0; i < ds.num_examples(); ++i) rows[i] = i;
    std::vector<int32_t> in(rows.size() * 64), lab(rows.size() * 64);
    ds.read_examples(rows.data(), ds.num_examples(), in.data(), lab.data());
  } catch (const Error& e) {
    return e.message() + " | hint: " + e.hint();
  }
  return "";
}

TEST(DatasetReader, MixedShardsAreRejected) {
  TempDir tmp("r_mixed");
  write_dataset(tmp / "a", 40, 2, 1);
  write_dataset(tmp / "b", 30, 2, 2);
  fs::copy_file(tmp / "b/train/shard_00001.h5", tmp / "a/train/shard_00001.h5", fs::copy_options::overwrite_existing);
  const std::string err = open_error(tmp / "a");
  EXPECT_NE(err.find("shards disagree: the metadata of " + tmp / "a/train/shard_00001.h5"), std::string::npos) << err;
  EXPECT_NE(err.find("run trm-convert again"), std::string::npos) << err;
}

TEST(DatasetReader, MissingShardIsNamed) {
  TempDir tmp("r_missing");
  write_dataset(tmp / "a", 40, 3, 1);
  fs::remove(tmp / "a/train/shard_00002.h5");
  const std::string err = open_error(tmp / "a");
  EXPECT_NE(err.find("missing shard " + tmp / "a/train/shard_00002.h5" + " (the split has 3 shards)"), std::string::npos)
      << err;
}

TEST(DatasetReader, TruncatedFileIsNamed) {
  TempDir tmp("r_trunc");
  write_dataset(tmp / "a", 40, 1, 1);
  const std::string shard = tmp / "a/train/shard_00000.h5";
  fs::resize_file(shard, fs::file_size(shard) / 2);
  const std::string err = open_error(tmp / "a");
  EXPECT_NE(err.find(shard), std::string::npos) << err;
  EXPECT_NE(err.find("rebuild the dataset"), std::string::npos) << err;
}

TEST(DatasetReader, CorruptChunkIsNamed) {
  TempDir tmp("r_corrupt");
  write_dataset(tmp / "a", 200, 1, 1);
  const std::string shard = tmp / "a/train/shard_00000.h5";
  {
    std::fstream f(shard, std::ios::in | std::ios::out | std::ios::binary);
    f.seekp(static_cast<std::streamoff>(fs::file_size(shard) / 2));
    const std::string junk(4096, '\x5a');
    f.write(junk.data(), static_cast<std::streamsize>(junk.size()));
  }
  for (const bool in_memory : {false, true}) {
    const std::string err = open_error(tmp / "a", in_memory);
    EXPECT_NE(err.find(shard), std::string::npos) << err;
    EXPECT_NE(err.find("rebuild the dataset"), std::string::npos) << err;
  }
}

TEST(DatasetReader, UnknownFormatVersionIsNamed) {
  TempDir tmp("r_version");
  write_dataset(tmp / "a", 10, 1, 1);
  const std::string shard = tmp / "a/train/shard_00000.h5";
  {
    const hid_t f = H5Fopen(shard.c_str(), H5F_ACC_RDWR, H5P_DEFAULT);
    ASSERT_GE(f, 0);
    const hid_t a = H5Aopen(f, "format_version", H5P_DEFAULT);
    const int64_t v = kDatasetFormatVersion + 1;
    ASSERT_GE(H5Awrite(a, H5T_NATIVE_INT64, &v), 0);
    H5Aclose(a);
    H5Fclose(f);
  }
  const std::string err = open_error(tmp / "a");
  EXPECT_NE(err.find(shard + " has dataset format version " + std::to_string(kDatasetFormatVersion + 1) +
                     ", this build reads version " + std::to_string(kDatasetFormatVersion)),
            std::string::npos)
      << err;
}

// Found in review while writing tests/fuzz/fuzz_dataset_struct (which generates both cases):
// readers of one-value attributes read a list attribute past their buffer, and a forged shape
// (a dataset declared huge with no storage, which HDF5 allows in a tiny file) was allocated
// before anything checked it.
void replace_in_shard(const std::string& shard, const std::function<void(hid_t)>& edit) {
  const hid_t f = H5Fopen(shard.c_str(), H5F_ACC_RDWR, H5P_DEFAULT);
  ASSERT_GE(f, 0);
  edit(f);
  H5Fclose(f);
}

TEST(DatasetReader, ListAttributeIsRefused) {
  TempDir tmp("r_list_attr");
  write_dataset(tmp / "a", 10, 1, 1);
  const std::string shard = tmp / "a/train/shard_00000.h5";
  replace_in_shard(shard, [](hid_t f) {
    ASSERT_GE(H5Adelete(f, "format_version"), 0);
    const hsize_t n = 64;
    const std::vector<int64_t> values(n, kDatasetFormatVersion);
    const hid_t space = H5Screate_simple(1, &n, nullptr);
    const hid_t a = H5Acreate2(f, "format_version", H5T_STD_I64LE, space, H5P_DEFAULT, H5P_DEFAULT);
    ASSERT_GE(H5Awrite(a, H5T_NATIVE_INT64, values.data()), 0);
    H5Aclose(a);
    H5Sclose(space);
  });
  const std::string err = open_error(tmp / "a");
  EXPECT_NE(err.find("attribute 'format_version' of " + shard + " does not hold exactly one value"),
            std::string::npos)
      << err;
}

TEST(DatasetReader, ForgedShapesAreRefusedBeforeAllocating) {
  TempDir tmp("r_forged");
  write_dataset(tmp / "a", 10, 1, 1);
  const std::string shard = tmp / "a/train/shard_00000.h5";
  // An index array of 2^40 int64 (8 TiB) that occupies no bytes of the file.
  replace_in_shard(shard, [](hid_t f) {
    ASSERT_GE(H5Ldelete(f, "group_indices", H5P_DEFAULT), 0);
    const hsize_t n = hsize_t{1} << 40;
    const hid_t space = H5Screate_simple(1, &n, nullptr);
    const hid_t d = H5Dcreate2(f, "group_indices", H5T_STD_I64LE, space, H5P_DEFAULT, H5P_DEFAULT, H5P_DEFAULT);
    ASSERT_GE(d, 0);
    H5Dclose(d);
    H5Sclose(space);
  });
  std::string err = open_error(tmp / "a");
  EXPECT_NE(err.find("dataset 'group_indices' in " + shard + " claims 1099511627776 elements"), std::string::npos)
      << err;
  EXPECT_NE(err.find("rebuild the dataset"), std::string::npos) << err;

  // Rows of 2^61 tokens each, seq_len to match: rows * seq_len overflowed int64.
  write_dataset(tmp / "b", 10, 1, 1);
  const std::string shard_b = tmp / "b/train/shard_00000.h5";
  replace_in_shard(shard_b, [](hid_t f) {
    const int64_t seq = int64_t{1} << 61;
    const hid_t a = H5Aopen(f, "seq_len", H5P_DEFAULT);
    ASSERT_GE(H5Awrite(a, H5T_NATIVE_INT64, &seq), 0);
    H5Aclose(a);
    for (const char* name : {"inputs", "labels"}) {
      ASSERT_GE(H5Ldelete(f, name, H5P_DEFAULT), 0);
      const hsize_t dims[2] = {10, static_cast<hsize_t>(seq)}, chunk[2] = {1, 1024};
      const hid_t space = H5Screate_simple(2, dims, nullptr);
      const hid_t dcpl = H5Pcreate(H5P_DATASET_CREATE);
      H5Pset_chunk(dcpl, 2, chunk);
      const hid_t d = H5Dcreate2(f, name, H5T_STD_U8LE, space, H5P_DEFAULT, dcpl, H5P_DEFAULT);
      ASSERT_GE(d, 0);
      H5Dclose(d);
      H5Pclose(dcpl);
      H5Sclose(space);
    }
  });
  err = open_error(tmp / "b", true);
  EXPECT_NE(err.find("inputs/labels in " + shard_b + " claims"), std::string::npos) << err;
}

TEST(DatasetReader, MissingSplitAndNonDataset) {
  TempDir tmp("r_none");
  const std::string err = open_error(tmp / "nothing");
  EXPECT_NE(err.find("has no split 'train'"), std::string::npos) << err;
  fs::create_directories(tmp / "fake/train");
  write_file(tmp / "fake/train/shard_00000.h5", "not hdf5 at all");
  const std::string err2 = open_error(tmp / "fake");
  EXPECT_NE(err2.find("not an HDF5 file, or truncated/damaged"), std::string::npos) << err2;
}

}  // namespace
}  // namespace trm
