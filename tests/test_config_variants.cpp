// The ablation-variant keys of [arch] (docs/ABLATIONS.md): they parse, print and re-read, the
// incompatible combinations fail with the key and a hint, and the HRM, transformer and study
// configs load.
#include <gtest/gtest.h>

#include <string>
#include <vector>

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
lr = 1e-3
[arch]
hidden_size = 64
num_heads = 2
)";

TEST(ConfigVariants, DefaultsAreTrm) {
  const ArchConfig a = parse_train_config(kBase, "cfg.toml").arch;
  EXPECT_EQ(a.recursion, Recursion::kTrm);
  EXPECT_EQ(a.gradient, GradientMode::kFull);
  EXPECT_EQ(a.networks, Networks::kShared);
  EXPECT_EQ(a.latents, Latents::kYZ);
  EXPECT_FALSE(a.has_H_level());
}

TEST(ConfigVariants, KeysParseAndRoundTrip) {
  const TrainConfig c = parse_train_config(
      kBase, "cfg.toml",
      {"arch.gradient=one_step", "arch.networks=separate", "arch.H_layers=3"});
  EXPECT_EQ(c.arch.gradient, GradientMode::kOneStep);
  EXPECT_EQ(c.arch.networks, Networks::kSeparate);
  EXPECT_TRUE(c.arch.has_H_level());
  EXPECT_EQ(c.arch.resolved_H_layers(), 3);
  const TrainConfig back = parse_train_config(to_toml(c), "printed.toml");
  EXPECT_TRUE(back == c) << to_toml(c);
  EXPECT_NE(to_toml(c).find("networks = "), std::string::npos);
  EXPECT_NE(to_toml(c).find("separate"), std::string::npos);

  const ArchConfig z = parse_train_config(kBase, "cfg.toml", {"arch.latents=single_z"}).arch;
  EXPECT_EQ(z.latents, Latents::kSingleZ);
  const ArchConfig h = parse_train_config(
      kBase, "cfg.toml", {"arch.recursion=hrm", "arch.no_ACT_continue=false"}).arch;
  EXPECT_EQ(h.recursion, Recursion::kHrm);
  EXPECT_TRUE(h.has_H_level());
  EXPECT_EQ(h.resolved_H_layers(), h.L_layers);
  const ArchConfig d = parse_train_config(
      kBase, "cfg.toml", {"arch.recursion=direct", "arch.halt_max_steps=1"}).arch;
  EXPECT_EQ(d.recursion, Recursion::kDirect);
  EXPECT_FALSE(d.has_H_level());

  const TrainConfig m = parse_train_config(kBase, "cfg.toml", {"arch.latents=multi_z"});
  EXPECT_EQ(m.arch.latents, Latents::kMultiZ);
  EXPECT_TRUE(parse_train_config(to_toml(m), "printed.toml") == m) << to_toml(m);
  EXPECT_NE(to_toml(m).find("multi_z"), std::string::npos);
  // multi_z composes with the other TRM switches.
  EXPECT_NO_THROW(parse_train_config(
      kBase, "cfg.toml", {"arch.latents=multi_z", "arch.gradient=one_step", "arch.networks=separate"}));

  const TrainConfig t = parse_train_config(kBase, "cfg.toml", {"arch.recursion=transformer"});
  EXPECT_EQ(t.arch.recursion, Recursion::kTransformer);
  EXPECT_TRUE(t.arch.has_H_level());
  EXPECT_FALSE(t.arch.has_L_level());
  EXPECT_TRUE(t.arch.halts_on_q_continue());  // whatever no_ACT_continue says
  EXPECT_TRUE(parse_train_config(to_toml(t), "printed.toml") == t) << to_toml(t);
  EXPECT_NE(to_toml(t).find("transformer"), std::string::npos);
  // Either Q-continue setting is allowed: false adds the bootstrapped target and its loss.
  EXPECT_NO_THROW(parse_train_config(kBase, "cfg.toml",
                                     {"arch.recursion=transformer", "arch.no_ACT_continue=false"}));
  EXPECT_FALSE(parse_train_config(kBase, "cfg.toml").arch.halts_on_q_continue());
}

