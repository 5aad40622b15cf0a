// Line charts as inline SVG for trm-report: axes with "nice" ticks (1, 2, 2.5, 5 x 10^k), tick
// labels, axis labels, a legend, lines and eval markers. Non-finite values break a line and are
// never drawn; a chart with no finite point says "no data" (and why) instead of guessing a range.
#pragma once

#include <string>
#include <vector>

namespace trm {

struct AxisScale {
  double lo = 0.0;  // drawn range, lo < hi always
  double hi = 1.0;
  std::vector<double> ticks;  // inside [lo, hi], increasing
};

// A range covering [lo, hi] whose ends are multiples of the tick step, with at most about
// `max_ticks` ticks. Equal ends (a single point or a constant series) are widened by 10% of
// their magnitude (by 1 around 0) so the point sits mid-axis. lo and hi must be finite.
AxisScale nice_axis(double lo, double hi, int max_ticks = 6);

enum class SeriesStyle { kLine, kMarkers };

struct ChartSeries {
  std::string label;   // legend text; empty: not in the legend
  std::string colour;  // CSS colour
  SeriesStyle style = SeriesStyle::kLine;
  std::vector<double> x, y;  // same length; a NaN or infinity in either skips the point
};

struct ChartSpec {
  std::string title;
  std::string x_label = "step";
  std::string y_label;
  std::vector<double> include_y;  // values the y range must contain (e.g. 0 and 1 for accuracy)
  std::string empty_note;         // shown under "no data" when nothing is finite
  int width = 400;                // SVG user units (= CSS px at 100%)
  int height = 250;               // plot height grows by the legend's extra rows
};

// One <svg> element (no XML declaration, no external references).
std::string render_line_chart(const ChartSpec& spec, const std::vector<ChartSeries>& series);

}  // namespace trm
