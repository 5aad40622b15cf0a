// Checkpoint files and the checkpoint folder: exact round trip of every stored kind, CRC
// compatibility with zlib, damaged files (flipped byte, truncation) detected and skipped,
// keep-last-K plus best, no partial file after a failed write, resume config policy, model
// state mapping with the reference's puzzle-embedding resize, and the stop-signal flag.
#include <gtest/gtest.h>
#include <hdf5.h>

#include <unistd.h>

#include <chrono>
#include <csignal>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include "../src/ckpt/crc32.hpp"
#include "trm/ckpt/checkpoint_file.hpp"
#include "trm/ckpt/checkpoint_store.hpp"
#include "trm/ckpt/model_state.hpp"
#include "trm/ckpt/resume_policy.hpp"
#include "trm/ckpt/stop_signal.hpp"
#include "trm/common/error.hpp"

namespace fs = std::filesystem;
using namespace trm;

namespace {

class CkptTest : public ::testing::Test {
 protected:
  void SetUp() override {
    torch::manual_seed(1234);
    dir_ = fs::temp_directory_path() /
           ("trm_ckpt_test_" + std::to_string(::getpid()) + "_" +
            ::testing::UnitTest::GetInstance()->current_test_info()->name());
    fs::remove_all(dir_);
    fs::create_directories(dir_);
  }
  void TearDown() override { fs::remove_all(dir_); }
  std::string path(const std::string& name) const { return (dir_ / name).string(); }
  std::vector<std::string> files() const {
    std::vector<std::string> out;
    for (const auto& e : fs::directory_iterator(dir_)) out.push_back(e.path().filename().string());
    std::sort(out.begin(), out.end());
    return out;
  }
  fs::path dir_;
};

std::vector<char> read_bytes(const std::string& p) {
  std::ifstream in(p, std::ios::binary);
  return std::vector<char>(std::istreambuf_iterator<char>(in), {});
}

void write_bytes(const std::string& p, const std::vector<char>& bytes) {
  std::ofstream out(p, std::ios::binary | std::ios::trunc);
  out.write(bytes.data(), std::streamsize(bytes.size()));
}

CheckpointContent sample_content() {
  CheckpointContent c;
  c.tensors["model"]["inner.lm_head.weight"] = torch::randn({5, 3});
  c.tensors["model"]["inner.H_init"] = torch::randn({3}).to(torch::kBFloat16);
  c.tensors["optim/m"]["inner.lm_head.weight"] = torch::randn({5, 3}, torch::kFloat64);
  c.tensors["carry/rank1"]["halted"] = torch::tensor({true, false, true});
  c.tensors["carry/rank1"]["steps"] = torch::tensor({1, 2, 3}, torch::kInt32);
  c.tensors["carry/rank1"]["half"] = torch::randn({2, 2}).to(torch::kFloat16);
  c.tensors["carry/rank1"]["empty"] = torch::empty({0, 4}, torch::kInt64);
  c.tensors["misc"]["scalar"] = torch::tensor(7.5f);
  c.tensors["misc"]["bytes"] = torch::tensor({1, 255}, torch::kUInt8);
  c.tensors["misc"]["i8"] = torch::tensor({-3, 4}, torch::kInt8);
  c.tensors["misc"]["i16"] = torch::tensor({-300, 400}, torch::kInt16);
  c.ints["epoch"] = -42;
  c.ints["optim.step"] = int64_t(1) << 40;
  c.floats["lr"] = 1.25e-4;
  c.blobs["sampler"] = {0, 1, 2, 250};
  c.blobs["rng/rank0"] = {};
  c.texts["config"] = "lr = 0.0001\n[arch]\nhidden_size = 64\n";
  return c;
}

void expect_same(const CheckpointContent& a, const CheckpointContent& b) {
  ASSERT_EQ(a.tensors.size(), b.tensors.size());
  for (const auto& [g, m] : a.tensors) {
    ASSERT_TRUE(b.tensors.count(g)) << g;
    ASSERT_EQ(m.size(), b.tensors.at(g).size()) << g;
    for (const auto& [n, t] : m) {
      const torch::Tensor& u = b.tensors.at(g).at(n);
      EXPECT_EQ(t.scalar_type(), u.scalar_type()) << g << "/" << n;
      EXPECT_EQ(t.sizes(), u.sizes()) << g << "/" << n;
      EXPECT_TRUE(torch::equal(t, u)) << g << "/" << n;
    }
  }
  EXPECT_EQ(a.ints, b.ints);
  EXPECT_EQ(a.floats, b.floats);
  EXPECT_EQ(a.blobs, b.blobs);
  EXPECT_EQ(a.texts, b.texts);
}

// Flips one byte of the first occurrence of `pattern` in the file.
void corrupt_pattern(const std::string& p, const std::vector<char>& pattern) {
  std::vector<char> bytes = read_bytes(p);
  auto it = std::search(bytes.begin(), bytes.end(), pattern.begin(), pattern.end());
  ASSERT_NE(it, bytes.end()) << "pattern not found in " << p;
  *(it + 2) ^= 0x5A;
  write_bytes(p, bytes);
}

CheckpointContent pattern_content(float marker) {
  CheckpointContent c;
  c.tensors["model"]["w"] = torch::full({64}, marker);
  return c;
}

std::vector<char> float_pattern(float v, int repeat) {
  std::vector<char> out;
  for (int i = 0; i < repeat; ++i) {
    const char* p = reinterpret_cast<const char*>(&v);
    out.insert(out.end(), p, p + sizeof(float));
  }
  return out;
}

}  // namespace

