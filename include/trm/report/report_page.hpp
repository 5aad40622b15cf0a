// The trm-report page: one self-contained HTML document (inline CSS, inline SVG, one tiny inline
// script that only marks the page as rendered; no network, no external files or fonts) with a
// summary table of the runs, their training curves overlaid, the notes on anything missing, and
// per run its predictions: ARC test puzzles with the top-2 voted grids, or a Sudoku/Maze sample.
#pragma once

#include <string>
#include <vector>

#include "trm/report/run_data.hpp"

namespace trm {

struct ReportPageOptions {
  std::string title = "trm-dist report";
  std::string generated;  // shown in the header, e.g. "2026-12-04 21:30 UTC"
};

std::string render_report_page(const std::vector<RunData>& runs, const ReportPageOptions& options);

// Series longer than max_points are averaged over equal windows of consecutive points
// (non-finite values left out; a window of only non-finite values gives NaN, a gap). Returns
// the window length (1: unchanged).
int64_t downsample_mean(std::vector<double>& x, std::vector<double>& y, int64_t max_points);

}  // namespace trm
