// render_line_chart and nice_axis (see svg_chart.hpp). Layout in SVG user units: title row,
// legend rows, plot area with the y tick labels on its left and the x tick labels and axis label
// below it.
#include "trm/report/svg_chart.hpp"

#include <algorithm>
#include <cmath>
#include <limits>
#include <sstream>

#include "trm/common/error.hpp"
#include "trm/report/html_text.hpp"

namespace trm {
namespace {

constexpr double kTitleHeight = 24;
constexpr double kLegendRowHeight = 16;
constexpr double kMarginLeft = 54;
constexpr double kMarginRight = 14;
constexpr double kMarginBottom = 40;
constexpr double kCharWidth = 6.4;  // approximate width of a 11px sans-serif character

double nice_step(double raw) {
  const double magnitude = std::pow(10.0, std::floor(std::log10(raw)));
  for (double m : {1.0, 2.0, 2.5, 5.0, 10.0})
    if (m * magnitude >= raw * (1 - 1e-9)) return m * magnitude;
  return 10.0 * magnitude;
}

bool finite_point(const ChartSeries& s, size_t i) {
  return std::isfinite(s.x[i]) && std::isfinite(s.y[i]);
}

std::string num(double v) {  // coordinates: 1 decimal is below a pixel
  std::ostringstream os;
  os.setf(std::ios::fixed);
  os.precision(1);
  os << v;
  return os.str();
}

struct LegendItem {
  const ChartSeries* series;
  double x, y;
};

}  // namespace

AxisScale nice_axis(double lo, double hi, int max_ticks) {
  TRM_CHECK(std::isfinite(lo) && std::isfinite(hi) && lo <= hi,
            "nice_axis needs a finite range, got [" << lo << ", " << hi << "]",
            "drop non-finite values before computing an axis");
  if (hi == lo) {
    const double pad = lo == 0.0 ? 1.0 : 0.1 * std::fabs(lo);
    lo -= pad;
    hi += pad;
  }
  max_ticks = std::max(max_ticks, 2);
  const double step = nice_step((hi - lo) / (max_ticks - 1));
  AxisScale a;
  a.lo = std::floor(lo / step + 1e-9) * step;
  a.hi = std::ceil(hi / step - 1e-9) * step;
  if (a.hi <= a.lo) a.hi = a.lo + step;
  for (double t = a.lo; t <= a.hi + step * 1e-6; t += step) {
    a.ticks.push_back(std::fabs(t) < step * 1e-9 ? 0.0 : t);  // no "-0" or 1e-17 from rounding
  }
  return a;
}

std::string render_line_chart(const ChartSpec& spec, const std::vector<ChartSeries>& series) {
  for (const auto& s : series)
    TRM_CHECK(s.x.size() == s.y.size(),
              "chart '" << spec.title << "' series '" << s.label << "' has " << s.x.size()
                        << " x and " << s.y.size() << " y values",
              "give every point both coordinates");
  const double width = spec.width;

  // Legend: items flow left to right and wrap; the chart grows by the extra rows.
  std::vector<LegendItem> legend;
  double lx = kMarginLeft, ly = kTitleHeight + 10;
  for (const auto& s : series) {
    if (s.label.empty()) continue;
    const double w = 22 + kCharWidth * s.label.size() + 14;
    if (lx + w > width - kMarginRight && lx > kMarginLeft) {
      lx = kMarginLeft;
      ly += kLegendRowHeight;
    }
    legend.push_back({&s, lx, ly});
    lx += w;
  }
  const double legend_height = legend.empty() ? 4 : ly - kTitleHeight + 8;
  const double plot_top = kTitleHeight + legend_height;
  const double height = spec.height + (legend.empty() ? 0 : ly - (kTitleHeight + 10));
  const double plot_bottom = height - kMarginBottom;
  const double plot_left = kMarginLeft, plot_right = width - kMarginRight;

  double x_lo = std::numeric_limits<double>::infinity(), x_hi = -x_lo, y_lo = x_lo, y_hi = -x_lo;
  for (const auto& s : series)
    for (size_t i = 0; i < s.x.size(); ++i)
      if (finite_point(s, i)) {
        x_lo = std::min(x_lo, s.x[i]);
        x_hi = std::max(x_hi, s.x[i]);
        y_lo = std::min(y_lo, s.y[i]);
        y_hi = std::max(y_hi, s.y[i]);
      }
  const bool empty = !std::isfinite(x_lo);

  std::ostringstream o;
  o << "<svg class=\"chart\" viewBox=\"0 0 " << num(width) << " " << num(height) << "\" width=\""
    << num(width) << "\" height=\"" << num(height) << "\" role=\"img\" aria-label=\""
    << html_escape(spec.title) << "\">";
  o << "<text class=\"chart-title\" x=\"" << num(plot_left) << "\" y=\"17\">"
    << html_escape(spec.title) << "</text>";
  for (const auto& item : legend) {
    const ChartSeries& s = *item.series;
    const std::string colour = html_escape(s.colour);
    if (s.style == SeriesStyle::kLine) {
      o << "<line x1=\"" << num(item.x) << "\" y1=\"" << num(item.y - 4) << "\" x2=\""
        << num(item.x + 16) << "\" y2=\"" << num(item.y - 4) << "\" stroke=\"" << colour
        << "\" stroke-width=\"2.5\"/>";
    } else {
      o << "<circle cx=\"" << num(item.x + 8) << "\" cy=\"" << num(item.y - 4)
        << "\" r=\"3.5\" fill=\"#fff\" stroke=\"" << colour << "\" stroke-width=\"2\"/>";
    }
    o << "<text class=\"legend\" x=\"" << num(item.x + 21) << "\" y=\"" << num(item.y) << "\">"
      << html_escape(s.label) << "</text>";
  }
  o << "<rect class=\"plot\" x=\"" << num(plot_left) << "\" y=\"" << num(plot_top) << "\" width=\""
    << num(plot_right - plot_left) << "\" height=\"" << num(plot_bottom - plot_top) << "\"/>";

  if (empty) {
    const double cx = (plot_left + plot_right) / 2, cy = (plot_top + plot_bottom) / 2;
    o << "<text class=\"no-data\" x=\"" << num(cx) << "\" y=\"" << num(cy) << "\">no data</text>";
    if (!spec.empty_note.empty())
      o << "<text class=\"no-data-note\" x=\"" << num(cx) << "\" y=\"" << num(cy + 18) << "\">"
        << html_escape(spec.empty_note) << "</text>";
    o << "</svg>";
    return o.str();
  }

  for (double v : spec.include_y)
    if (std::isfinite(v)) {
      y_lo = std::min(y_lo, v);
      y_hi = std::max(y_hi, v);
    }
  const AxisScale xs = nice_axis(x_lo, x_hi, 6);
  const AxisScale ys = nice_axis(y_lo, y_hi, 6);
  auto px = [&](double x) {
    return plot_left + (x - xs.lo) / (xs.hi - xs.lo) * (plot_right - plot_left);
  };
  auto py = [&](double y) {
    return plot_bottom - (y - ys.lo) / (ys.hi - ys.lo) * (plot_bottom - plot_top);
  };

  for (double t : ys.ticks) {
    o << "<line class=\"grid\" x1=\"" << num(plot_left) << "\" x2=\"" << num(plot_right)
      << "\" y1=\"" << num(py(t)) << "\" y2=\"" << num(py(t)) << "\"/>";
    o << "<text class=\"tick y\" x=\"" << num(plot_left - 5) << "\" y=\"" << num(py(t) + 4) << "\">"
      << html_escape(format_tick(t)) << "</text>";
  }
  for (double t : xs.ticks) {
    o << "<line class=\"tick-mark\" x1=\"" << num(px(t)) << "\" x2=\"" << num(px(t)) << "\" y1=\""
      << num(plot_bottom) << "\" y2=\"" << num(plot_bottom + 4) << "\"/>";
    o << "<text class=\"tick x\" x=\"" << num(px(t)) << "\" y=\"" << num(plot_bottom + 16) << "\">"
      << html_escape(format_tick(t)) << "</text>";
  }
  o << "<text class=\"axis-label\" x=\"" << num((plot_left + plot_right) / 2) << "\" y=\""
    << num(height - 6) << "\">" << html_escape(spec.x_label) << "</text>";
  if (!spec.y_label.empty()) {
    const double cy = (plot_top + plot_bottom) / 2;
    o << "<text class=\"axis-label\" transform=\"translate(12 " << num(cy) << ") rotate(-90)\">"
      << html_escape(spec.y_label) << "</text>";
  }

  for (const auto& s : series) {
    const std::string colour = html_escape(s.colour);
    if (s.style == SeriesStyle::kLine) {
      // Runs of finite points become polylines; a run of one point (between gaps, or the only
      // one) would be invisible as a polyline and is drawn as a dot.
      std::string points;
      size_t run_start = 0, run_length = 0;
      auto flush = [&]() {
        if (run_length == 1) {
          o << "<circle cx=\"" << num(px(s.x[run_start])) << "\" cy=\"" << num(py(s.y[run_start]))
            << "\" r=\"1.8\" fill=\"" << colour << "\"/>";
        } else if (run_length > 1) {
          o << "<polyline class=\"series\" stroke=\"" << colour << "\" points=\"" << points
            << "\"/>";
        }
        points.clear();
        run_length = 0;
      };
      for (size_t i = 0; i < s.x.size(); ++i) {
        if (!finite_point(s, i)) {
          flush();
          continue;
        }
        if (run_length == 0) run_start = i;
        if (!points.empty()) points += ' ';
        points += num(px(s.x[i])) + "," + num(py(s.y[i]));
        ++run_length;
      }
      flush();
    } else {
      for (size_t i = 0; i < s.x.size(); ++i) {
        if (!finite_point(s, i)) continue;
        o << "<circle class=\"marker\" cx=\"" << num(px(s.x[i])) << "\" cy=\"" << num(py(s.y[i]))
          << "\" r=\"3.5\" stroke=\"" << colour << "\"><title>" << html_escape(s.label) << " step "
          << html_escape(format_number(s.x[i], 8)) << ": " << html_escape(format_number(s.y[i]))
          << "</title></circle>";
      }
    }
  }
  o << "</svg>";
  return o.str();
}

}  // namespace trm