TEST(CkptCrc32, MatchesZlib) {
  const std::string s = "123456789";
  EXPECT_EQ(crc32_update(0, s.data(), s.size()), 0xCBF43926u);
  // Chaining equals one pass (as zlib.crc32(b, zlib.crc32(a))).
  std::string long_text(1000, 'x');
  for (size_t i = 0; i < long_text.size(); ++i) long_text[i] = char(i * 31 + 7);
  const uint32_t once = crc32_update(0, long_text.data(), long_text.size());
  const uint32_t chained =
      crc32_update(crc32_update(0, long_text.data(), 13), long_text.data() + 13, 987);
  EXPECT_EQ(once, chained);
}

TEST_F(CkptTest, RoundTripIsExact) {
  const CheckpointContent c = sample_content();
  write_checkpoint_file(path("a.h5"), c);
  const CheckpointContent back = read_checkpoint_file(path("a.h5"));
  expect_same(c, back);
  EXPECT_EQ(checkpoint_file_problem(path("a.h5")), "");
  // The same content gives the same bytes (reproducible files), also a second later: no
  // modification times are stored.
  std::this_thread::sleep_for(std::chrono::milliseconds(1100));
  write_checkpoint_file(path("b.h5"), c);
  EXPECT_EQ(read_bytes(path("a.h5")), read_bytes(path("b.h5")));
}

TEST_F(CkptTest, GroupFilterLoadsOnlyRequestedGroups) {
  write_checkpoint_file(path("a.h5"), sample_content());
  CheckpointReadOptions o;
  o.groups = {"carry"};
  const CheckpointContent back = read_checkpoint_file(path("a.h5"), o);
  ASSERT_EQ(back.tensors.size(), 1u);
  EXPECT_TRUE(back.has_group("carry/rank1"));
  EXPECT_EQ(back.int_value("epoch"), -42);  // scalars always come along
  EXPECT_EQ(back.text("config"), sample_content().text("config"));
  EXPECT_THROW(back.group("model", "x.h5"), Error);
}

