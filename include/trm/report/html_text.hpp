// Text helpers of trm-report's HTML and SVG: escaping of text and attribute values, and short
// number formats for tick labels and tables (NaN and infinities print as "n/a").
#pragma once

#include <string>
#include <string_view>

namespace trm {

// Escapes & < > " ' so the result is safe both as element text and inside a quoted attribute.
std::string html_escape(std::string_view text);

// At most `significant` significant digits, trailing zeros dropped: 0.5, 12.25, 3e-4, 1.5e+06.
std::string format_number(double value, int significant = 4);

// Tick labels: 0, 0.25, 500, 12k, 1.5M, 2e-4 (compact, no trailing zeros).
std::string format_tick(double value);

// A fraction as a percentage with one decimal: 0.9375 -> "93.8%".
std::string format_percent(double fraction);

}  // namespace trm
