// Cropping 30x30 token canvases back to ARC grids: the canvas encoding round-trips for grids
// touching the canvas edges, 1x1 and full 30x30 grids, and ragged model outputs are cropped as
// the reference's _crop does (the column bound only shrinks; the first largest area wins).
#include <gtest/gtest.h>

#include <random>
#include <vector>

#include "trm/eval/arc_crop.hpp"

namespace trm {
namespace {

Grid random_grid(int rows, int cols, std::mt19937& rng) {
  std::uniform_int_distribution<int> colour(0, 9);
  Grid g;
  g.rows = rows;
  g.cols = cols;
  for (int i = 0; i < rows * cols; ++i) g.cells.push_back(static_cast<uint8_t>(colour(rng)));
  return g;
}

std::vector<int64_t> canvas_of(const Grid& g) {
  std::vector<int64_t> tokens(kArcCanvasCells);
  encode_arc_canvas(g, tokens.data());
  return tokens;
}

void set_token(std::vector<int64_t>& t, int r, int c, int64_t v) { t[r * kArcMaxGridSize + c] = v; }

TEST(ArcCrop, EncodingRoundTripsAtEveryShapeIncludingCanvasEdges) {
  std::mt19937 rng(11);
  const std::vector<std::pair<int, int>> shapes = {
      {1, 1}, {30, 30}, {30, 1}, {1, 30}, {30, 7}, {9, 30}, {29, 30}, {30, 29}, {3, 5}, {12, 4}};
  for (auto [rows, cols] : shapes) {
    const Grid g = random_grid(rows, cols, rng);
    const auto tokens = canvas_of(g);
    EXPECT_EQ(crop_arc_tokens(tokens.data()), g) << rows << "x" << cols;
    std::vector<int32_t> tokens32(tokens.begin(), tokens.end());
    EXPECT_EQ(crop_arc_tokens(tokens32.data()), g) << rows << "x" << cols << " (int32)";
  }
}

TEST(ArcCrop, CanvasEncodingPlacesEosBelowAndRightOnly) {
  Grid g;
  g.rows = 2;
  g.cols = 3;
  g.cells = {0, 1, 2, 3, 4, 9};
  const auto t = canvas_of(g);
  EXPECT_EQ(t[0], 2);
  EXPECT_EQ(t[1 * 30 + 2], 11);
  for (int c = 0; c < 3; ++c) EXPECT_EQ(t[2 * 30 + c], 1) << c;  // row below
  for (int r = 0; r < 2; ++r) EXPECT_EQ(t[r * 30 + 3], 1) << r;  // column right
  EXPECT_EQ(t[2 * 30 + 3], 0);                                    // corner stays PAD
  EXPECT_EQ(t[3 * 30 + 0], 0);
}

TEST(ArcCrop, OneByOneGridBoundedByEos) {
  std::vector<int64_t> t(kArcCanvasCells, 0);
  set_token(t, 0, 0, 7);  // colour 5
  set_token(t, 0, 1, 1);
  set_token(t, 1, 0, 1);
  const Grid g = crop_arc_tokens(t.data());
  EXPECT_EQ(g.rows, 1);
  EXPECT_EQ(g.cols, 1);
  EXPECT_EQ(g.cells, std::vector<uint8_t>{5});
}

TEST(ArcCrop, NoColourAtTopLeftGivesEmptyGrid) {
  std::vector<int64_t> t(kArcCanvasCells, 5);
  set_token(t, 0, 0, 1);  // EOS where the grid should start
  const Grid g = crop_arc_tokens(t.data());
  EXPECT_EQ(g.rows * g.cols, 0);
  EXPECT_TRUE(g.cells.empty());
}

TEST(ArcCrop, RaggedRowsShrinkTheColumnBound) {
  // Row widths 5, 3, 4, then a PAD row: areas 5, 6, 9 (bound stays 3), 0 -> 3x3.
  std::vector<int64_t> t(kArcCanvasCells, 0);
  for (int c = 0; c < 5; ++c) set_token(t, 0, c, 2 + c);
  for (int c = 0; c < 3; ++c) set_token(t, 1, c, 3);
  for (int c = 0; c < 4; ++c) set_token(t, 2, c, 4);
  const Grid g = crop_arc_tokens(t.data());
  EXPECT_EQ(g.rows, 3);
  EXPECT_EQ(g.cols, 3);
  EXPECT_EQ(g.cells, (std::vector<uint8_t>{0, 1, 2, 1, 1, 1, 2, 2, 2}));
}

TEST(ArcCrop, FirstLargestAreaWins) {
  // Row widths 10, then 1 for rows 1..9, then PAD: areas 10, 2, ..., 10 (a tie, not strictly
  // larger), 0 -> 1x10.
  std::vector<int64_t> t(kArcCanvasCells, 0);
  for (int c = 0; c < 10; ++c) set_token(t, 0, c, 2);
  for (int r = 1; r < 10; ++r) set_token(t, r, 0, 2);
  Grid g = crop_arc_tokens(t.data());
  EXPECT_EQ(g.rows, 1);
  EXPECT_EQ(g.cols, 10);
  // One more row of width 1 makes area 11 at 11 rows -> 11x1.
  set_token(t, 10, 0, 2);
  g = crop_arc_tokens(t.data());
  EXPECT_EQ(g.rows, 11);
  EXPECT_EQ(g.cols, 1);
}

TEST(ArcCrop, TokensAboveColourRangeEndTheRectangle) {
  std::vector<int64_t> t(kArcCanvasCells, 2);  // a full canvas of colour 0 ...
  set_token(t, 0, 4, 12);                      // ... with an out-of-vocabulary token in row 0
  const Grid g = crop_arc_tokens(t.data());
  EXPECT_EQ(g.rows, 30);
  EXPECT_EQ(g.cols, 4);
}

}  // namespace
}  // namespace trm
