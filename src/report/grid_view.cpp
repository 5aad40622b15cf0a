// Grid drawing for trm-report (see grid_view.hpp). An ARC grid is drawn as a background rect of
// its most common colour, one rect per horizontal run of any other colour and one path for the
// grid lines, which keeps a 30x30 grid to a few dozen elements instead of 900.
#include "trm/report/grid_view.hpp"

#include <algorithm>
#include <array>
#include <sstream>

#include "trm/common/error.hpp"
#include "trm/report/html_text.hpp"

namespace trm {
namespace {

constexpr std::array<const char*, 10> kArcPalette = {"#000000", "#0074D9", "#FF4136", "#2ECC40",
                                                     "#FFDC00", "#AAAAAA", "#F012BE", "#FF851B",
                                                     "#7FDBFF", "#870C25"};
constexpr const char* kMazeColours[] = {"#dddddd", "#2d3142", "#f7f7f2", "#2ECC40",
                                        "#FF4136", "#0074D9"};  // PAD, '#', ' ', 'S', 'G', 'o'
constexpr const char* kWrong = "#e0161b";

std::string svg_open(int width, int height, const std::string& css_class) {
  std::ostringstream o;
  o << "<svg class=\"" << css_class << "\" width=\"" << width << "\" height=\"" << height
    << "\" viewBox=\"0 0 " << width << " " << height << "\">";
  return o.str();
}

// Red outlines (inset by 1px so neighbours stay visible) around the wrong cells.
void wrong_outlines(std::ostringstream& o, int rows, int cols, int cell,
                    const std::vector<bool>& wrong) {
  for (int r = 0; r < rows; ++r)
    for (int c = 0; c < cols; ++c)
      if (wrong[static_cast<size_t>(r) * cols + c])
        o << "<rect x=\"" << c * cell + 1 << "\" y=\"" << r * cell + 1 << "\" width=\"" << cell - 2
          << "\" height=\"" << cell - 2 << "\" fill=\"none\" stroke=\"" << kWrong
          << "\" stroke-width=\"2\"/>";
}

void grid_lines(std::ostringstream& o, int rows, int cols, int cell, const char* colour,
                double width) {
  o << "<path fill=\"none\" stroke=\"" << colour << "\" stroke-width=\"" << width << "\" d=\"";
  for (int r = 1; r < rows; ++r) o << "M0 " << r * cell << "H" << cols * cell;
  for (int c = 1; c < cols; ++c) o << "M" << c * cell << " 0V" << rows * cell;
  o << "\"/>";
}

}  // namespace

const char* arc_colour(int colour) {
  TRM_CHECK(colour >= 0 && colour <= 9, "ARC colour " << colour << " outside 0..9",
            "ARC grids hold colours 0..9");
  return kArcPalette[colour];
}

int arc_cell_size(const std::vector<const ColourGrid*>& grids, int max_px) {
  int largest = 1;
  for (const ColourGrid* g : grids) largest = std::max({largest, g->rows, g->cols});
  return std::clamp(max_px / largest, 4, 20);
}

std::string render_arc_grid(const ColourGrid& grid, int cell, const std::vector<bool>* wrong) {
  TRM_CHECK(grid.cells.size() == static_cast<size_t>(grid.rows) * grid.cols,
            "an ARC grid of " << grid.rows << "x" << grid.cols << " has " << grid.cells.size()
                              << " cells",
            "grids hold rows * cols cells");
  if (grid.cells.empty()) {
    return svg_open(60, 40, "grid empty") +
           "<rect x=\"0.5\" y=\"0.5\" width=\"59\" height=\"39\" fill=\"#fff\" stroke=\"#999\" "
           "stroke-dasharray=\"3 2\"/><text x=\"30\" y=\"24\">empty</text></svg>";
  }
  std::array<int, 10> counts{};
  for (uint8_t v : grid.cells) ++counts[std::min<uint8_t>(v, 9)];
  const int background =
      static_cast<int>(std::max_element(counts.begin(), counts.end()) - counts.begin());
  const int w = grid.cols * cell, h = grid.rows * cell;
  std::ostringstream o;
  o << svg_open(w, h, "grid arc") << "<rect width=\"" << w << "\" height=\"" << h << "\" fill=\""
    << arc_colour(background) << "\"/>";
  for (int r = 0; r < grid.rows; ++r) {
    int c = 0;
    while (c < grid.cols) {
      const int colour = grid.at(r, c);
      int end = c + 1;
      while (end < grid.cols && grid.at(r, end) == colour) ++end;
      if (colour != background)
        o << "<rect x=\"" << c * cell << "\" y=\"" << r * cell << "\" width=\"" << (end - c) * cell
          << "\" height=\"" << cell << "\" fill=\"" << arc_colour(colour) << "\"/>";
      c = end;
    }
  }
  if (cell >= 6) grid_lines(o, grid.rows, grid.cols, cell, "#555", 0.6);
  o << "<rect x=\"0.5\" y=\"0.5\" width=\"" << w - 1 << "\" height=\"" << h - 1
    << "\" fill=\"none\" stroke=\"#555\"/>";
  if (wrong) wrong_outlines(o, grid.rows, grid.cols, cell, *wrong);
  o << "</svg>";
  return o.str();
}

std::string render_token_grid(const std::string& kind, const std::vector<int32_t>& tokens, int side,
                              TokenGridRole role, const std::vector<bool>* wrong,
                              const std::vector<int32_t>* givens) {
  TRM_CHECK(side > 0 && tokens.size() == static_cast<size_t>(side) * side,
            "a " << kind << " grid of side " << side << " with " << tokens.size() << " tokens",
            "square grids have side * side tokens");
  std::ostringstream o;
  if (kind == "sudoku") {
    const int cell = side <= 6 ? 26 : 22;
    const int box_rows = side == 9 ? 3 : 2;
    const int box_cols = side == 9 ? 3 : side == 6 ? 3 : 2;
    const int n = side * cell;
    o << svg_open(n + 2, n + 2, "grid sudoku") << "<g transform=\"translate(1 1)\">"
      << "<rect width=\"" << n << "\" height=\"" << n << "\" fill=\"#fff\"/>";
    for (int i = 0; i < side * side; ++i) {
      const int r = i / side, c = i % side;
      const bool is_wrong = wrong && (*wrong)[i];
      if (is_wrong)
        o << "<rect x=\"" << c * cell << "\" y=\"" << r * cell << "\" width=\"" << cell
          << "\" height=\"" << cell << "\" fill=\"#fbd5d5\"/>";
      const int digit = tokens[i] - 1;  // token 1 is the blank
      if (digit < 1) continue;
      const bool given = givens && (*givens)[i] > 1;
      const char* css = is_wrong                                 ? "digit wrong"
                        : given || role == TokenGridRole::kInput ? "digit given"
                                                                 : "digit filled";
      o << "<text class=\"" << css << "\" x=\"" << c * cell + cell / 2 << "\" y=\""
        << r * cell + cell / 2 + 5 << "\">" << digit << "</text>";
    }
    grid_lines(o, side, side, cell, "#b8b8b8", 1);
    o << "<path fill=\"none\" stroke=\"#333\" stroke-width=\"2\" d=\"";
    for (int r = box_rows; r < side; r += box_rows) o << "M0 " << r * cell << "H" << n;
    for (int c = box_cols; c < side; c += box_cols) o << "M" << c * cell << " 0V" << n;
    o << "\"/><rect width=\"" << n << "\" height=\"" << n
      << "\" fill=\"none\" stroke=\"#333\" stroke-width=\"2\"/></g></svg>";
    return o.str();
  }
  const int cell = std::clamp(180 / side, 4, 24);
  const int n = side * cell;
  o << svg_open(n, n, "grid " + html_escape(kind.empty() ? "tokens" : kind));
  for (int i = 0; i < side * side; ++i) {
    const int t = tokens[i];
    const char* fill = kind == "maze" ? (t >= 0 && t <= 5 ? kMazeColours[t] : "#888")
                                      : kArcPalette[((t % 10) + 10) % 10];
    o << "<rect x=\"" << (i % side) * cell << "\" y=\"" << (i / side) * cell << "\" width=\""
      << cell << "\" height=\"" << cell << "\" fill=\"" << fill << "\"/>";
  }
  if (wrong) wrong_outlines(o, side, side, cell, *wrong);
  o << "<rect x=\"0.5\" y=\"0.5\" width=\"" << n - 1 << "\" height=\"" << n - 1
    << "\" fill=\"none\" stroke=\"#555\"/></svg>";
  return o.str();
}

}  // namespace trm
