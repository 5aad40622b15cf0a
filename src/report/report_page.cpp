// render_report_page (see report_page.hpp). The page is built as one string: head (CSS), header
// and run summary, notes, training curves, predictions. The "failed only" filter is CSS: a
// checkbox before <main> hides the cards of solved puzzles through a sibling selector.
#include "trm/report/report_page.hpp"

#include <algorithm>
#include <cmath>
#include <limits>
#include <sstream>

#include "trm/report/grid_view.hpp"
#include "trm/report/html_text.hpp"
#include "trm/report/svg_chart.hpp"

namespace trm {
namespace {

constexpr double kNaN = std::numeric_limits<double>::quiet_NaN();
constexpr int64_t kMaxCurvePoints = 500;
constexpr const char* kRunColours[] = {"#4e79a7", "#f28e2b", "#e15759", "#76b7b2", "#59a14f",
                                       "#edc948", "#b07aa1", "#ff9da7", "#9c755f", "#bab0ac"};
constexpr const char* kEvalColour = "#d62728";  // eval markers of a single run

const char* kCss = R"CSS(
:root { --ink: #1d2330; --muted: #667085; --line: #d9dde5; --ok: #1a7f37; --bad: #c62828; }
* { box-sizing: border-box; }
body { margin: 0; font: 14px/1.45 system-ui, -apple-system, "Segoe UI", Roboto, "Helvetica Neue",
       Arial, sans-serif; color: var(--ink); background: #f6f7f9; }
main { max-width: 1260px; margin: 0 auto; padding: 20px 24px 40px; }
h1 { font-size: 24px; margin: 0 0 2px; }
h2 { font-size: 18px; margin: 28px 0 10px; padding-bottom: 4px; border-bottom: 1px solid var(--line); }
h3 { font-size: 15px; margin: 18px 0 8px; }
.meta, .muted { color: var(--muted); }
.meta { margin: 0 0 14px; font-size: 13px; }
code { font: 12px ui-monospace, SFMono-Regular, Menlo, Consolas, monospace; }
table.summary { border-collapse: collapse; background: #fff; border: 1px solid var(--line); }
table.summary th, table.summary td { padding: 5px 10px; border-bottom: 1px solid var(--line);
  text-align: right; white-space: nowrap; }
table.summary th { background: #eef1f5; font-weight: 600; font-size: 12px; }
table.summary td:first-child, table.summary th:first-child { text-align: left; }
.swatch { display: inline-block; width: 12px; height: 12px; border-radius: 2px; margin-right: 6px;
  vertical-align: -1px; }
.notes { background: #fff8e1; border: 1px solid #f0d98c; border-radius: 6px; padding: 8px 14px;
  margin: 14px 0; }
.notes li { margin: 2px 0; }
.charts { display: grid; grid-template-columns: repeat(3, 1fr); gap: 12px; }
.charts figure { margin: 0; background: #fff; border: 1px solid var(--line); border-radius: 6px;
  padding: 6px 4px 2px; }
.charts figcaption { font-size: 11px; color: var(--muted); padding: 0 8px 4px; }
svg.chart { display: block; width: 100%; height: auto; font-family: inherit; }
svg.chart .chart-title { font-size: 14px; font-weight: 600; fill: var(--ink); }
svg.chart .legend { font-size: 11px; fill: #333; }
svg.chart .plot { fill: #fff; stroke: #9aa1ad; }
svg.chart .grid { stroke: #e8eaef; }
svg.chart .tick-mark { stroke: #9aa1ad; }
svg.chart .tick { font-size: 10.5px; fill: #555; }
svg.chart .tick.y { text-anchor: end; }
svg.chart .tick.x { text-anchor: middle; }
svg.chart .axis-label { font-size: 11px; fill: #444; text-anchor: middle; }
svg.chart .series { fill: none; stroke-width: 1.8; stroke-linejoin: round; }
svg.chart .marker { fill: #fff; stroke-width: 2; }
svg.chart .no-data { font-size: 15px; fill: #999; text-anchor: middle; }
svg.chart .no-data-note { font-size: 11px; fill: #999; text-anchor: middle; }
.stats { display: flex; gap: 22px; flex-wrap: wrap; align-items: baseline; margin: 6px 0 12px; }
.stat b { font-size: 22px; margin-right: 4px; }
.toggle-input { position: absolute; opacity: 0; pointer-events: none; }
label.filter { cursor: pointer; user-select: none; border: 1px solid #b9c0cc; border-radius: 14px;
  padding: 3px 12px; background: #fff; font-size: 13px; }
label.filter::before { content: "\2610  "; }
#failed-only:checked ~ main label.filter { background: #1d2330; color: #fff; border-color: #1d2330; }
#failed-only:checked ~ main label.filter::before { content: "\2611  "; }
#failed-only:checked ~ main .card.ok { display: none; }
.cards { display: flex; flex-wrap: wrap; gap: 12px; }
.card { background: #fff; border: 1px solid var(--line); border-left: 4px solid var(--ok);
  border-radius: 6px; padding: 8px 12px 10px; }
.card.failed { border-left-color: var(--bad); }
.card header { display: flex; gap: 10px; align-items: baseline; margin-bottom: 4px; }
.card .pid { font-weight: 600; font-family: ui-monospace, SFMono-Regular, Menlo, Consolas, monospace; }
.badge { font-size: 11px; font-weight: 700; padding: 1px 7px; border-radius: 9px; color: #fff; }
.badge.ok { background: var(--ok); }
.badge.bad { background: var(--bad); }
.row { display: flex; gap: 14px; align-items: flex-start; padding: 4px 0; }
.row + .row { border-top: 1px dashed var(--line); }
.row figure { margin: 0; }
.row figcaption { font-size: 11px; color: var(--muted); margin-bottom: 3px; white-space: nowrap; }
.row figcaption .ok { color: var(--ok); font-weight: 700; }
.row figcaption .bad { color: var(--bad); font-weight: 700; }
.row .arrow { align-self: center; color: #aab; font-size: 18px; }
.row .vote-note { font-size: 11px; color: var(--muted); align-self: flex-end; max-width: 120px; }
svg.grid { display: block; }
svg.grid text { font-size: 11px; text-anchor: middle; fill: #999; }
svg.grid.sudoku text.digit { font-size: 14px; }
svg.grid.sudoku text.given { fill: #1d2330; font-weight: 700; }
svg.grid.sudoku text.filled { fill: #2f5fb3; }
svg.grid.sudoku text.wrong { fill: #c62828; font-weight: 700; }
footer { margin-top: 30px; font-size: 12px; color: var(--muted); }
)CSS";

// Records script errors into the page, so a headless render can tell a clean page from a broken
// one; the last script marks that the whole document was parsed and ran.
const char* kHeadScript =
    "window.addEventListener('error',function(e){document.documentElement.setAttribute("
    "'data-report-error',String(e.message));});";
const char* kEndScript = "document.documentElement.setAttribute('data-report-rendered','ok');";

const char* run_colour(size_t i) {
  return kRunColours[i % (sizeof(kRunColours) / sizeof(kRunColours[0]))];
}

struct CurveDef {
  const char* title;
  const char* y_label;
  const char* kind;  // records the line comes from
  const char* key;
  const char* eval_key;  // markers from eval records; null: none
  std::vector<double> include_y;
};

const std::vector<CurveDef>& curve_defs() {
  static const std::vector<CurveDef> defs = {
      {"Loss", "lm_loss", "train", "lm_loss", "lm_loss", {0.0}},
      {"Exact accuracy",
       "fraction of puzzles",
       "train",
       "exact_accuracy",
       "exact_accuracy",
       {0.0, 1.0}},
      {"Token accuracy", "fraction of tokens", "train", "accuracy", "accuracy", {0.0, 1.0}},
      {"Mean ACT steps", "supervision steps", "train", "steps", "steps", {0.0}},
      {"Learning rate", "lr", "train", "lr", nullptr, {0.0}},
      {"Training speed", "steps / s", "progress", "steps_per_s", nullptr, {0.0}},
      {"ARC pass@1 (eval)", "fraction of puzzles", "eval", "ARC/pass@1", nullptr, {0.0, 1.0}},
      {"ARC pass@2 (eval)", "fraction of puzzles", "eval", "ARC/pass@2", nullptr, {0.0, 1.0}},
  };
  return defs;
}

std::string chart_figure(const CurveDef& def, const std::vector<RunData>& runs) {
  const bool single = runs.size() == 1;
  std::vector<ChartSeries> series;
  bool any_eval = false;
  int64_t window = 1;
  for (size_t i = 0; i < runs.size(); ++i) {
    const MetricsLog& log = runs[i].metrics;
    MetricsLog::Points p = log.series(def.kind, def.key);
    ChartSeries line;
    line.label = single ? (std::string(def.kind) == "eval" ? "eval" : "train") : runs[i].name;
    line.colour = run_colour(i);
    line.x = std::move(p.steps);
    line.y = std::move(p.values);
    window = std::max(window, downsample_mean(line.x, line.y, kMaxCurvePoints));
    const bool eval_line = std::string(def.kind) == "eval";
    if (single && line.x.empty()) line.label.clear();
    series.push_back(line);
    if (eval_line || def.eval_key) {
      const MetricsLog::Points e = eval_line ? MetricsLog::Points{series.back().x, series.back().y}
                                             : log.series("eval", def.eval_key);
      ChartSeries markers;
      markers.style = SeriesStyle::kMarkers;
      markers.colour = single && !eval_line ? kEvalColour : run_colour(i);
      markers.label = single && !eval_line && !e.steps.empty() ? "eval" : "";
      markers.x = e.steps;
      markers.y = e.values;
      any_eval = any_eval || !e.steps.empty();
      series.push_back(std::move(markers));
    }
  }
  if (!single && any_eval && std::string(def.kind) != "eval") {
    ChartSeries legend_only;  // one "eval" entry for every run's markers
    legend_only.style = SeriesStyle::kMarkers;
    legend_only.colour = "#555";
    legend_only.label = "eval";
    series.push_back(std::move(legend_only));
  }
  ChartSpec spec;
  spec.title = def.title;
  spec.y_label = def.y_label;
  spec.include_y = def.include_y;
  spec.empty_note =
      std::string("no \"") + def.key + "\" in the " + def.kind + " records of metrics.jsonl";
  std::ostringstream o;
  o << "<figure>" << render_line_chart(spec, series);
  std::string caption;
  if (window > 1)
    caption = std::string(def.kind) + " values averaged over windows of " + std::to_string(window) +
              " points (" + std::to_string(kMaxCurvePoints) + " points max)";
  if (def.eval_key && any_eval)
    caption += std::string(caption.empty() ? "" : "; ") + "circles: evaluations on the test split";
  if (!caption.empty()) o << "<figcaption>" << html_escape(caption) << "</figcaption>";
  o << "</figure>";
  return o.str();
}

bool any_run_has(const std::vector<RunData>& runs, const char* kind, const char* key) {
  return std::any_of(runs.begin(), runs.end(),
                     [&](const RunData& r) { return r.metrics.has(kind, key); });
}

double last_value(const MetricsLog& log, const char* kind, const char* key) {
  for (auto it = log.records.rbegin(); it != log.records.rend(); ++it)
    if (it->kind == kind && it->values.count(key)) return it->values.at(key);
  return kNaN;
}

// The latest evaluation: trm-eval's eval_metrics.json when present, else the last eval record.
double eval_value(const RunData& run, const char* key) {
  if (run.eval && run.eval->metrics.count(key)) return run.eval->metrics.at(key);
  if (run.arc && std::string(key).rfind("ARC/pass@", 0) == 0) {
    const int k = std::stoi(std::string(key).substr(9));
    for (const auto& [kk, v] : run.arc->pass_at_k)
      if (kk == k) return v;
  }
  return last_value(run.metrics, "eval", key);
}

std::string format_seconds(double s) {
  if (!std::isfinite(s)) return "n/a";
  std::ostringstream o;
  if (s < 120)
    o << static_cast<int64_t>(std::lround(s)) << " s";
  else if (s < 7200)
    o << format_number(s / 60, 3) << " min";
  else
    o << format_number(s / 3600, 3) << " h";
  return o.str();
}

std::string summary_table(const std::vector<RunData>& runs) {
  std::ostringstream o;
  o << "<table class=\"summary\"><tr><th>run</th><th>last step</th><th>train loss</th>"
       "<th>eval exact acc.</th><th>eval token acc.</th><th>ARC pass@1</th><th>ARC pass@2</th>"
       "<th>steps/s</th><th>wall time</th></tr>";
  for (size_t i = 0; i < runs.size(); ++i) {
    const RunData& r = runs[i];
    int64_t step = -1;
    for (const auto& rec : r.metrics.records) step = std::max(step, rec.step);
    if (step < 0 && r.eval) step = r.eval->step;
    if (step < 0 && r.arc) step = r.arc->step;
    o << "<tr><td><span class=\"swatch\" style=\"background:" << run_colour(i) << "\"></span>"
      << html_escape(r.name) << "</td><td>" << (step >= 0 ? std::to_string(step) : "n/a")
      << "</td><td>" << format_number(last_value(r.metrics, "progress", "lm_loss")) << "</td><td>"
      << format_percent(eval_value(r, "exact_accuracy")) << "</td><td>"
      << format_percent(eval_value(r, "accuracy")) << "</td><td>"
      << format_percent(eval_value(r, "ARC/pass@1")) << "</td><td>"
      << format_percent(eval_value(r, "ARC/pass@2")) << "</td><td>"
      << format_number(last_value(r.metrics, "progress", "steps_per_s"), 3) << "</td><td>"
      << format_seconds(last_value(r.metrics, "progress", "elapsed_s")) << "</td></tr>";
  }
  o << "</table>";
  return o.str();
}

std::string caption_candidate(const ArcCandidateView& c, int rank, const ArcTestView& t) {
  std::ostringstream o;
  const bool known = t.output.has_value();
  const bool correct = known && c.grid == *t.output;
  o << "attempt " << rank + 1;
  if (known) o << " <span class=\"" << (correct ? "ok\">&#10003;" : "bad\">&#10007;") << "</span>";
  o << " &middot; " << c.votes << " vote" << (c.votes == 1 ? "" : "s") << " &middot; q "
    << format_number(c.mean_q, 3);
  return o.str();
}

std::string arc_puzzle_card(const ArcPuzzleView& p) {
  const bool scored = p.scored();
  const bool solved = scored && p.solved_fraction(2) == 1.0;
  std::ostringstream o;
  o << "<section class=\"card " << (solved || !scored ? "ok" : "failed")
    << "\"><header><span class=\"pid\">" << html_escape(p.id) << "</span>";
  if (scored) {
    o << (solved ? "<span class=\"badge ok\">solved</span>"
                 : "<span class=\"badge bad\">failed</span>")
      << "<span class=\"muted\">pass@1 " << format_number(p.solved_fraction(1), 3)
      << " &middot; pass@2 " << format_number(p.solved_fraction(2), 3) << "</span>";
  } else {
    o << "<span class=\"muted\">no true output (hidden test set)</span>";
  }
  o << "</header>";
  for (size_t t = 0; t < p.tests.size(); ++t) {
    const ArcTestView& test = p.tests[t];
    std::vector<const ColourGrid*> grids = {&test.input};
    if (test.output) grids.push_back(&*test.output);
    for (const auto& c : test.top) grids.push_back(&c.grid);
    const int cell = arc_cell_size(grids);
    o << "<div class=\"row\"><figure><figcaption>test input"
      << (p.tests.size() > 1 ? " " + std::to_string(t + 1) : "") << " &middot; " << test.input.rows
      << "&times;" << test.input.cols << "</figcaption>" << render_arc_grid(test.input, cell)
      << "</figure><span class=\"arrow\">&#8594;</span>";
    if (test.output)
      o << "<figure><figcaption>ground truth &middot; " << test.output->rows << "&times;"
        << test.output->cols << "</figcaption>" << render_arc_grid(*test.output, cell)
        << "</figure>";
    for (size_t k = 0; k < 2; ++k) {
      if (k >= test.top.size()) {
        o << "<figure><figcaption>attempt " << k + 1 << "</figcaption><span class=\"muted\">"
          << (test.top.empty() ? "no prediction" : "no second grid") << "</span></figure>";
        continue;
      }
      const ArcCandidateView& c = test.top[k];
      std::vector<bool> wrong;
      const bool same_shape =
          test.output && test.output->rows == c.grid.rows && test.output->cols == c.grid.cols;
      if (same_shape)
        for (size_t i = 0; i < c.grid.cells.size(); ++i)
          wrong.push_back(c.grid.cells[i] != test.output->cells[i]);
      o << "<figure><figcaption>" << caption_candidate(c, static_cast<int>(k), test)
        << "</figcaption>" << render_arc_grid(c.grid, cell, same_shape ? &wrong : nullptr)
        << "</figure>";
    }
    o << "<div class=\"vote-note\">" << test.num_votes << " votes over " << test.num_candidates
      << " distinct grid" << (test.num_candidates == 1 ? "" : "s");
    if (test.output)
      o << "; truth "
        << (test.label_rank >= 0 ? "ranked " + std::to_string(test.label_rank + 1)
                                 : "never predicted");
    o << "</div></div>";
  }
  o << "</section>";
  return o.str();
}

std::string filter_label() {
  return "<label class=\"filter\" for=\"failed-only\">show failed puzzles only</label>";
}

std::string arc_section(const RunData& run) {
  const ArcVotes& v = *run.arc;
  std::ostringstream o;
  int64_t failed = 0, scored = 0;
  for (const auto& p : v.puzzles) {
    if (!p.scored()) continue;
    ++scored;
    failed += p.solved_fraction(2) < 1.0;
  }
  o << "<div class=\"stats\">";
  for (const auto& [k, frac] : v.pass_at_k)
    if (k <= 2)
      o << "<span class=\"stat\"><b>" << format_percent(frac) << "</b>pass@" << k << "</span>";
  o << "<span class=\"muted\">" << v.puzzles.size() << " test puzzles, " << scored << " scored, "
    << failed << " not solved within 2 attempts"
    << (v.step >= 0 ? " &middot; step " + std::to_string(v.step) : "") << " &middot; <code>"
    << html_escape(v.path) << "</code></span>" << filter_label() << "</div>";
  o << "<div class=\"cards\">";
  for (const auto& p : v.puzzles) o << arc_puzzle_card(p);
  o << "</div>";
  return o.str();
}

int square_side(int64_t n) {
  const int side = static_cast<int>(std::lround(std::sqrt(static_cast<double>(n))));
  return static_cast<int64_t>(side) * side == n ? side : 0;
}

std::string token_section(const RunData& run) {
  const EvalOutputsSample& s = *run.outputs;
  std::ostringstream o;
  const int64_t failed_shown =
      std::count_if(s.rows.begin(), s.rows.end(), [](const TokenRow& r) { return !r.exact; });
  o << "<div class=\"stats\"><span class=\"stat\"><b>"
    << format_percent(s.num_counted ? static_cast<double>(s.num_exact) / s.num_counted : kNaN)
    << "</b>exact</span><span class=\"stat\"><b>"
    << format_percent(s.num_tokens ? static_cast<double>(s.num_tokens_correct) / s.num_tokens
                                   : kNaN)
    << "</b>tokens</span><span class=\"muted\">" << s.num_exact << " of " << s.num_counted << " "
    << html_escape(s.kind.empty() ? "puzzles" : s.kind + " puzzles") << " exactly right; showing "
    << failed_shown << " failed and " << s.rows.size() - failed_shown << " solved &middot; <code>"
    << html_escape(s.path) << "</code></span>" << filter_label() << "</div>";
  const int side = square_side(s.seq_len);
  if (side == 0) {
    o << "<p class=\"muted\">seq_len " << s.seq_len
      << " is not a square grid: puzzles are not drawn.</p>";
    return o.str();
  }
  o << "<div class=\"cards\">";
  for (const TokenRow& r : s.rows) {
    std::vector<bool> wrong(r.pred.size());
    std::vector<int32_t> truth = r.label;
    int64_t n_wrong = 0;
    for (size_t i = 0; i < truth.size(); ++i) {
      if (truth[i] == -100)
        truth[i] = r.input[i];
      else
        wrong[i] = r.pred[i] != r.label[i];
      n_wrong += wrong[i];
    }
    o << "<section class=\"card " << (r.exact ? "ok" : "failed")
      << "\"><header><span class=\"pid\">#" << r.index << "</span>"
      << (r.exact ? "<span class=\"badge ok\">solved</span>"
                  : "<span class=\"badge bad\">failed</span>");
    if (!r.exact)
      o << "<span class=\"muted\">" << n_wrong << " wrong cell" << (n_wrong == 1 ? "" : "s")
        << "</span>";
    o << "</header><div class=\"row\"><figure><figcaption>input</figcaption>"
      << render_token_grid(s.kind, r.input, side, TokenGridRole::kInput, nullptr, nullptr)
      << "</figure><figure><figcaption>prediction</figcaption>"
      << render_token_grid(s.kind, r.pred, side, TokenGridRole::kPrediction, &wrong, &r.input)
      << "</figure><figure><figcaption>truth</figcaption>"
      << render_token_grid(s.kind, truth, side, TokenGridRole::kTruth, nullptr, &r.input)
      << "</figure></div></section>";
  }
  o << "</div>";
  return o.str();
}

}  // namespace

int64_t downsample_mean(std::vector<double>& x, std::vector<double>& y, int64_t max_points) {
  const int64_t n = static_cast<int64_t>(x.size());
  if (n <= max_points || max_points <= 0) return 1;
  const int64_t window = (n + max_points - 1) / max_points;
  std::vector<double> xs, ys;
  for (int64_t start = 0; start < n; start += window) {
    double sx = 0, sy = 0;
    int64_t count = 0;
    const int64_t end = std::min(n, start + window);
    for (int64_t i = start; i < end; ++i) {
      if (!std::isfinite(x[i]) || !std::isfinite(y[i])) continue;
      sx += x[i];
      sy += y[i];
      ++count;
    }
    xs.push_back(count ? sx / count : (x[start] + x[end - 1]) / 2);
    ys.push_back(count ? sy / count : kNaN);
  }
  x = std::move(xs);
  y = std::move(ys);
  return window;
}

std::string render_report_page(const std::vector<RunData>& runs, const ReportPageOptions& options) {
  std::ostringstream o;
  o << "<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">"
       "<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">"
    << "<title>" << html_escape(options.title) << "</title><script>" << kHeadScript
    << "</script><style>" << kCss << "</style></head><body>"
    << "<input type=\"checkbox\" id=\"failed-only\" class=\"toggle-input\"><main>";
  o << "<h1>" << html_escape(options.title) << "</h1><p class=\"meta\">" << runs.size() << " run"
    << (runs.size() == 1 ? "" : "s");
  if (!options.generated.empty()) o << " &middot; generated " << html_escape(options.generated);
  o << " &middot; trm-report</p>";
  o << summary_table(runs);

  std::vector<std::string> notes;
  for (const auto& r : runs)
    for (const auto& n : r.notes) notes.push_back(runs.size() > 1 ? r.name + ": " + n : n);
  if (!notes.empty()) {
    o << "<div class=\"notes\"><b>What is missing or was skipped</b><ul>";
    for (const auto& n : notes) o << "<li>" << html_escape(n) << "</li>";
    o << "</ul></div>";
  }

  const bool any_metrics = std::any_of(runs.begin(), runs.end(),
                                       [](const RunData& r) { return !r.metrics.records.empty(); });
  o << "<h2>Training</h2>";
  if (!any_metrics) {
    o << "<p class=\"muted\">No metrics.jsonl records: no training curves.</p>";
  } else {
    o << "<div class=\"charts\">";
    for (const CurveDef& def : curve_defs()) {
      if (std::string(def.kind) == "eval" && !any_run_has(runs, def.kind, def.key)) continue;
      o << chart_figure(def, runs);
    }
    o << "</div>";
  }

  for (const auto& r : runs) {
    if (!r.arc && !r.outputs) continue;
    o << "<h2>Predictions" << (runs.size() > 1 ? ": " + html_escape(r.name) : "") << "</h2>";
    if (r.eval)
      o << "<p class=\"meta\">checkpoint <code>" << html_escape(r.eval->checkpoint) << "</code>"
        << (r.eval->step >= 0 ? " &middot; step " + std::to_string(r.eval->step) : "")
        << (r.eval->weights.empty() ? "" : " &middot; " + html_escape(r.eval->weights) + " weights")
        << "</p>";
    if (r.arc) o << arc_section(r);
    if (r.outputs) o << token_section(r);
  }

  o << "<footer>Written by trm-report from:";
  for (const auto& r : runs) o << " <code>" << html_escape(r.dir) << "</code>";
  o << ". Self-contained: no network access, scripts or fonts are loaded.</footer></main><script>"
    << kEndScript << "</script></body></html>\n";
  return o.str();
}

}  // namespace trm
