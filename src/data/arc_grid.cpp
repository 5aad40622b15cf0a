// Dihedral transforms, colour maps and puzzle-name parsing for ARC grids (see arc_grid.hpp).
// Each transform is written as "output cell (i, j) reads input cell (si, sj)", which keeps the
// shape change (rows <-> cols for ids 1, 3, 6, 7) in one place.
#include "trm/data/arc_grid.hpp"

#include "trm/common/error.hpp"

namespace trm {
namespace {

bool swaps_axes(int trans_id) {
  return trans_id == 1 || trans_id == 3 || trans_id == 6 || trans_id == 7;
}

}  // namespace

Grid dihedral_transform(const Grid& grid, int trans_id) {
  TRM_CHECK(trans_id >= 0 && trans_id < kNumDihedral,
            "dihedral transform id " << trans_id << " is out of range",
            "transform ids are 0..7");
  const int h = grid.rows;
  const int w = grid.cols;
  Grid out;
  out.rows = swaps_axes(trans_id) ? w : h;
  out.cols = swaps_axes(trans_id) ? h : w;
  out.cells.resize(grid.cells.size());
  for (int i = 0; i < out.rows; ++i) {
    for (int j = 0; j < out.cols; ++j) {
      int si = i;
      int sj = j;
      switch (trans_id) {
        case 0: break;
        case 1: si = j; sj = w - 1 - i; break;          // np.rot90(k=1)
        case 2: si = h - 1 - i; sj = w - 1 - j; break;  // np.rot90(k=2)
        case 3: si = h - 1 - j; sj = i; break;          // np.rot90(k=3)
        case 4: sj = w - 1 - j; break;                  // np.fliplr
        case 5: si = h - 1 - i; break;                  // np.flipud
        case 6: si = j; sj = i; break;                  // transpose
        case 7: si = h - 1 - j; sj = w - 1 - i; break;  // fliplr(rot90(k=1))
      }
      out.cells[static_cast<size_t>(i) * out.cols + j] = grid.at(si, sj);
    }
  }
  return out;
}

Grid inverse_dihedral_transform(const Grid& grid, int trans_id) {
  TRM_CHECK(trans_id >= 0 && trans_id < kNumDihedral,
            "dihedral transform id " << trans_id << " is out of range",
            "transform ids are 0..7");
  return dihedral_transform(grid, kDihedralInverse[trans_id]);
}

bool ArcAugmentation::is_identity() const {
  if (trans_id != 0) return false;
  for (int c = 0; c < 10; ++c) {
    if (mapping[c] != c) return false;
  }
  return true;
}

Grid apply_augmentation(const Grid& grid, const ArcAugmentation& aug) {
  Grid mapped = grid;
  for (auto& cell : mapped.cells) cell = aug.mapping[cell];
  return dihedral_transform(mapped, aug.trans_id);
}

Grid invert_augmentation(const Grid& grid, const ArcAugmentation& aug) {
  ColourMap inverse{};
  for (int c = 0; c < 10; ++c) inverse[aug.mapping[c]] = static_cast<uint8_t>(c);
  Grid out = inverse_dihedral_transform(grid, aug.trans_id);
  for (auto& cell : out.cells) {
    // Predictions may contain colours that are not in 0..9 only if the caller failed to crop.
    TRM_CHECK(cell < 10, "grid cell value " << int(cell) << " is not an ARC colour",
              "crop predictions to colour tokens before inverting the augmentation");
    cell = inverse[cell];
  }
  return out;
}

std::string augmented_puzzle_name(const std::string& base, const ArcAugmentation& aug) {
  std::string name = base + kPuzzleIdSeparator + "t" + std::to_string(aug.trans_id) +
                     kPuzzleIdSeparator;
  for (uint8_t c : aug.mapping) name += static_cast<char>('0' + c);
  return name;
}

ParsedPuzzleName parse_puzzle_name(const std::string& name) {
  ParsedPuzzleName parsed;
  const std::string sep = kPuzzleIdSeparator;
  const size_t first = name.find(sep);
  if (first == std::string::npos) {
    parsed.base = name;
    return parsed;
  }
  const size_t second = name.find(sep, first + sep.size());
  const char* hint = "augmented names look like <id>|||t<0-7>|||<10 digits, a permutation "
                     "starting with 0>; rebuild the dataset with trm-convert";
  TRM_CHECK(second != std::string::npos, "puzzle name '" << name << "' has one separator",
            hint);
  const std::string trans = name.substr(first + sep.size(), second - first - sep.size());
  const std::string perm = name.substr(second + sep.size());
  TRM_CHECK(trans.size() == 2 && trans[0] == 't' && trans[1] >= '0' && trans[1] <= '7',
            "puzzle name '" << name << "' has a bad transform '" << trans << "'", hint);
  TRM_CHECK(perm.size() == 10 && perm[0] == '0',
            "puzzle name '" << name << "' has a bad colour mapping '" << perm << "'", hint);
  std::array<bool, 10> seen{};
  for (int c = 0; c < 10; ++c) {
    const int v = perm[c] - '0';
    TRM_CHECK(v >= 0 && v <= 9 && !seen[v],
              "puzzle name '" << name << "' has a colour mapping that is not a permutation",
              hint);
    seen[v] = true;
    parsed.aug.mapping[c] = static_cast<uint8_t>(v);
  }
  parsed.base = name.substr(0, first);
  parsed.augmented = true;
  parsed.aug.trans_id = trans[1] - '0';
  return parsed;
}

uint64_t grid_hash(const Grid& grid) {
  uint64_t h = 1469598103934665603ull;
  auto mix = [&h](uint8_t byte) {
    h ^= byte;
    h *= 1099511628211ull;
  };
  mix(static_cast<uint8_t>(grid.rows));
  mix(static_cast<uint8_t>(grid.cols));
  for (uint8_t c : grid.cells) mix(c);
  return h;
}

}  // namespace trm
