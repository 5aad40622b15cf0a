// Puzzle grids as inline SVG for trm-report: ARC grids in the ARC colour palette with grid
// lines, Sudoku boards with box borders and digits, mazes as coloured cells. Cells that a
// prediction got wrong are highlighted in red. Every function returns one <svg> element.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "trm/report/arc_votes_reader.hpp"

namespace trm {

// The ARC palette, colour 0..9 (black, blue, red, green, yellow, grey, magenta, orange, azure,
// maroon), as the ARC Prize viewer draws it.
const char* arc_colour(int colour);

// `cell` px per cell; an empty (0x0) grid is drawn as a small labelled box. `wrong` (optional,
// [rows * cols]) outlines cells in red.
std::string render_arc_grid(const ColourGrid& grid, int cell,
                            const std::vector<bool>* wrong = nullptr);

// Cell size in px so that the largest of the grids (up to 30x30) fits `max_px`, between 4 and
// 20: grids of one puzzle share it, so they are drawn to the same scale.
int arc_cell_size(const std::vector<const ColourGrid*>& grids, int max_px = 150);

enum class TokenGridRole { kInput, kPrediction, kTruth };

// A Sudoku (tokens digit + 1, blank 1, PAD 0), maze (tokens index in "# SGo" + 1) or, for any
// other kind, a square grid of tokens in a categorical palette. `tokens` has side * side
// entries; `wrong` (optional) marks cells to highlight. For a Sudoku, `givens` (the input) draws
// the given digits darker than the filled-in ones.
std::string render_token_grid(const std::string& kind, const std::vector<int32_t>& tokens, int side,
                              TokenGridRole role, const std::vector<bool>* wrong,
                              const std::vector<int32_t>* givens);

}  // namespace trm