TEST_F(CkptTest, FlippedByteIsDetected) {
  write_checkpoint_file(path("a.h5"), pattern_content(3.25f));
  corrupt_pattern(path("a.h5"), float_pattern(3.25f, 8));
  const std::string problem = checkpoint_file_problem(path("a.h5"));
  EXPECT_NE(problem.find("damaged"), std::string::npos) << problem;
  try {
    read_checkpoint_file(path("a.h5"));
    FAIL() << "a damaged file was read";
  } catch (const Error& e) {
    EXPECT_NE(e.message().find(path("a.h5")), std::string::npos);
    EXPECT_FALSE(e.hint().empty());
  }
}

TEST_F(CkptTest, TruncatedAndForeignFilesAreDetected) {
  write_checkpoint_file(path("a.h5"), sample_content());
  std::vector<char> bytes = read_bytes(path("a.h5"));
  bytes.resize(bytes.size() / 2);
  write_bytes(path("a.h5"), bytes);
  EXPECT_NE(checkpoint_file_problem(path("a.h5")), "");
  write_bytes(path("junk.h5"), std::vector<char>(100, 'j'));
  EXPECT_NE(checkpoint_file_problem(path("junk.h5")), "");
  EXPECT_NE(checkpoint_file_problem(path("missing.h5")), "");
}

// Found in review while writing tests/fuzz/fuzz_ckpt_struct (which generates both cases): a
// list-valued root attribute was read past its one-value buffer, and a tensor declared huge
// with no storage (a tiny, valid HDF5 file) was allocated in full before the read could fail.
// Both are now "damaged" with a trm::Error.
std::string read_error(const std::string& p) {
  try {
    read_checkpoint_file(p);
  } catch (const Error& e) {
    return e.message();
  }
  return "";
}

TEST_F(CkptTest, ForgedAttributesAndShapesAreDamaged) {
  write_checkpoint_file(path("list.h5"), sample_content());
  {
    const hid_t f = H5Fopen(path("list.h5").c_str(), H5F_ACC_RDWR, H5P_DEFAULT);
    ASSERT_GE(f, 0);
    ASSERT_GE(H5Adelete(f, "format_version"), 0);
    const hsize_t n = 64;
    const std::vector<int64_t> values(n, kCheckpointFormatVersion);
    const hid_t space = H5Screate_simple(1, &n, nullptr);
    const hid_t a = H5Acreate2(f, "format_version", H5T_STD_I64LE, space, H5P_DEFAULT, H5P_DEFAULT);
    ASSERT_GE(H5Awrite(a, H5T_NATIVE_INT64, values.data()), 0);
    H5Aclose(a);
    H5Sclose(space);
    H5Fclose(f);
  }
  EXPECT_NE(read_error(path("list.h5")).find("has no format_version attribute"), std::string::npos);
  EXPECT_NE(checkpoint_file_problem(path("list.h5")), "");

  write_checkpoint_file(path("huge.h5"), sample_content());
  {
    const hid_t f = H5Fopen(path("huge.h5").c_str(), H5F_ACC_RDWR, H5P_DEFAULT);
    ASSERT_GE(f, 0);
    const hsize_t dims[2] = {hsize_t{1} << 20, hsize_t{1} << 20};  // 4 TiB of float32
    const hid_t space = H5Screate_simple(2, dims, nullptr);
    const hid_t d = H5Dcreate2(f, "model/forged", H5T_IEEE_F32LE, space, H5P_DEFAULT, H5P_DEFAULT, H5P_DEFAULT);
    ASSERT_GE(d, 0);
    H5Dclose(d);
    H5Sclose(space);
    H5Fclose(f);
  }
  const std::string err = read_error(path("huge.h5"));
  EXPECT_NE(err.find("huge.h5:/model/forged claims shape [1048576, 1048576] but occupies 0 bytes"),
            std::string::npos)
      << err;
  EXPECT_NE(checkpoint_file_problem(path("huge.h5")), "");
}

