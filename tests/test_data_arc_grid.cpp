// ARC grid augmentations: every dihedral transform matches its numpy definition on a
// non-square grid, inverts exactly, and names round-trip through parse_puzzle_name.
#include <gtest/gtest.h>

#include <algorithm>
#include <numeric>
#include <random>

#include "trm/common/error.hpp"
#include "trm/data/arc_grid.hpp"

namespace trm {
namespace {

Grid make_grid(int rows, int cols, std::vector<uint8_t> cells) {
  Grid g;
  g.rows = rows;
  g.cols = cols;
  g.cells = std::move(cells);
  return g;
}

// 2x3 grid  [[1 2 3]
//            [4 5 6]]
const Grid kSample = make_grid(2, 3, {1, 2, 3, 4, 5, 6});

TEST(ArcGrid, DihedralMatchesNumpy) {
  // Expected values written out from numpy's rot90/fliplr/flipud/transpose on kSample.
  EXPECT_EQ(dihedral_transform(kSample, 0), kSample);
  EXPECT_EQ(dihedral_transform(kSample, 1), make_grid(3, 2, {3, 6, 2, 5, 1, 4}));
  EXPECT_EQ(dihedral_transform(kSample, 2), make_grid(2, 3, {6, 5, 4, 3, 2, 1}));
  EXPECT_EQ(dihedral_transform(kSample, 3), make_grid(3, 2, {4, 1, 5, 2, 6, 3}));
  EXPECT_EQ(dihedral_transform(kSample, 4), make_grid(2, 3, {3, 2, 1, 6, 5, 4}));
  EXPECT_EQ(dihedral_transform(kSample, 5), make_grid(2, 3, {4, 5, 6, 1, 2, 3}));
  EXPECT_EQ(dihedral_transform(kSample, 6), make_grid(3, 2, {1, 4, 2, 5, 3, 6}));
  EXPECT_EQ(dihedral_transform(kSample, 7), make_grid(3, 2, {6, 3, 5, 2, 4, 1}));
}

TEST(ArcGrid, AugmentationRoundTripsForAllTransformsAndRandomMaps) {
  std::mt19937 rng(7);
  for (int t = 0; t < kNumDihedral; ++t) {
    for (int trial = 0; trial < 20; ++trial) {
      const int rows = 1 + rng() % 30;
      const int cols = 1 + rng() % 30;
      Grid g = make_grid(rows, cols, std::vector<uint8_t>(rows * cols));
      for (auto& c : g.cells) c = rng() % 10;
      ArcAugmentation aug;
      aug.trans_id = t;
      std::shuffle(aug.mapping.begin() + 1, aug.mapping.end(), rng);
      const Grid augmented = apply_augmentation(g, aug);
      EXPECT_EQ(invert_augmentation(augmented, aug), g) << "transform " << t;
      const ParsedPuzzleName parsed = parse_puzzle_name(augmented_puzzle_name("abc", aug));
      EXPECT_TRUE(parsed.augmented);
      EXPECT_EQ(parsed.base, "abc");
      EXPECT_EQ(parsed.aug.trans_id, t);
      EXPECT_EQ(parsed.aug.mapping, aug.mapping);
    }
  }
}

TEST(ArcGrid, NameFormatIsTheReferences) {
  ArcAugmentation aug;
  aug.trans_id = 3;
  aug.mapping = {0, 5, 1, 8, 3, 6, 2, 9, 4, 7};
  EXPECT_EQ(augmented_puzzle_name("007bbfb7", aug), "007bbfb7|||t3|||0518362947");
  const ParsedPuzzleName plain = parse_puzzle_name("007bbfb7");
  EXPECT_FALSE(plain.augmented);
  EXPECT_TRUE(plain.aug.is_identity());
}

TEST(ArcGrid, MalformedNamesAreRejectedWithTheName) {
  for (const std::string bad : {"x|||t9|||0123456789", "x|||t1|||0123", "x|||t1|||0113456789",
                                "x|||t1"}) {
    try {
      parse_puzzle_name(bad);
      ADD_FAILURE() << "accepted " << bad;
    } catch (const Error& e) {
      EXPECT_NE(std::string(e.what()).find(bad), std::string::npos) << e.what();
    }
  }
}

TEST(ArcGrid, HashSeparatesShapeAndContent) {
  EXPECT_EQ(grid_hash(kSample), grid_hash(make_grid(2, 3, {1, 2, 3, 4, 5, 6})));
  EXPECT_NE(grid_hash(kSample), grid_hash(make_grid(3, 2, {1, 2, 3, 4, 5, 6})));
  EXPECT_NE(grid_hash(kSample), grid_hash(make_grid(2, 3, {1, 2, 3, 4, 5, 7})));
}

}  // namespace
}  // namespace trm
