// ARC grids and their augmentations: the 8 dihedral transforms, colour permutations that keep
// colour 0, and the puzzle-name encoding "<id>|||t<k>|||<mapping>" the reference writes, so that
// evaluation can undo an augmentation from the name alone. Grids are row-major, colours 0..9.
#pragma once

#include <array>
#include <cstdint>
#include <string>
#include <vector>

namespace trm {

constexpr int kArcMaxGridSize = 30;
constexpr int kNumDihedral = 8;
// kDihedralInverse[t] undoes transform t (rot90 <-> rot270; the others are involutions).
constexpr std::array<int, kNumDihedral> kDihedralInverse = {0, 3, 2, 1, 4, 5, 6, 7};
constexpr const char* kPuzzleIdSeparator = "|||";

struct Grid {
  int rows = 0;
  int cols = 0;
  std::vector<uint8_t> cells;  // [rows * cols], row-major

  uint8_t at(int r, int c) const { return cells[static_cast<size_t>(r) * cols + c]; }
  bool operator==(const Grid& o) const {
    return rows == o.rows && cols == o.cols && cells == o.cells;
  }
  bool operator!=(const Grid& o) const { return !(*this == o); }
};

// Transform ids as numpy writes them: 0 identity, 1 rot90 (counter-clockwise), 2 rot180,
// 3 rot270, 4 flip left-right, 5 flip up-down, 6 transpose, 7 anti-transpose.
Grid dihedral_transform(const Grid& grid, int trans_id);
Grid inverse_dihedral_transform(const Grid& grid, int trans_id);

// mapping[old_colour] = new_colour; mapping[0] == 0 always.
using ColourMap = std::array<uint8_t, 10>;

struct ArcAugmentation {
  int trans_id = 0;
  ColourMap mapping = {0, 1, 2, 3, 4, 5, 6, 7, 8, 9};

  bool is_identity() const;
};

// Augmented grid: dihedral_transform(mapping[grid], trans_id), as the reference's aug().
Grid apply_augmentation(const Grid& grid, const ArcAugmentation& aug);
// Inverse: inverse colour map of the inverse dihedral transform.
Grid invert_augmentation(const Grid& grid, const ArcAugmentation& aug);

// "<base>|||t<trans_id>|||<mapping digits>" e.g. "007bbfb7|||t3|||0518362947".
std::string augmented_puzzle_name(const std::string& base, const ArcAugmentation& aug);

struct ParsedPuzzleName {
  std::string base;      // original puzzle id
  bool augmented = false;
  ArcAugmentation aug;   // identity when !augmented
};
// Throws trm::Error naming the string when the augmentation part is malformed.
ParsedPuzzleName parse_puzzle_name(const std::string& name);

// 64-bit FNV-1a over (rows, cols, cells): equal grids hash equal; used as a vote key.
uint64_t grid_hash(const Grid& grid);

}  // namespace trm