TEST_F(CkptTest, FailedWriteLeavesNothingBehind) {
  CheckpointContent c = sample_content();
  // Complex numbers are not storable: the write fails after the file was created.
  c.tensors["zz"]["bad"] = torch::zeros({2}, torch::kComplexFloat);
  EXPECT_THROW(write_checkpoint_file(path("a.h5"), c), Error);
  EXPECT_TRUE(files().empty());
  // An existing checkpoint under the same name is untouched by a failed overwrite.
  write_checkpoint_file(path("a.h5"), sample_content());
  const auto before = read_bytes(path("a.h5"));
  EXPECT_THROW(write_checkpoint_file(path("a.h5"), c), Error);
  EXPECT_EQ(read_bytes(path("a.h5")), before);
  EXPECT_EQ(files(), std::vector<std::string>{"a.h5"});
  EXPECT_THROW(write_checkpoint_file(path("no/such/dir/a.h5"), sample_content()), Error);
}

TEST_F(CkptTest, StoreKeepsLastKAndBest) {
  CheckpointStore store({dir_.string(), 2, true});
  const std::vector<double> metric = {0.1, 0.9, 0.3, 0.5, 0.2};
  for (int step = 1; step <= 5; ++step)
    store.save(pattern_content(float(step)), step * 10, metric[step - 1]);
  EXPECT_EQ(files(), (std::vector<std::string>{"best.h5", checkpoint_file_name(40),
                                               checkpoint_file_name(50)}));
  const CheckpointContent best = read_checkpoint_file(store.best_path());
  EXPECT_EQ(best.int_value("step"), 20);
  EXPECT_DOUBLE_EQ(best.float_value("eval_metric"), 0.9);
  // A new store on the same folder (a restarted job) knows the best so far from best.h5.
  CheckpointStore again({dir_.string(), 2, true});
  again.save(pattern_content(6.f), 60, 0.8);
  EXPECT_EQ(read_checkpoint_file(again.best_path()).int_value("step"), 20);
  again.save(pattern_content(7.f), 70, 0.95);
  EXPECT_EQ(read_checkpoint_file(again.best_path()).int_value("step"), 70);
  // Saves without a metric never move best.h5.
  again.save(pattern_content(8.f), 80);
  EXPECT_EQ(read_checkpoint_file(again.best_path()).int_value("step"), 70);
  EXPECT_EQ(list_checkpoints(dir_.string()).front().step, 80);
}

TEST_F(CkptTest, LatestValidSkipsDamagedAndPartialFiles) {
  CheckpointStore store({dir_.string(), 5, true});
  store.save(pattern_content(1.5f), 100);
  store.save(pattern_content(2.5f), 200);
  store.save(pattern_content(3.5f), 300);
  corrupt_pattern(path(checkpoint_file_name(300)), float_pattern(3.5f, 8));
  // A writer killed half-way leaves only its hidden temporary file, which is never a candidate.
  write_bytes(path("." + checkpoint_file_name(400) + ".tmp-99999"), std::vector<char>(50, 'x'));
  std::ostringstream warnings;
  const auto latest = find_latest_valid_checkpoint(dir_.string(), warnings);
  ASSERT_TRUE(latest.has_value());
  EXPECT_EQ(*latest, path(checkpoint_file_name(200)));
  EXPECT_NE(warnings.str().find(checkpoint_file_name(300)), std::string::npos) << warnings.str();

  std::ostringstream log;
  EXPECT_EQ(resolve_resume_path("auto", dir_.string(), log), latest);
  EXPECT_EQ(resolve_resume_path("", dir_.string(), log), std::nullopt);
  EXPECT_EQ(resolve_resume_path(dir_.string(), "", log), latest);
  EXPECT_THROW(resolve_resume_path(path(checkpoint_file_name(300)), "", log), Error);
  EXPECT_EQ(resolve_resume_path("auto", path("empty_dir"), log), std::nullopt);
  EXPECT_NE(log.str().find("starting fresh"), std::string::npos);
  // The next save removes the stale temporary file.
  store.save(pattern_content(5.5f), 500);
  for (const auto& f : files()) EXPECT_EQ(f.find(".tmp-"), std::string::npos) << f;
}

