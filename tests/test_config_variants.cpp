// The ablation-variant keys of [arch] (docs/ABLATIONS.md): they parse, print and re-read, the
// incompatible combinations fail with the key and a hint, and the HRM and study configs load.
#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "trm/common/error.hpp"
#include "trm/config/config_loader.hpp"

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

std::string error_of(const std::vector<std::string>& overrides) {
  try {
    parse_train_config(kBase, "cfg.toml", overrides);
  } catch (const Error& e) {
    return e.what();
  }
  return "";
}

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
}

TEST(ConfigVariants, IncompatibleCombinationsFail) {
  EXPECT_NE(error_of({"arch.recursion=hrmm"}).find("arch.recursion"), std::string::npos);
  const std::string e1 = error_of({"arch.recursion=hrm"});
  EXPECT_NE(e1.find("no_ACT_continue"), std::string::npos) << e1;
  const std::string e2 =
      error_of({"arch.recursion=hrm", "arch.no_ACT_continue=false", "arch.gradient=one_step"});
  EXPECT_NE(e2.find("modify recursion = \"trm\" only"), std::string::npos) << e2;
  const std::string e3 = error_of({"arch.recursion=direct"});
  EXPECT_NE(e3.find("halt_max_steps = 1"), std::string::npos) << e3;
  const std::string e4 = error_of({"arch.latents=single_z", "arch.networks=separate"});
  EXPECT_NE(e4.find("single_z"), std::string::npos) << e4;
  EXPECT_NE(error_of({"arch.latents=multi_z"}).find("arch.latents"), std::string::npos);
}

TEST(ConfigVariants, HrmAndStudyConfigsLoad) {
  for (const char* name : {"hrm_sudoku", "hrm_maze", "hrm_arc1", "ablation_sudoku6"}) {
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
}

}  // namespace
}  // namespace trm
