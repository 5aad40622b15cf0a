// Config loading: every validation error carries the file, the key and a useful message;
// overrides are applied like file contents; printing and re-reading gives the same config.
#include <gtest/gtest.h>

#include <fstream>
#include <string>

#include "trm/common/error.hpp"
#include "trm/config/config_loader.hpp"
#include "config_error.hpp"

namespace trm {
namespace {

const char* kBase = R"(
run_name = "t"
data_paths = ["datasets/x"]
global_batch_size = 64
epochs = 100
eval_interval = 20
lr = 1e-3
[arch]
hidden_size = 64
num_heads = 2
L_cycles = 4
mlp_t = true
pos_encodings = "none"
)";

TEST(ConfigLoader, ParsesValuesAndDefaults) {
  const TrainConfig c = parse_train_config(kBase, "cfg.toml");
  EXPECT_EQ(c.run_name, "t");
  ASSERT_EQ(c.data_paths.size(), 1u);
  EXPECT_EQ(c.data_paths[0], "datasets/x");
  EXPECT_EQ(c.global_batch_size, 64);
  EXPECT_DOUBLE_EQ(c.lr, 1e-3);
  EXPECT_DOUBLE_EQ(c.beta2, 0.95);  // default
  EXPECT_EQ(c.arch.hidden_size, 64);
  EXPECT_EQ(c.arch.L_cycles, 4);
  EXPECT_TRUE(c.arch.mlp_t);
  EXPECT_EQ(c.arch.pos_encodings, PosEncoding::kNone);
  EXPECT_EQ(c.arch.H_cycles, 3);  // default
  EXPECT_EQ(c.source_path, "cfg.toml");
}

TEST(ConfigLoader, OverridesUseDottedNamesAndTomlValues) {
  const TrainConfig c = parse_train_config(
      kBase, "cfg.toml",
      {"arch.L_cycles=6", "lr=3e-4", "run_name=bare_word", "ema=true", "arch.pos_encodings=rope",
       "data_paths=[\"a\",\"b\"]"});
  EXPECT_EQ(c.arch.L_cycles, 6);
  EXPECT_DOUBLE_EQ(c.lr, 3e-4);
  EXPECT_EQ(c.run_name, "bare_word");
  EXPECT_TRUE(c.ema == true);
  EXPECT_EQ(c.arch.pos_encodings, PosEncoding::kRope);
  EXPECT_EQ(c.data_paths.size(), 2u);
  // An integer is accepted where a float is expected; beta1 = 1 is then out of range.
  EXPECT_NE(error_of(kBase, {"beta1=1"}).find("'beta1'"), std::string::npos);
  EXPECT_NE(error_of(kBase, {"beta1=1"}).find("in [0, 1)"), std::string::npos);
}

// Found by tests/fuzz/fuzz_config_toml: a bare override word that is not UTF-8 was kept as raw
// bytes, and to_toml printed it as other text (byte 0xA3 as "\u00A3"), breaking the round trip.
TEST(ConfigLoader, BareOverrideWordMustBeUtf8) {
  const std::string e = error_of(kBase, {"run_name=fa\xa3nan"});
  EXPECT_NE(e.find("override 'run_name': the value is not valid UTF-8"), std::string::npos) << e;
  const TrainConfig c = parse_train_config(kBase, "cfg.toml", {"run_name=caf\xc3\xa9"});
  EXPECT_EQ(c.run_name, "caf\xc3\xa9");
  EXPECT_TRUE(parse_train_config(to_toml(c), "printed.toml") == c);
}

TEST(ConfigLoader, UnknownKeySuggestsTheClosest) {
  const std::string e1 = error_of(std::string(kBase) + "hiden_size = 3\n");
  EXPECT_NE(e1.find("cfg.toml: unknown key 'arch.hiden_size'"), std::string::npos) << e1;
  EXPECT_NE(e1.find("did you mean 'arch.hidden_size'?"), std::string::npos) << e1;

  const std::string e2 = error_of(kBase, {"learning_rate=1"});
  EXPECT_NE(e2.find("unknown key 'learning_rate'"), std::string::npos) << e2;

  const std::string e3 = error_of(kBase, {"L_cycles=4"});  // right name, wrong table
  EXPECT_NE(e3.find("did you mean 'arch.L_cycles'?"), std::string::npos) << e3;

  const std::string e4 = error_of(kBase, {"global_bach_size=8"});
  EXPECT_NE(e4.find("did you mean 'global_batch_size'?"), std::string::npos) << e4;
}

TEST(ConfigLoader, WrongTypesNameTheKey) {
  const std::string e1 = error_of(kBase, {"epochs=\"ten\""});
  EXPECT_NE(e1.find("cfg.toml: key 'epochs' must be an integer, got a string"), std::string::npos) << e1;
  const std::string e2 = error_of(kBase, {"arch.hidden_size=64.5"});
  EXPECT_NE(e2.find("key 'arch.hidden_size' must be an integer, got a float"), std::string::npos) << e2;
  const std::string e3 = error_of(kBase, {"ema=1"});
  EXPECT_NE(e3.find("key 'ema' must be a boolean"), std::string::npos) << e3;
  const std::string e4 = error_of(kBase, {"arch.pos_encodings=sinusoid"});
  EXPECT_NE(e4.find("'arch.pos_encodings' is \"sinusoid\", which is not one of rope, learned, none"),
            std::string::npos) << e4;
  const std::string e5 = error_of(kBase, {"data_paths=5"});
  EXPECT_NE(e5.find("'data_paths' must be an array of strings"), std::string::npos) << e5;
}

TEST(ConfigLoader, OutOfRangeAndCombinations) {
  EXPECT_NE(error_of(kBase, {"global_batch_size=0"}).find("key 'global_batch_size' = 0 is out of range"),
            std::string::npos);
  EXPECT_NE(error_of(kBase, {"lr_min_ratio=1.5"}).find("'lr_min_ratio' = 1.5 is out of range; it must be in [0, 1]"),
            std::string::npos);
  EXPECT_NE(error_of(kBase, {"arch.halt_exploration_prob=-0.1"}).find("'arch.halt_exploration_prob'"),
            std::string::npos);
  const std::string e1 = error_of(kBase, {"eval_interval=30"});
  EXPECT_NE(e1.find("'eval_interval' = 30 does not divide epochs = 100"), std::string::npos) << e1;
  const std::string e2 = error_of(kBase, {"arch.num_heads=3", "arch.mlp_t=false", "arch.pos_encodings=rope"});
  EXPECT_NE(e2.find("arch.hidden_size = 64 with arch.num_heads = 3 gives the odd head_dim 21"), std::string::npos)
      << e2;
  const std::string e3 = error_of(kBase, {"freeze_weights=true", "arch.puzzle_emb_ndim=0"});
  EXPECT_NE(e3.find("leaves nothing to train"), std::string::npos) << e3;
  const std::string e4 = error_of(kBase, {"data_paths=[]"});
  EXPECT_NE(e4.find("'data_paths' is empty"), std::string::npos) << e4;
  const std::string e5 = error_of("epochs = [1,\n");
  EXPECT_NE(e5.find("cfg.toml:"), std::string::npos) << e5;
  EXPECT_NE(e5.find("TOML syntax error"), std::string::npos) << e5;
  const std::string e6 = error_of(kBase, {"novalue"});
  EXPECT_NE(e6.find("not of the form key=value"), std::string::npos) << e6;
}

TEST(ConfigLoader, GlobalBatchMustDivideByWorldSize) {
  const TrainConfig c = parse_train_config(kBase, "cfg.toml", {"global_batch_size=66"});
  EXPECT_NO_THROW(validate_for_world(c, 2));
  try {
    validate_for_world(c, 4);
    FAIL() << "expected an error";
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find("global_batch_size = 66 is not divisible by the world size 4"),
              std::string::npos) << e.what();
  }
}