TEST(CkptResumePolicy, RefusesModelChangesAndReportsTheRest) {
  const std::string saved =
      "lr = 0.0001\nepochs = 10\nrun_name = \"a\"\n[arch]\nhidden_size = 64\nL_cycles = 4\n";
  const std::string schedule_only =
      "lr = 0.0002\nepochs = 20\nrun_name = \"a\"\n[arch]\nhidden_size = 64\nL_cycles = 4\n";
  const auto allowed = check_resume_config(saved, schedule_only, "ck.h5");
  ASSERT_EQ(allowed.size(), 2u);
  EXPECT_EQ(allowed[0].key, "epochs");
  EXPECT_EQ(allowed[1].key, "lr");
  EXPECT_NE(describe_changes(allowed).find("lr changed 0.0001 -> 0.0002"), std::string::npos);
  EXPECT_TRUE(check_resume_config(saved, saved, "ck.h5").empty());

  const std::string new_shape =
      "lr = 0.0002\nepochs = 10\nrun_name = \"a\"\n[arch]\nhidden_size = 128\nL_cycles = 6\n";
  EXPECT_TRUE(is_resume_locked_key("global_batch_size"));
  EXPECT_FALSE(is_resume_locked_key("eval_interval"));
  try {
    check_resume_config(saved, new_shape, "ck.h5");
    FAIL() << "a model change was accepted";
  } catch (const Error& e) {
    EXPECT_NE(e.message().find("arch.hidden_size 64 -> 128"), std::string::npos) << e.message();
    EXPECT_NE(e.message().find("arch.L_cycles 4 -> 6"), std::string::npos) << e.message();
    EXPECT_EQ(e.message().find("lr"), std::string::npos) << e.message();
    EXPECT_NE(e.hint().find("--init-from"), std::string::npos);
  }
}

TEST(CkptResumePolicy, RefusesAnotherDataShape) {
  CheckpointContent c;
  add_data_shape_to_checkpoint(c, DataShape{81, 11, 1});
  EXPECT_NO_THROW(check_resume_data_shape(c, DataShape{81, 11, 1}, "ck.h5"));
  try {
    check_resume_data_shape(c, DataShape{900, 11, 1}, "ck.h5");
    FAIL();
  } catch (const Error& e) {
    EXPECT_NE(e.message().find("seq_len 81 -> 900"), std::string::npos) << e.message();
  }
}

namespace {

// A stand-in with the model's naming: inner.{lm_head.weight, H_init, puzzle_emb.weights}.
struct EmbImpl : torch::nn::Module {
  explicit EmbImpl(int64_t rows) { weights = register_buffer("weights", torch::randn({rows, 4})); }
  torch::Tensor weights;
};
TORCH_MODULE(Emb);
struct InnerImpl : torch::nn::Module {
  explicit InnerImpl(int64_t rows) {
    lm_head = register_module("lm_head", torch::nn::Linear(torch::nn::LinearOptions(4, 3).bias(false)));
    puzzle_emb = register_module("puzzle_emb", Emb(rows));
    H_init = register_buffer("H_init", torch::randn({4}));
  }
  torch::nn::Linear lm_head{nullptr};
  Emb puzzle_emb{nullptr};
  torch::Tensor H_init;
};
TORCH_MODULE(Inner);
struct TinyImpl : torch::nn::Module {
  explicit TinyImpl(int64_t rows) { inner = register_module("inner", Inner(rows)); }
  Inner inner{nullptr};
};
TORCH_MODULE(Tiny);

}  // namespace

