// Cropping a 30x30 ARC token canvas back to a grid, exactly as the reference's evaluator does:
// the largest top-left-anchored rectangle whose cells are all colour tokens (2..11), found row by
// row with a column bound that only shrinks. Tokens outside 2..11 (PAD 0, EOS 1, anything else a
// model might emit) end the rectangle. The result holds colours 0..9 and may be empty (0x0) when
// the top-left cell is not a colour.
#pragma once

#include <cstdint>

#include "trm/data/arc_grid.hpp"

namespace trm {

constexpr int kArcCanvasCells = kArcMaxGridSize * kArcMaxGridSize;  // 900 tokens per example
constexpr int kArcFirstColourToken = 2;                              // token = colour + 2

// `tokens` points at kArcCanvasCells row-major tokens.
Grid crop_arc_tokens(const int64_t* tokens);
Grid crop_arc_tokens(const int32_t* tokens);

// The canvas encoding of a grid without translation (top-left at (0, 0)), as the test split is
// built: colour + 2 inside, EOS on the row below and the column right of the grid (within the
// canvas), PAD elsewhere. crop_arc_tokens(encode_arc_canvas(g)) == g for every grid up to 30x30.
void encode_arc_canvas(const Grid& grid, int64_t* tokens);

}  // namespace trm
