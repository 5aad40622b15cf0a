// html_escape and the number formats of the report (see html_text.hpp).
#include "trm/report/html_text.hpp"

#include <cmath>
#include <cstdio>

namespace trm {
namespace {

// printf %g with trailing zeros of the mantissa removed ("2.500e-04" never appears).
std::string trimmed_g(double value, int significant) {
  char buf[64];
  std::snprintf(buf, sizeof(buf), "%.*g", significant, value);
  std::string s(buf);
  const size_t e = s.find('e');
  std::string mantissa = s.substr(0, e);
  std::string exponent = e == std::string::npos ? "" : s.substr(e);
  if (mantissa.find('.') != std::string::npos) {
    while (!mantissa.empty() && mantissa.back() == '0') mantissa.pop_back();
    if (!mantissa.empty() && mantissa.back() == '.') mantissa.pop_back();
  }
  if (mantissa == "-0") mantissa = "0";
  return mantissa + exponent;
}

}  // namespace

std::string html_escape(std::string_view text) {
  std::string out;
  out.reserve(text.size());
  for (char c : text) {
    switch (c) {
      case '&':
        out += "&amp;";
        break;
      case '<':
        out += "&lt;";
        break;
      case '>':
        out += "&gt;";
        break;
      case '"':
        out += "&quot;";
        break;
      case '\'':
        out += "&#39;";
        break;
      default:
        out += c;
    }
  }
  return out;
}

std::string format_number(double value, int significant) {
  if (!std::isfinite(value)) return "n/a";
  return trimmed_g(value, significant);
}

std::string format_tick(double value) {
  if (!std::isfinite(value)) return "n/a";
  const double a = std::fabs(value);
  if (a == 0.0) return "0";
  if (a >= 1e6) return trimmed_g(value / 1e6, 3) + "M";
  if (a >= 1e4) return trimmed_g(value / 1e3, 3) + "k";
  if (a < 1e-3) {
    // 2e-4 rather than 0.0002; the exponent without its leading zero and plus sign.
    char buf[64];
    std::snprintf(buf, sizeof(buf), "%.2e", value);
    std::string s(buf);
    const size_t e = s.find('e');
    std::string mantissa = trimmed_g(std::stod(s.substr(0, e)), 3);
    const int exponent = std::stoi(s.substr(e + 1));
    return mantissa + "e" + std::to_string(exponent);
  }
  return trimmed_g(value, 4);
}

std::string format_percent(double fraction) {
  if (!std::isfinite(fraction)) return "n/a";
  char buf[32];
  std::snprintf(buf, sizeof(buf), "%.1f%%", 100.0 * fraction);
  return buf;
}

}  // namespace trm