TEST_F(CkptTest, ModelStateRoundTripAndEmaPreference) {
  Tiny a(6), b(6);
  CheckpointContent c;
  add_model_to_checkpoint(c, *a);
  EXPECT_TRUE(c.tensors.at("puzzle_emb").count(kPuzzleEmbTableName));
  EXPECT_TRUE(c.tensors.at("model").count("inner.lm_head.weight"));
  EXPECT_FALSE(c.tensors.at("model").count(kPuzzleEmbTableName));
  const torch::Tensor ema_w = torch::full({3, 4}, 0.5f);
  c.tensors["ema"]["inner.lm_head.weight"] = ema_w;
  write_checkpoint_file(path("m.h5"), c);

  const CheckpointContent back = read_checkpoint_file(path("m.h5"));
  load_model_from_checkpoint(*b, back, "m.h5");  // resume: raw weights
  EXPECT_TRUE(torch::equal(b->inner->lm_head->weight, a->inner->lm_head->weight));
  EXPECT_TRUE(torch::equal(b->inner->puzzle_emb->weights, a->inner->puzzle_emb->weights));
  EXPECT_TRUE(torch::equal(b->inner->H_init, a->inner->H_init));

  Tiny d(6);
  std::ostringstream log;
  init_model_from_checkpoint(*d, path("m.h5"), true, log);  // evaluation / init-from: EMA
  EXPECT_TRUE(torch::equal(d->inner->lm_head->weight, ema_w));
  EXPECT_TRUE(torch::equal(d->inner->puzzle_emb->weights, a->inner->puzzle_emb->weights));
}

TEST_F(CkptTest, InitFromResizesPuzzleTableByMean) {
  Tiny a(6);
  CheckpointContent c;
  add_model_to_checkpoint(c, *a);
  write_checkpoint_file(path("m.h5"), c);
  Tiny bigger(9);
  std::ostringstream log;
  init_model_from_checkpoint(*bigger, path("m.h5"), true, log);
  const torch::Tensor mean = a->inner->puzzle_emb->weights.mean(0, true).expand({9, 4});
  EXPECT_TRUE(torch::allclose(bigger->inner->puzzle_emb->weights, mean));
  EXPECT_TRUE(torch::equal(bigger->inner->lm_head->weight, a->inner->lm_head->weight));
  EXPECT_NE(log.str().find("mean"), std::string::npos);
}

TEST_F(CkptTest, LoadingAnotherArchitectureNamesTheTensors) {
  Tiny a(6);
  CheckpointContent c;
  add_model_to_checkpoint(c, *a);
  c.tensors["model"]["inner.lm_head.weight"] = torch::zeros({5, 4});
  c.tensors["model"]["inner.extra"] = torch::zeros({1});
  c.tensors["model"].erase("inner.H_init");
  Tiny b(6);
  try {
    load_model_from_checkpoint(*b, c, "other.h5");
    FAIL();
  } catch (const Error& e) {
    EXPECT_NE(e.message().find("missing inner.H_init"), std::string::npos) << e.message();
    EXPECT_NE(e.message().find("unexpected inner.extra"), std::string::npos) << e.message();
    EXPECT_NE(e.message().find("inner.lm_head.weight [5, 4] vs model [3, 4]"), std::string::npos)
        << e.message();
  }
}

TEST(CkptStopSignal, HandlerRecordsTheFirstSignal) {
  install_stop_signal_handlers();
  clear_stop_signal();
  EXPECT_EQ(pending_stop_signal(), 0);
  std::raise(SIGUSR1);
  std::raise(SIGTERM);  // the first one wins; the process is not terminated
  EXPECT_EQ(pending_stop_signal(), SIGUSR1);
  EXPECT_EQ(stop_exit_code(pending_stop_signal()), 138);
  clear_stop_signal();
  std::raise(SIGTERM);
  EXPECT_EQ(stop_exit_code(pending_stop_signal()), 143);
  clear_stop_signal();
}
