// Reference interop: tools/convert_reference_checkpoint.py builds small reference-style models,
// saves reference checkpoints (keys _orig_mod.model.inner.*), converts them to trm-dist files and
// back (exact), and records its evaluation predictions. Here the converted files are loaded with
// init_model_from_checkpoint into TinyRecursiveModel, whose evaluation must predict the same
// tokens; a file written by C++ must convert back to the original reference state dict.
#include <gtest/gtest.h>

#include <unistd.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <sstream>
#include <string>

#include "trm/ckpt/checkpoint_file.hpp"
#include "trm/ckpt/model_state.hpp"
#include "trm/model/tiny_recursive_model.hpp"

namespace fs = std::filesystem;
using namespace trm;

namespace {

const std::string kPython = "/usr/bin/python3";
const std::string kScript = std::string(TRM_SOURCE_DIR) + "/tools/convert_reference_checkpoint.py";

bool python_available() {
  return std::system((kPython + " -c 'import torch, h5py' >/dev/null 2>&1").c_str()) == 0;
}

struct Variant {
  std::string name;
  ArchConfig arch;
  DataShape shape;
};

// The two configurations of tools/golden/gen_model_golden.py (VARIANTS).
std::vector<Variant> variants() {
  ArchConfig a;
  a.hidden_size = 8;
  a.num_heads = 2;
  a.expansion = 4.0;
  a.L_layers = 2;
  a.H_cycles = 2;
  a.L_cycles = 2;
  a.puzzle_emb_ndim = 8;
  a.puzzle_emb_len = 2;
  a.pos_encodings = PosEncoding::kRope;
  a.mlp_t = false;
  a.halt_max_steps = 3;
  a.no_ACT_continue = true;
  a.loss_type = LossType::kStablemaxCrossEntropy;
  ArchConfig b = a;
  b.puzzle_emb_ndim = 16;
  b.puzzle_emb_len = 0;
  b.pos_encodings = PosEncoding::kLearned;
  b.mlp_t = true;
  b.no_ACT_continue = false;
  b.loss_type = LossType::kSoftmaxCrossEntropy;
  const DataShape shape{9, 6, 5};
  return {{"attn_rope", a, shape}, {"mlpt_learned", b, shape}};
}

class CkptInterop : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    dir_ = (fs::temp_directory_path() / ("trm_ckpt_interop_" + std::to_string(::getpid()))).string();
    fs::remove_all(dir_);
    if (!python_available()) return;
    const std::string cmd = kPython + " " + kScript + " selftest " + dir_ + " > " + dir_ + ".log 2>&1";
    selftest_rc_ = std::system(cmd.c_str());
  }
  static void TearDownTestSuite() {
    fs::remove_all(dir_);
    fs::remove(dir_ + ".log");
  }
  void SetUp() override {
    if (!python_available()) GTEST_SKIP() << "needs /usr/bin/python3 with torch and h5py";
    ASSERT_EQ(selftest_rc_, 0) << "the Python selftest failed; see " << dir_ << ".log";
  }
  static std::string dir_;
  static int selftest_rc_;
};
std::string CkptInterop::dir_;
int CkptInterop::selftest_rc_ = -1;

}  // namespace

TEST_F(CkptInterop, ConvertedReferenceCheckpointPredictsLikePython) {
  torch::set_num_threads(1);
  const CheckpointContent expected = read_checkpoint_file(dir_ + "/interop_expected.h5");
  for (const Variant& v : variants()) {
    SCOPED_TRACE(v.name);
    TinyRecursiveModel model(v.arch, v.shape);
    std::ostringstream log;
    init_model_from_checkpoint(*model, dir_ + "/" + v.name + ".h5", true, log);
    model->eval();

    const TensorMap& e = expected.group(v.name);
    ModelBatch batch{e.at("inputs"), e.at("labels"), e.at("puzzle_identifiers")};
    torch::NoGradGuard no_grad;
    ActCarry carry = model->initial_carry(batch);
    ModelOutputs out;
    for (int64_t step = 0; step < v.arch.halt_max_steps; ++step) {
      ActStep s = model->forward(carry, batch);
      carry = s.carry;
      out = s.outputs;
    }
    EXPECT_TRUE(carry.halted.all().item<bool>());
    const torch::Tensor preds = out.logits.argmax(-1).to(torch::kInt32);
    EXPECT_TRUE(torch::equal(preds, e.at("preds")))
        << "C++ " << preds << "\nPython " << e.at("preds");
    // The recursion amplifies float rounding (summation order differs between LibTorch builds)
    // about tenfold per supervision step, hence 1e-3 after halt_max_steps = 3 steps.
    EXPECT_TRUE(torch::allclose(out.logits.to(torch::kFloat32), e.at("logits"), 1e-3, 1e-3))
        << "max |diff| " << (out.logits.to(torch::kFloat32) - e.at("logits")).abs().max();
    EXPECT_TRUE(torch::allclose(out.q_halt_logits, e.at("q_halt_logits"), 1e-3, 1e-3));
  }
}

