// trm-report's HTML/SVG writer: escaping, number formats, axis ranges (ordinary, a single point,
// a constant series, negative and tiny values), and charts with empty, all-NaN, gapped and
// single-point series; long series are averaged down.
#include <gtest/gtest.h>

#include <cmath>
#include <limits>
#include <string>

#include "trm/common/error.hpp"
#include "trm/report/grid_view.hpp"
#include "trm/report/html_text.hpp"
#include "trm/report/report_page.hpp"
#include "trm/report/svg_chart.hpp"

namespace trm {
namespace {

constexpr double kNaN = std::numeric_limits<double>::quiet_NaN();

size_t count(const std::string& text, const std::string& what) {
  size_t n = 0;
  for (size_t at = text.find(what); at != std::string::npos; at = text.find(what, at + 1)) ++n;
  return n;
}

void expect_covers(const AxisScale& a, double lo, double hi) {
  EXPECT_LE(a.lo, lo);
  EXPECT_GE(a.hi, hi);
  EXPECT_LT(a.lo, a.hi);
  ASSERT_GE(a.ticks.size(), 2u);
  EXPECT_NEAR(a.ticks.front(), a.lo, 1e-12 * std::max(1.0, std::fabs(a.lo)));
  EXPECT_NEAR(a.ticks.back(), a.hi, 1e-9 * std::max(1.0, std::fabs(a.hi)));
  for (size_t i = 1; i < a.ticks.size(); ++i) EXPECT_GT(a.ticks[i], a.ticks[i - 1]);
}

TEST(ReportHtml, EscapesTextAndAttributeCharacters) {
  EXPECT_EQ(html_escape("<a href=\"x\">Tom & 'Jerry'</a>"),
            "&lt;a href=&quot;x&quot;&gt;Tom &amp; &#39;Jerry&#39;&lt;/a&gt;");
  EXPECT_EQ(html_escape("plain text 123"), "plain text 123");
  EXPECT_EQ(html_escape(""), "");
}

TEST(ReportHtml, FormatsNumbersShortly) {
  EXPECT_EQ(format_tick(0.0), "0");
  EXPECT_EQ(format_tick(0.25), "0.25");
  EXPECT_EQ(format_tick(500), "500");
  EXPECT_EQ(format_tick(12000), "12k");
  EXPECT_EQ(format_tick(1.5e6), "1.5M");
  EXPECT_EQ(format_tick(2e-4), "2e-4");
  EXPECT_EQ(format_tick(-2.5e-4), "-2.5e-4");
  EXPECT_EQ(format_tick(kNaN), "n/a");
  EXPECT_EQ(format_number(0.123456), "0.1235");
  EXPECT_EQ(format_number(2.0), "2");
  EXPECT_EQ(format_number(std::numeric_limits<double>::infinity()), "n/a");
  EXPECT_EQ(format_percent(0.9375), "93.8%");
  EXPECT_EQ(format_percent(kNaN), "n/a");
}

TEST(ReportSvg, AxisRangesCoverTheDataWithNiceTicks) {
  const AxisScale a = nice_axis(0.13, 0.87);
  expect_covers(a, 0.13, 0.87);
  EXPECT_DOUBLE_EQ(a.lo, 0.0);
  EXPECT_DOUBLE_EQ(a.hi, 1.0);
  EXPECT_LE(a.ticks.size(), 7u);

  const AxisScale steps = nice_axis(1, 9973);
  expect_covers(steps, 1, 9973);
  EXPECT_DOUBLE_EQ(steps.ticks[1] - steps.ticks[0], 2000.0);

  expect_covers(nice_axis(-3.2, 1e6), -3.2, 1e6);
  expect_covers(nice_axis(1e-5, 3e-4), 1e-5, 3e-4);
  expect_covers(nice_axis(-7, -2), -7, -2);
}

TEST(ReportSvg, SinglePointAndConstantSeriesGetAVisibleRange) {
  const AxisScale five = nice_axis(5, 5);
  expect_covers(five, 5, 5);
  EXPECT_LT(five.lo, 5);
  EXPECT_GT(five.hi, 5);
  const AxisScale zero = nice_axis(0, 0);
  EXPECT_LE(zero.lo, -1);
  EXPECT_GE(zero.hi, 1);
  const AxisScale tiny = nice_axis(1e-4, 1e-4);  // a constant learning rate
  expect_covers(tiny, 1e-4, 1e-4);
  EXPECT_LT(tiny.hi - tiny.lo, 1e-3);
  EXPECT_THROW(nice_axis(kNaN, 1), Error);
  EXPECT_THROW(nice_axis(2, 1), Error);
}

TEST(ReportSvg, EmptyOrAllNaNSeriesSayNoData) {
  ChartSpec spec;
  spec.title = "Loss";
  spec.empty_note = "no \"lm_loss\" in metrics.jsonl";
  const std::string none = render_line_chart(spec, {});
  EXPECT_NE(none.find(">no data<"), std::string::npos);
  EXPECT_NE(none.find("no &quot;lm_loss&quot; in metrics.jsonl"), std::string::npos);
  EXPECT_EQ(count(none, "<polyline"), 0u);

  ChartSeries nan_only{"train", "#123456", SeriesStyle::kLine, {1, 2, 3}, {kNaN, kNaN, kNaN}};
  const std::string all_nan = render_line_chart(spec, {nan_only});
  EXPECT_NE(all_nan.find(">no data<"), std::string::npos);
  EXPECT_EQ(count(all_nan, "<polyline"), 0u);
  EXPECT_EQ(all_nan.find("nan"), std::string::npos);
  EXPECT_EQ(count(all_nan, "<svg"), 1u);
  EXPECT_EQ(count(all_nan, "</svg>"), 1u);
}

TEST(ReportSvg, NaNsBreakTheLineAndAreNeverDrawn) {
  ChartSpec spec;
  spec.title = "Loss";
  ChartSeries s{"train",
                "#4e79a7",
                SeriesStyle::kLine,
                {1, 2, 3, 4, 5, 6},
                {2.0, 1.5, kNaN, 1.0, 0.8, std::numeric_limits<double>::infinity()}};
  const std::string svg = render_line_chart(spec, {s});
  EXPECT_EQ(count(svg, "<polyline"), 2u);  // [1, 2] and [4, 5]
  EXPECT_EQ(svg.find("nan"), std::string::npos);
  EXPECT_EQ(svg.find("inf"), std::string::npos);
  EXPECT_EQ(svg.find("no data"), std::string::npos);
  // The y axis covers the finite values only: the top tick is 2, not infinity.
  EXPECT_NE(svg.find(">2</text>"), std::string::npos);
}

TEST(ReportSvg, SinglePointsAndMarkersAreDrawn) {
  ChartSpec spec;
  spec.title = "Exact accuracy";
  ChartSeries lone{"train", "#4e79a7", SeriesStyle::kLine, {100}, {0.5}};
  ChartSeries evals{"eval", "#d62728", SeriesStyle::kMarkers, {50, 100, 150}, {0.2, kNaN, 0.6}};
  const std::string svg = render_line_chart(spec, {lone, evals});
  EXPECT_EQ(count(svg, "<polyline"), 0u);
  EXPECT_EQ(count(svg, "<circle class=\"marker\""), 2u);  // the NaN evaluation is skipped
  EXPECT_EQ(count(svg, "r=\"1.8\""), 1u);                 // the lone line point as a dot
  EXPECT_NE(svg.find(">train</text>"), std::string::npos);
  EXPECT_NE(svg.find(">eval</text>"), std::string::npos);
}

TEST(ReportSvg, ConstantSeriesHasTicksAroundIt) {
  ChartSpec spec;
  spec.title = "Learning rate";
  ChartSeries lr{"train", "#4e79a7", SeriesStyle::kLine, {1, 2, 3}, {1e-4, 1e-4, 1e-4}};
  const std::string svg = render_line_chart(spec, {lr});
  EXPECT_EQ(count(svg, "<polyline"), 1u);
  EXPECT_NE(svg.find(">1e-4</text>"), std::string::npos);
  EXPECT_GE(count(svg, "class=\"tick y\""), 2u);
}

TEST(ReportSvg, LabelsAreEscapedAndLengthsChecked) {
  ChartSpec spec;
  spec.title = "a <b> & c";
  spec.y_label = "\"quoted\"";
  ChartSeries s{"run <1>", "#000", SeriesStyle::kLine, {1, 2}, {1, 2}};
  const std::string svg = render_line_chart(spec, {s});
  EXPECT_EQ(svg.find("<b>"), std::string::npos);
  EXPECT_NE(svg.find("a &lt;b&gt; &amp; c"), std::string::npos);
  EXPECT_NE(svg.find("run &lt;1&gt;"), std::string::npos);
  EXPECT_NE(svg.find("&quot;quoted&quot;"), std::string::npos);
  ChartSeries bad{"x", "#000", SeriesStyle::kLine, {1, 2}, {1}};
  EXPECT_THROW(render_line_chart(spec, {bad}), Error);
}

TEST(ReportSvg, LongSeriesAreAveragedOverWindows) {
  std::vector<double> x, y;
  for (int i = 0; i < 1000; ++i) {
    x.push_back(i);
    y.push_back(i < 10 ? kNaN : i % 2);  // the first window has NaNs, the rest average to 0.5
  }
  EXPECT_EQ(downsample_mean(x, y, 100), 10);
  ASSERT_EQ(x.size(), 100u);
  EXPECT_TRUE(std::isnan(y[0]));
  EXPECT_DOUBLE_EQ(y[1], 0.5);
  EXPECT_DOUBLE_EQ(x[1], 14.5);
  std::vector<double> short_x = {1, 2}, short_y = {3, 4};
  EXPECT_EQ(downsample_mean(short_x, short_y, 100), 1);
  EXPECT_EQ(short_y, (std::vector<double>{3, 4}));
}

TEST(ReportGrids, ArcGridsUseThePaletteAndMarkWrongCells) {
  ColourGrid g;
  g.rows = 2;
  g.cols = 3;
  g.cells = {0, 0, 2, 0, 4, 4};
  const std::string svg = render_arc_grid(g, 10);
  EXPECT_NE(svg.find("fill=\"#000000\""), std::string::npos);  // background colour 0
  EXPECT_NE(svg.find("fill=\"#FF4136\""), std::string::npos);  // red 2
  EXPECT_NE(svg.find("width=\"20\" height=\"10\" fill=\"#FFDC00\""), std::string::npos);  // 4,4 run
  EXPECT_NE(svg.find("width=\"30\" height=\"20\""), std::string::npos);
  std::vector<bool> wrong = {false, false, true, false, false, false};
  EXPECT_EQ(count(render_arc_grid(g, 10, &wrong), "stroke=\"#e0161b\""), 1u);
  EXPECT_NE(render_arc_grid(ColourGrid{}, 10).find(">empty<"), std::string::npos);
  ColourGrid big;
  big.rows = big.cols = 30;
  big.cells.assign(900, 1);
  EXPECT_EQ(arc_cell_size({&g, &big}, 150), 5);
  EXPECT_EQ(arc_cell_size({&g}, 150), 20);
  EXPECT_THROW(arc_colour(10), Error);
}

TEST(ReportGrids, SudokuShowsDigitsAndHighlightsWrongCells) {
  // 4x4: tokens digit + 1, blank 1.
  std::vector<int32_t> input = {2, 1, 1, 5, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1};
  std::vector<int32_t> pred(16, 3);
  std::vector<bool> wrong(16, false);
  wrong[5] = true;
  const std::string svg =
      render_token_grid("sudoku", pred, 4, TokenGridRole::kPrediction, &wrong, &input);
  EXPECT_EQ(count(svg, "class=\"digit wrong\""), 1u);
  EXPECT_EQ(count(svg, "class=\"digit given\""), 2u);
  EXPECT_EQ(count(svg, ">2</text>"), 16u);
  EXPECT_EQ(count(render_token_grid("sudoku", input, 4, TokenGridRole::kInput, nullptr, nullptr),
                  "<text"),
            2u);
  EXPECT_THROW(render_token_grid("sudoku", input, 5, TokenGridRole::kInput, nullptr, nullptr),
               Error);
}

}  // namespace
}  // namespace trm