TEST(ConfigLoader, PrintingRoundTrips) {
  const TrainConfig c = parse_train_config(
      kBase, "cfg.toml", {"lr=3.3e-5", "ema_rate=0.9995", "arch.forward_dtype=bfloat16", "seed=42",
                          "arch.loss_type=softmax_cross_entropy", "device=cpu"});
  const std::string text = to_toml(c);
  EXPECT_NE(text.find("[arch]"), std::string::npos);
  const TrainConfig back = parse_train_config(text, "printed.toml");
  EXPECT_TRUE(back == c) << text;
  EXPECT_EQ(back.arch.forward_dtype, ForwardDtype::kBFloat16);
  EXPECT_EQ(back.seed, 42u);
  EXPECT_DOUBLE_EQ(back.lr, 3.3e-5);
  TrainConfig changed = back;
  changed.arch.L_cycles += 1;
  EXPECT_FALSE(changed == c);
}

TEST(ConfigLoader, ShippedConfigsLoad) {
  for (const char* name : {"arc1", "arc2", "sudoku_mlp", "sudoku_att", "maze", "demo_sudoku6"}) {
    const std::string path = std::string(TRM_SOURCE_DIR) + "/configs/" + name + ".toml";
    EXPECT_NO_THROW(load_train_config(path)) << path;
  }
  try {
    load_train_config("/nonexistent/x.toml");
    FAIL();
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find("cannot open config file '/nonexistent/x.toml'"), std::string::npos);
  }
}

}  // namespace
}  // namespace trm
