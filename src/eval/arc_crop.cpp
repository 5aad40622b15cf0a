// Crop of a token canvas to its colour rectangle and the inverse encoding (see arc_crop.hpp).
// The scan keeps the reference's semantics: for each prefix of rows the column bound is the first
// non-colour column of the last row, bounded by the previous rows' bound; the kept rectangle is
// the first one of strictly largest area.
#include "trm/eval/arc_crop.hpp"

#include "trm/common/error.hpp"

namespace trm {
namespace {

template <typename Token>
Grid crop_impl(const Token* tokens) {
  auto is_colour = [](Token t) { return t >= 2 && t <= 11; };
  int best_area = 0;
  int best_rows = 0;
  int best_cols = 0;
  int num_cols = kArcMaxGridSize;
  for (int r = 1; r <= kArcMaxGridSize; ++r) {
    const Token* row = tokens + static_cast<size_t>(r - 1) * kArcMaxGridSize;
    for (int c = 1; c <= num_cols; ++c) {
      if (!is_colour(row[c - 1])) {
        num_cols = c - 1;
        break;
      }
    }
    const int area = r * num_cols;
    if (area > best_area) {
      best_area = area;
      best_rows = r;
      best_cols = num_cols;
    }
  }
  Grid grid;
  grid.rows = best_rows;
  grid.cols = best_cols;
  grid.cells.resize(static_cast<size_t>(best_rows) * best_cols);
  for (int r = 0; r < best_rows; ++r) {
    for (int c = 0; c < best_cols; ++c) {
      grid.cells[static_cast<size_t>(r) * best_cols + c] =
          static_cast<uint8_t>(tokens[static_cast<size_t>(r) * kArcMaxGridSize + c] -
                               kArcFirstColourToken);
    }
  }
  return grid;
}

}  // namespace

Grid crop_arc_tokens(const int64_t* tokens) { return crop_impl(tokens); }
Grid crop_arc_tokens(const int32_t* tokens) { return crop_impl(tokens); }

void encode_arc_canvas(const Grid& grid, int64_t* tokens) {
  TRM_CHECK(grid.rows >= 0 && grid.rows <= kArcMaxGridSize && grid.cols >= 0 &&
                grid.cols <= kArcMaxGridSize &&
                grid.cells.size() == static_cast<size_t>(grid.rows) * grid.cols,
            "grid " << grid.rows << "x" << grid.cols << " does not fit the "
                    << kArcMaxGridSize << "x" << kArcMaxGridSize << " canvas",
            "ARC grids are at most 30x30");
  for (int i = 0; i < kArcCanvasCells; ++i) tokens[i] = 0;
  for (int r = 0; r < grid.rows; ++r) {
    for (int c = 0; c < grid.cols; ++c) {
      const uint8_t colour = grid.at(r, c);
      TRM_CHECK(colour <= 9, "grid cell (" << r << ", " << c << ") has colour " << int(colour),
                "ARC colours are 0..9");
      tokens[r * kArcMaxGridSize + c] = colour + kArcFirstColourToken;
    }
  }
  if (grid.rows < kArcMaxGridSize) {
    for (int c = 0; c < grid.cols; ++c) tokens[grid.rows * kArcMaxGridSize + c] = 1;
  }
  if (grid.cols < kArcMaxGridSize) {
    for (int r = 0; r < grid.rows; ++r) tokens[r * kArcMaxGridSize + grid.cols] = 1;
  }
}

}  // namespace trm