TEST_F(CkptInterop, CheckpointWrittenByCppConvertsBackToTheReference) {
  const Variant v = variants()[0];
  TinyRecursiveModel model(v.arch, v.shape);
  std::ostringstream log;
  init_model_from_checkpoint(*model, dir_ + "/" + v.name + ".h5", true, log);
  CheckpointContent c;
  add_model_to_checkpoint(c, *model);
  c.texts["config"] = "[arch]\nhidden_size = 8\n";
  const std::string cpp_file = dir_ + "/from_cpp.h5";
  write_checkpoint_file(cpp_file, c);

  // One Python run: check the C++ CRC, convert back, compare with the original reference file.
  const std::string back = dir_ + "/from_cpp.pt";
  const std::string script =
      "import sys, torch; sys.path.insert(0, '" + std::string(TRM_SOURCE_DIR) + "/tools'); "
      "import convert_reference_checkpoint as c; "
      "c.read_trm_checkpoint('" + cpp_file + "', verify=True); "
      "c.to_reference('" + cpp_file + "', '" + back + "'); "
      "a = torch.load('" + dir_ + "/" + v.name + "_reference.pt'); b = torch.load('" + back + "'); "
      "assert a.keys() == b.keys(), (sorted(a), sorted(b)); "
      "assert all(a[k].dtype == b[k].dtype and torch.equal(a[k], b[k]) for k in a)";
  EXPECT_EQ(std::system((kPython + " -c \"" + script + "\"").c_str()), 0);
}

TEST_F(CkptInterop, PythonVerifyRejectsADamagedFile) {
  const std::string damaged = dir_ + "/damaged.h5";
  fs::copy_file(dir_ + "/attn_rope.h5", damaged, fs::copy_options::overwrite_existing);
  // Flip one byte inside the bytes of a known tensor.
  const torch::Tensor w = read_checkpoint_file(damaged).tensor("model", "inner.lm_head.weight");
  const char* raw = static_cast<const char*>(w.data_ptr());
  const std::string needle(raw, raw + 16);
  std::string bytes;
  {
    std::ifstream in(damaged, std::ios::binary);
    bytes.assign(std::istreambuf_iterator<char>(in), {});
  }
  const size_t at = bytes.find(needle);
  ASSERT_NE(at, std::string::npos);
  bytes[at + 5] ^= 0x21;
  std::ofstream(damaged, std::ios::binary | std::ios::trunc) << bytes;
  EXPECT_NE(std::system((kPython + " " + kScript + " verify " + damaged + " >/dev/null").c_str()), 0);
  EXPECT_NE(checkpoint_file_problem(damaged), "");
}

// End to end with the real programs: a reference-style checkpoint for a generated 4x4 Sudoku,
// converted (to-trm), evaluated by trm-eval --save-outputs, and the saved predictions compared
// with the Python model's on the same inputs.
TEST_F(CkptInterop, TrmEvalPredictsLikePythonOnAGeneratedDataset) {
  const std::string bin = std::string(TRM_BINARY_DIR) + "/bin";
  if (!fs::exists(bin + "/trm-eval") || !fs::exists(bin + "/trm-convert"))
    GTEST_SKIP() << "build trm-eval and trm-convert first";
  const std::string d = dir_ + "/e2e";
  fs::create_directories(d);
  ASSERT_EQ(std::system((bin + "/trm-convert sudoku --generate 16 --size 4 --blanks 6 --test 24 "
                         "--seed 2 --quiet --output " + d + "/data > " + d + "/convert.log 2>&1")
                            .c_str()),
            0);
  std::ofstream(d + "/run.toml")
      << "data_paths = [\"" << d << "/data\"]\nglobal_batch_size = 8\neval_batch_size = 16\n"
      << "device = \"cpu\"\nthreads = 1\n[arch]\nhidden_size = 16\nnum_heads = 2\nexpansion = 2.0\n"
      << "H_cycles = 2\nL_cycles = 2\nL_layers = 2\npos_encodings = \"rope\"\nmlp_t = false\n"
      << "puzzle_emb_ndim = 16\npuzzle_emb_len = 1\nhalt_max_steps = 3\nforward_dtype = \"float32\"\n";
  ASSERT_EQ(std::system((kPython + " " + kScript + " make-reference " + d + "/ref --config " + d +
                         "/run.toml --dataset " + d + "/data > " + d + "/make.log 2>&1")
                            .c_str()),
            0);
  ASSERT_EQ(std::system(("OMP_NUM_THREADS=1 " + bin + "/trm-eval --checkpoint " + d +
                         "/ref.h5 --save-outputs --output " + d + "/eval > " + d + "/eval.log 2>&1")
                            .c_str()),
            0);
  EXPECT_EQ(std::system((kPython + " " + kScript + " check-eval-outputs " + d + "/ref.h5 " + d +
                         "/eval/eval_outputs.h5")
                            .c_str()),
            0);
}