TEST(ConfigVariants, IncompatibleCombinationsFail) {
  EXPECT_NE(error_of(kBase, {"arch.recursion=hrmm"}).find("arch.recursion"), std::string::npos);
  const std::string e1 = error_of(kBase, {"arch.recursion=hrm"});
  EXPECT_NE(e1.find("no_ACT_continue"), std::string::npos) << e1;
  const std::string e2 =
      error_of(kBase,
               {"arch.recursion=hrm", "arch.no_ACT_continue=false", "arch.gradient=one_step"});
  EXPECT_NE(e2.find("modify recursion = \"trm\" only"), std::string::npos) << e2;
  const std::string e3 = error_of(kBase, {"arch.recursion=direct"});
  EXPECT_NE(e3.find("halt_max_steps = 1"), std::string::npos) << e3;
  const std::string e4 = error_of(kBase, {"arch.latents=single_z", "arch.networks=separate"});
  EXPECT_NE(e4.find("single_z"), std::string::npos) << e4;
  EXPECT_NE(error_of(kBase, {"arch.latents=many_z"}).find("arch.latents"), std::string::npos);

  // multi_z writes latent i at z update i, so at most 6 updates per cycle.
  EXPECT_EQ(error_of(kBase, {"arch.latents=multi_z", "arch.L_cycles=6"}), "");
  const std::string e5 = error_of(kBase, {"arch.latents=multi_z", "arch.L_cycles=7"});
  EXPECT_NE(e5.find("arch.latents = \"multi_z\" with arch.L_cycles = 7"), std::string::npos) << e5;
  EXPECT_NE(e5.find("L_cycles <= 6"), std::string::npos) << e5;
  // The transformer fixes its structure: the TRM switches are rejected by name.
  for (const char* key : {"arch.latents=multi_z", "arch.gradient=one_step", "arch.networks=separate"}) {
    const std::string e = error_of(kBase, {"arch.recursion=transformer", key});
    EXPECT_NE(e.find("modify recursion = \"trm\" only"), std::string::npos) << key << ": " << e;
    EXPECT_NE(e.find("\"transformer\""), std::string::npos) << key << ": " << e;
  }
  for (const char* key : {"arch.latents=multi_z", "arch.latents=single_z"}) {
    const std::string e =
        error_of(kBase, {"arch.recursion=hrm", "arch.no_ACT_continue=false", key});
    EXPECT_NE(e.find("arch.latents"), std::string::npos) << key << ": " << e;
  }

  // head_dim = hidden_size // num_heads as in the reference: 12 heads on 64 give 5 (odd, no
  // RoPE possible), more heads than hidden units give 0.
  EXPECT_EQ(error_of(kBase, {"arch.num_heads=8"}), "");
  const std::string e6 = error_of(kBase, {"arch.num_heads=12"});
  EXPECT_NE(e6.find("arch.num_heads = 12 gives the odd head_dim 5"), std::string::npos) << e6;
  EXPECT_EQ(error_of(kBase, {"arch.num_heads=12", "arch.pos_encodings=learned"}), "");
  const std::string e7 = error_of(kBase, {"arch.num_heads=65", "arch.pos_encodings=learned"});
  EXPECT_NE(e7.find("arch.num_heads = 65 exceeds arch.hidden_size = 64"), std::string::npos) << e7;
}

TEST(ConfigVariants, HrmTransformerAndStudyConfigsLoad) {
  for (const char* name : {"hrm_sudoku", "hrm_maze", "hrm_arc1", "transformer_arc1", "ablation_sudoku6"}) {
    const std::string path = std::string(TRM_SOURCE_DIR) + "/configs/" + name + ".toml";
    EXPECT_NO_THROW(load_train_config(path)) << path;
  }
  const TrainConfig hrm = load_train_config(std::string(TRM_SOURCE_DIR) + "/configs/hrm_sudoku.toml");
  EXPECT_EQ(hrm.arch.recursion, Recursion::kHrm);
  EXPECT_EQ(hrm.arch.H_layers, 4);
  EXPECT_EQ(hrm.arch.L_layers, 4);
  EXPECT_EQ(hrm.arch.H_cycles, 2);
  EXPECT_EQ(hrm.arch.L_cycles, 2);
  EXPECT_EQ(hrm.arch.hidden_size, 512);
  EXPECT_FALSE(hrm.arch.no_ACT_continue);

  // config/arch/transformers_baseline.yaml: 8 layers, hidden 512, 12 heads, 16 steps.
  const TrainConfig t =
      load_train_config(std::string(TRM_SOURCE_DIR) + "/configs/transformer_arc1.toml");
  EXPECT_EQ(t.arch.recursion, Recursion::kTransformer);
  EXPECT_EQ(t.arch.resolved_H_layers(), 8);
  EXPECT_EQ(t.arch.hidden_size, 512);
  EXPECT_EQ(t.arch.num_heads, 12);
  EXPECT_EQ(t.arch.halt_max_steps, 16);
  EXPECT_EQ(t.arch.puzzle_emb_len, 0);
  EXPECT_TRUE(t.arch.no_ACT_continue);
  EXPECT_EQ(t.arch.pos_encodings, PosEncoding::kRope);
  EXPECT_FALSE(t.arch.mlp_t);
}

}  // namespace
}  // namespace trm
