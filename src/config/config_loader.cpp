// The TOML <-> TrainConfig mapping. One list of fields (visit_fields) drives reading, unknown-key
// detection and printing, so the three can never disagree about a name. Overrides are merged into
// the TOML tree first and then read exactly like file contents.
#include "trm/config/config_loader.hpp"

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <fstream>
#include <set>
#include <sstream>
#include <utility>

#include <toml++/toml.h>

#include "trm/common/error.hpp"

namespace trm {
namespace {

template <class E>
using EnumNames = std::vector<std::pair<const char*, E>>;

const EnumNames<DeviceKind> kDeviceNames = {
    {"auto", DeviceKind::kAuto}, {"cpu", DeviceKind::kCpu}, {"cuda", DeviceKind::kCuda}};
const EnumNames<NanPolicy> kNanPolicyNames = {{"stop", NanPolicy::kStop}, {"skip", NanPolicy::kSkip}};
const EnumNames<DebugFailKind> kDebugFailNames = {{"throw", DebugFailKind::kThrow},
                                                  {"kill", DebugFailKind::kKill}};
const EnumNames<PosEncoding> kPosNames = {
    {"rope", PosEncoding::kRope}, {"learned", PosEncoding::kLearned}, {"none", PosEncoding::kNone}};
const EnumNames<ForwardDtype> kDtypeNames = {{"auto", ForwardDtype::kAuto},
                                             {"float32", ForwardDtype::kFloat32},
                                             {"bfloat16", ForwardDtype::kBFloat16}};
const EnumNames<LossType> kLossNames = {
    {"stablemax_cross_entropy", LossType::kStablemaxCrossEntropy},
    {"softmax_cross_entropy", LossType::kSoftmaxCrossEntropy}};

const EnumNames<Recursion> kRecursionNames = {{"trm", Recursion::kTrm},
                                               {"hrm", Recursion::kHrm},
                                               {"direct", Recursion::kDirect},
                                               {"transformer", Recursion::kTransformer}};
const EnumNames<GradientMode> kGradientNames = {{"full", GradientMode::kFull}, {"one_step", GradientMode::kOneStep}};
const EnumNames<Networks> kNetworksNames = {{"shared", Networks::kShared}, {"separate", Networks::kSeparate}};
const EnumNames<Latents> kLatentsNames = {
    {"yz", Latents::kYZ}, {"single_z", Latents::kSingleZ}, {"multi_z", Latents::kMultiZ}};

// The single list of keys. C is TrainConfig or const TrainConfig; V is a reader or a writer.
template <class C, class V>
void visit_fields(C& c, V& v) {
  v.field("run_name", c.run_name);
  v.field("data_paths", c.data_paths);
  v.field("data_paths_test", c.data_paths_test);
  v.field("checkpoint_path", c.checkpoint_path);
  v.field("metrics_path", c.metrics_path);
  v.field("load_checkpoint", c.load_checkpoint);
  v.field("checkpoint_keep_last", c.checkpoint_keep_last);
  v.field("checkpoint_interval_steps", c.checkpoint_interval_steps);
  v.enum_field("nan_policy", c.nan_policy, kNanPolicyNames);
  v.field("debug_fail_at_step", c.debug_fail_at_step);
  v.field("debug_fail_rank", c.debug_fail_rank);
  v.enum_field("debug_fail_kind", c.debug_fail_kind, kDebugFailNames);
  v.field("debug_nan_at_step", c.debug_nan_at_step);
  v.field("global_batch_size", c.global_batch_size);
  v.field("epochs", c.epochs);
  v.field("eval_interval", c.eval_interval);
  v.field("min_eval_interval", c.min_eval_interval);
  v.field("checkpoint_every_eval", c.checkpoint_every_eval);
  v.field("max_steps", c.max_steps);
  v.field("log_interval", c.log_interval);
  v.field("lr", c.lr);
  v.field("lr_min_ratio", c.lr_min_ratio);
  v.field("lr_warmup_steps", c.lr_warmup_steps);
  v.field("beta1", c.beta1);
  v.field("beta2", c.beta2);
  v.field("weight_decay", c.weight_decay);
  v.field("puzzle_emb_lr", c.puzzle_emb_lr);
  v.field("puzzle_emb_weight_decay", c.puzzle_emb_weight_decay);
  v.field("ema", c.ema);
  v.field("ema_rate", c.ema_rate);
  v.field("freeze_weights", c.freeze_weights);
  v.field("seed", c.seed);
  v.field("threads", c.threads);
  v.enum_field("device", c.device, kDeviceNames);
  v.field("eval_batch_size", c.eval_batch_size);

  auto& a = c.arch;
  v.field("arch.hidden_size", a.hidden_size);
  v.field("arch.num_heads", a.num_heads);
  v.field("arch.expansion", a.expansion);
  v.field("arch.H_cycles", a.H_cycles);
  v.field("arch.L_cycles", a.L_cycles);
  v.field("arch.H_layers", a.H_layers);
  v.field("arch.L_layers", a.L_layers);
  v.enum_field("arch.pos_encodings", a.pos_encodings, kPosNames);
  v.field("arch.mlp_t", a.mlp_t);
  v.field("arch.puzzle_emb_ndim", a.puzzle_emb_ndim);
  v.field("arch.puzzle_emb_len", a.puzzle_emb_len);
  v.field("arch.halt_max_steps", a.halt_max_steps);
  v.field("arch.halt_exploration_prob", a.halt_exploration_prob);
  v.field("arch.no_ACT_continue", a.no_ACT_continue);
  v.field("arch.rms_norm_eps", a.rms_norm_eps);
  v.field("arch.rope_theta", a.rope_theta);
  v.enum_field("arch.forward_dtype", a.forward_dtype, kDtypeNames);
  v.enum_field("arch.loss_type", a.loss_type, kLossNames);
  v.enum_field("arch.recursion", a.recursion, kRecursionNames);
  v.enum_field("arch.gradient", a.gradient, kGradientNames);
  v.enum_field("arch.networks", a.networks, kNetworksNames);
  v.enum_field("arch.latents", a.latents, kLatentsNames);
}

std::vector<std::string> split_dotted(const std::string& key) {
  std::vector<std::string> parts;
  std::string part;
  std::istringstream in(key);
  while (std::getline(in, part, '.')) parts.push_back(part);
  return parts;
}

std::string type_name(const toml::node& node) {
  switch (node.type()) {
    case toml::node_type::string: return "a string";
    case toml::node_type::integer: return "an integer";
    case toml::node_type::floating_point: return "a float";
    case toml::node_type::boolean: return "a boolean";
    case toml::node_type::array: return "an array";
    case toml::node_type::table: return "a table";
    default: return "a date/time";
  }
}

std::string show(const toml::node& node) {
  std::ostringstream os;
  node.visit([&](const auto& n) { os << n; });
  return os.str();
}

size_t edit_distance(const std::string& a, const std::string& b) {
  std::vector<size_t> prev(b.size() + 1), cur(b.size() + 1);
  for (size_t j = 0; j <= b.size(); ++j) prev[j] = j;
  for (size_t i = 1; i <= a.size(); ++i) {
    cur[0] = i;
    for (size_t j = 1; j <= b.size(); ++j) {
      const size_t sub = prev[j - 1] + (std::tolower(a[i - 1]) == std::tolower(b[j - 1]) ? 0 : 1);
      cur[j] = std::min({prev[j] + 1, cur[j - 1] + 1, sub});
    }
    std::swap(prev, cur);
  }
  return prev[b.size()];
}

std::string last_component(const std::string& key) {
  const size_t dot = key.rfind('.');
  return dot == std::string::npos ? key : key.substr(dot + 1);
}

// The known key closest to `key`: same last component in another table, else smallest edit
// distance within a third of the length.
std::string suggest(const std::string& key, const std::vector<std::string>& known) {
  for (const auto& k : known)
    if (last_component(k) == last_component(key)) return k;
  std::string best;
  size_t best_d = std::max<size_t>(2, key.size() / 3) + 1;
  for (const auto& k : known) {
    const size_t d = std::min(edit_distance(key, k), edit_distance(last_component(key), last_component(k)) +
                                                         (key.find('.') == k.find('.') ? 0 : 1));
    if (d < best_d) best_d = d, best = k;
  }
  return best;
}

// Collects the names of all fields (for unknown-key checks and suggestions).
struct NameCollector {
  std::vector<std::string> names;
  template <class T>
  void field(const char* name, const T&) { names.emplace_back(name); }
  template <class E>
  void enum_field(const char* name, const E&, const EnumNames<E>&) { names.emplace_back(name); }
};

class Reader {
 public:
  Reader(const toml::table& root, std::string source) : root_(root), source_(std::move(source)) {}

  void field(const char* name, std::string& out) {
    if (const toml::node* n = find(name)) {
      if (!n->is_string()) wrong_type(name, *n, "a string");
      out = n->as_string()->get();
    }
  }
  void field(const char* name, std::vector<std::string>& out) {
    const toml::node* n = find(name);
    if (!n) return;
    if (n->is_string()) {
      out = {n->as_string()->get()};
      return;
    }
    if (!n->is_array()) wrong_type(name, *n, "an array of strings");
    out.clear();
    for (const toml::node& e : *n->as_array()) {
      if (!e.is_string()) wrong_type(name, *n, "an array of strings");
      out.push_back(e.as_string()->get());
    }
  }
  void field(const char* name, int64_t& out) {
    if (const toml::node* n = find(name)) {
      if (!n->is_integer()) wrong_type(name, *n, "an integer");
      out = n->as_integer()->get();
    }
  }
  void field(const char* name, uint64_t& out) {
    if (const toml::node* n = find(name)) {
      if (!n->is_integer() || n->as_integer()->get() < 0) wrong_type(name, *n, "a non-negative integer");
      out = static_cast<uint64_t>(n->as_integer()->get());
    }
  }
  void field(const char* name, double& out) {
    if (const toml::node* n = find(name)) {
      if (n->is_integer()) out = static_cast<double>(n->as_integer()->get());
      else if (n->is_floating_point()) out = n->as_floating_point()->get();
      else wrong_type(name, *n, "a number");
    }
  }
  void field(const char* name, bool& out) {
    if (const toml::node* n = find(name)) {
      if (!n->is_boolean()) wrong_type(name, *n, "a boolean (true or false)");
      out = n->as_boolean()->get();
    }
  }
  template <class E>
  void enum_field(const char* name, E& out, const EnumNames<E>& names) {
    const toml::node* n = find(name);
    if (!n) return;
    std::string choices;
    for (const auto& [s, e] : names) choices += (choices.empty() ? "" : ", ") + std::string(s);
    if (!n->is_string()) wrong_type(name, *n, "one of the strings " + choices);
    const std::string& got = n->as_string()->get();
    for (const auto& [s, e] : names)
      if (got == s) {
        out = e;
        return;
      }
    TRM_FAIL(source_ << ": key '" << name << "' is \"" << got << "\", which is not one of " << choices,
             "use one of the listed values");
  }

 private:
  const toml::node* find(const char* name) const {
    const toml::node* n = &root_;
    for (const auto& part : split_dotted(name)) {
      if (!n->is_table()) return nullptr;
      n = n->as_table()->get(part);
      if (!n) return nullptr;
    }
    return n;
  }
  [[noreturn]] void wrong_type(const char* name, const toml::node& n, const std::string& want) const {
    TRM_FAIL(source_ << ": key '" << name << "' must be " << want << ", got " << type_name(n) << " ("
                     << show(n) << ")",
             "fix the value in the file or in the key=value override");
  }

  const toml::table& root_;
  std::string source_;
};

class Writer {
 public:
  toml::table root;

  void field(const char* name, const std::string& v) { put(name, v); }
  void field(const char* name, const std::vector<std::string>& v) {
    toml::array arr;
    for (const auto& s : v) arr.push_back(s);
    put(name, std::move(arr));
  }
  void field(const char* name, int64_t v) { put(name, v); }
  void field(const char* name, uint64_t v) { put(name, static_cast<int64_t>(v)); }
  void field(const char* name, double v) { put(name, v); }
  void field(const char* name, bool v) { put(name, v); }
  template <class E>
  void enum_field(const char* name, const E& v, const EnumNames<E>& names) {
    for (const auto& [s, e] : names)
      if (e == v) put(name, std::string(s));
  }

 private:
  template <class T>
  void put(const char* name, T&& value) {
    auto parts = split_dotted(name);
    toml::table* t = &root;
    for (size_t i = 0; i + 1 < parts.size(); ++i) {
      if (!t->contains(parts[i])) t->insert(parts[i], toml::table{});
      t = t->get(parts[i])->as_table();
    }
    t->insert_or_assign(parts.back(), std::forward<T>(value));
  }
};

void check_unknown_keys(const toml::table& table, const std::string& prefix,
                        const std::vector<std::string>& known, const std::string& source) {
  for (const auto& [k, node] : table) {
    const std::string key = prefix + std::string(k.str());
    const bool is_field = std::find(known.begin(), known.end(), key) != known.end();
    const bool is_section = std::any_of(known.begin(), known.end(), [&](const std::string& n) {
      return n.rfind(key + ".", 0) == 0;
    });
    if (is_section && node.is_table()) {
      check_unknown_keys(*node.as_table(), key + ".", known, source);
      continue;
    }
    if (is_field) continue;
    if (is_section)
      TRM_FAIL(source << ": '" << key << "' must be a table ([" << key << "]), got " << type_name(node),
               "write it as a [" + key + "] section");
    const std::string near = suggest(key, known);
    TRM_FAIL(source << ": unknown key '" << key << "'"
                    << (near.empty() ? std::string() : "; did you mean '" + near + "'?"),
             "see docs/CONFIG.md for the list of keys");
  }
}

// TOML text is UTF-8; a bare override word that is not would print (to_toml) as other text.
bool is_utf8(const std::string& s) {
  size_t i = 0;
  while (i < s.size()) {
    const unsigned char c = static_cast<unsigned char>(s[i]);
    const int extra = c < 0x80 ? 0 : (c >> 5) == 0x6 ? 1 : (c >> 4) == 0xE ? 2 : (c >> 3) == 0x1E ? 3 : -1;
    if (extra < 0 || i + static_cast<size_t>(extra) >= s.size() + (extra == 0)) return false;
    uint32_t cp = extra == 0 ? c : c & (0x3F >> extra);
    for (int k = 1; k <= extra; ++k) {
      const unsigned char cc = static_cast<unsigned char>(s[i + k]);
      if ((cc >> 6) != 0x2) return false;
      cp = (cp << 6) | (cc & 0x3F);
    }
    const uint32_t min_cp[] = {0, 0x80, 0x800, 0x10000};
    if (cp < min_cp[extra] || cp > 0x10FFFF || (cp >= 0xD800 && cp <= 0xDFFF)) return false;
    i += static_cast<size_t>(extra) + 1;
  }
  return true;
}

void apply_override(toml::table& root, const std::string& override_text, const std::string& source) {
  const size_t eq = override_text.find('=');
  TRM_CHECK(eq != std::string::npos && eq > 0,
            "override '" << override_text << "' is not of the form key=value",
            "write overrides like arch.L_cycles=4 or lr=3e-4");
  const std::string key = override_text.substr(0, eq);
  const std::string value = override_text.substr(eq + 1);
  toml::table holder;  // {v = <value>}
  try {
    holder = toml::parse("v = " + value);
  } catch (const toml::parse_error&) {
    TRM_CHECK(is_utf8(value), source << ": override '" << key << "': the value is not valid UTF-8",
              "write the value in UTF-8 (TOML text is UTF-8)");
    holder = toml::table{};
    holder.insert("v", value);  // a bare word: take it as a string
  }
  const toml::node* parsed = holder.get("v");
  auto parts = split_dotted(key);
  toml::table* t = &root;
  for (size_t i = 0; i + 1 < parts.size(); ++i) {
    if (!t->contains(parts[i])) t->insert(parts[i], toml::table{});
    toml::node* next = t->get(parts[i]);
    TRM_CHECK(next->is_table(), source << ": override '" << key << "': '" << parts[i] << "' is not a table",
              "check the dotted key");
    t = next->as_table();
  }
  parsed->visit([&](const auto& n) { t->insert_or_assign(parts.back(), n); });
}

template <class T>
void check_range(bool ok, const std::string& source, const char* key, const T& value, const char* want) {
  TRM_CHECK(ok, source << ": key '" << key << "' = " << value << " is out of range; it must be " << want,
            "fix the value in the file or in the key=value override");
}

}  // namespace

TrainConfig parse_train_config(const std::string& toml_text, const std::string& source_name,
                               const std::vector<std::string>& overrides) {
  toml::table root;
  try {
    root = toml::parse(toml_text, source_name);
  } catch (const toml::parse_error& e) {
    const auto& where = e.source().begin;
    TRM_FAIL(source_name << ":" << where.line << ":" << where.column << ": TOML syntax error: "
                         << e.description(),
             "fix the TOML syntax at that position");
  }
  for (const auto& o : overrides) apply_override(root, o, source_name);

  NameCollector names;
  TrainConfig config;
  visit_fields(config, names);
  check_unknown_keys(root, "", names.names, source_name);

  Reader reader(root, source_name);
  visit_fields(config, reader);
  config.source_path = source_name;
  validate_train_config(config);
  return config;
}

TrainConfig load_train_config(const std::string& path, const std::vector<std::string>& overrides) {
  std::ifstream in(path);
  TRM_CHECK(in.good(), "cannot open config file '" << path << "'",
            "pass an existing file with --config (see configs/)");
  std::stringstream text;
  text << in.rdbuf();
  return parse_train_config(text.str(), path, overrides);
}

void validate_train_config(const TrainConfig& c) {
  const std::string& s = c.source_path;
  TRM_CHECK(!c.data_paths.empty(), s << ": key 'data_paths' is empty; no dataset to train on",
            "set data_paths = [\"datasets/<name>\"] (a folder or .h5 file written by trm-convert)");
  check_range(c.global_batch_size >= 1, s, "global_batch_size", c.global_batch_size, ">= 1");
  check_range(c.epochs >= 1, s, "epochs", c.epochs, ">= 1");
  check_range(c.eval_interval >= 0, s, "eval_interval", c.eval_interval, ">= 0 (0: only at the end)");
  TRM_CHECK(c.eval_interval == 0 || c.epochs % c.eval_interval == 0,
            s << ": key 'eval_interval' = " << c.eval_interval << " does not divide epochs = " << c.epochs,
            "choose an eval_interval that divides epochs (as the reference requires)");
  check_range(c.min_eval_interval >= 0, s, "min_eval_interval", c.min_eval_interval, ">= 0");
  check_range(c.max_steps >= 0, s, "max_steps", c.max_steps, ">= 0 (0: no limit)");
  check_range(c.log_interval >= 1, s, "log_interval", c.log_interval, ">= 1");
  check_range(c.checkpoint_keep_last >= 1, s, "checkpoint_keep_last", c.checkpoint_keep_last, ">= 1");
  check_range(c.checkpoint_interval_steps >= 0, s, "checkpoint_interval_steps",
              c.checkpoint_interval_steps, ">= 0 (0: only at evaluations)");
  check_range(c.debug_fail_at_step >= 0, s, "debug_fail_at_step", c.debug_fail_at_step, ">= 0");
  check_range(c.debug_fail_rank >= 0, s, "debug_fail_rank", c.debug_fail_rank, ">= 0");
  check_range(c.debug_nan_at_step >= 0, s, "debug_nan_at_step", c.debug_nan_at_step, ">= 0");
  check_range(c.lr >= 0 && std::isfinite(c.lr), s, "lr", c.lr, ">= 0");
  check_range(c.lr_min_ratio >= 0 && c.lr_min_ratio <= 1, s, "lr_min_ratio", c.lr_min_ratio, "in [0, 1]");
  check_range(c.lr_warmup_steps >= 0, s, "lr_warmup_steps", c.lr_warmup_steps, ">= 0");
  check_range(c.beta1 >= 0 && c.beta1 < 1, s, "beta1", c.beta1, "in [0, 1)");
  check_range(c.beta2 >= 0 && c.beta2 < 1, s, "beta2", c.beta2, "in [0, 1)");
  check_range(c.weight_decay >= 0, s, "weight_decay", c.weight_decay, ">= 0");
  check_range(c.puzzle_emb_lr >= 0, s, "puzzle_emb_lr", c.puzzle_emb_lr, ">= 0");
  check_range(c.puzzle_emb_weight_decay >= 0, s, "puzzle_emb_weight_decay", c.puzzle_emb_weight_decay, ">= 0");
  check_range(c.ema_rate >= 0 && c.ema_rate <= 1, s, "ema_rate", c.ema_rate, "in [0, 1]");
  check_range(c.threads >= 0, s, "threads", c.threads, ">= 0 (0: LibTorch's default)");
  check_range(c.eval_batch_size >= 0, s, "eval_batch_size", c.eval_batch_size, ">= 0 (0: global_batch_size)");
  check_range(c.seed <= static_cast<uint64_t>(INT64_MAX), s, "seed", c.seed, "<= 2^63-1");

  const ArchConfig& a = c.arch;
  check_range(a.hidden_size >= 1, s, "arch.hidden_size", a.hidden_size, ">= 1");
  check_range(a.num_heads >= 1, s, "arch.num_heads", a.num_heads, ">= 1");
  // head_dim = hidden_size // num_heads, as in the reference (its transformer baseline runs 12
  // heads on hidden 512); RoPE rotates pairs of a head, so head_dim must then be even.
  TRM_CHECK(a.mlp_t || a.num_heads <= a.hidden_size,
            s << ": arch.num_heads = " << a.num_heads << " exceeds arch.hidden_size = " << a.hidden_size,
            "choose num_heads <= hidden_size (head_dim = hidden_size // num_heads)");
  TRM_CHECK(a.mlp_t || a.pos_encodings != PosEncoding::kRope || (a.hidden_size / a.num_heads) % 2 == 0,
            s << ": arch.hidden_size = " << a.hidden_size << " with arch.num_heads = " << a.num_heads
              << " gives the odd head_dim " << a.hidden_size / a.num_heads << ", which RoPE cannot rotate",
            "choose num_heads so that hidden_size // num_heads is even");
  check_range(a.expansion > 0, s, "arch.expansion", a.expansion, "> 0");
  check_range(a.H_cycles >= 1, s, "arch.H_cycles", a.H_cycles, ">= 1");
  check_range(a.L_cycles >= 1, s, "arch.L_cycles", a.L_cycles, ">= 1");
  check_range(a.H_layers >= 0, s, "arch.H_layers", a.H_layers, ">= 0");
  check_range(a.L_layers >= 1, s, "arch.L_layers", a.L_layers, ">= 1");
  check_range(a.puzzle_emb_ndim >= -1, s, "arch.puzzle_emb_ndim", a.puzzle_emb_ndim,
              ">= 0, or -1 for hidden_size");
  check_range(a.puzzle_emb_len >= 0, s, "arch.puzzle_emb_len", a.puzzle_emb_len, ">= 0");
  check_range(a.halt_max_steps >= 1, s, "arch.halt_max_steps", a.halt_max_steps, ">= 1");
  check_range(a.halt_exploration_prob >= 0 && a.halt_exploration_prob <= 1, s, "arch.halt_exploration_prob",
              a.halt_exploration_prob, "in [0, 1]");
  check_range(a.rms_norm_eps > 0, s, "arch.rms_norm_eps", a.rms_norm_eps, "> 0");
  check_range(a.rope_theta > 0, s, "arch.rope_theta", a.rope_theta, "> 0");
  // The variant keys (docs/ABLATIONS.md): gradient, networks and latents modify TRM; HRM fixes
  // its own structure (two networks, 1-step gradient, Q-learning halting); direct and
  // transformer are one call per supervision step.
  TRM_CHECK(a.recursion == Recursion::kTrm ||
                (a.gradient == GradientMode::kFull && a.networks == Networks::kShared &&
                 a.latents == Latents::kYZ),
            s << ": arch.gradient, arch.networks and arch.latents modify recursion = \"trm\" only",
            "recursion = \"hrm\" always has two networks and the 1-step gradient, \"direct\" and "
            "\"transformer\" make one call per step; drop those keys");
  TRM_CHECK(a.recursion != Recursion::kHrm || !a.no_ACT_continue,
            s << ": arch.recursion = \"hrm\" with arch.no_ACT_continue = true",
            "HRM halts by Q-learning (q_halt > q_continue): set arch.no_ACT_continue = false");
  TRM_CHECK(a.recursion != Recursion::kDirect || a.halt_max_steps == 1,
            s << ": arch.recursion = \"direct\" with arch.halt_max_steps = " << a.halt_max_steps,
            "direct prediction is one supervision step: set arch.halt_max_steps = 1");
  TRM_CHECK(a.latents != Latents::kSingleZ || a.networks == Networks::kShared,
            s << ": arch.latents = \"single_z\" with arch.networks = \"separate\"",
            "a single latent has no y update for a second network; use networks = \"shared\"");
  TRM_CHECK(a.latents != Latents::kMultiZ || a.L_cycles <= kMultiZCount,
            s << ": arch.latents = \"multi_z\" with arch.L_cycles = " << a.L_cycles
              << ": z update i of a cycle writes latent i of " << kMultiZCount,
            "set arch.L_cycles <= 6 (the reference's multi-scale z runs n = 6: each latent once per cycle)");
  const int64_t ndim = a.resolved_puzzle_emb_ndim();
  TRM_CHECK(a.puzzle_emb_len == 0 || ndim <= a.puzzle_emb_len * a.hidden_size,
            s << ": arch.puzzle_emb_ndim = " << ndim << " does not fit in arch.puzzle_emb_len = "
              << a.puzzle_emb_len << " rows of hidden_size " << a.hidden_size,
            "raise puzzle_emb_len, or set it to 0 to derive it");
  TRM_CHECK(!(c.freeze_weights && ndim == 0),
            s << ": freeze_weights = true with arch.puzzle_emb_ndim = 0 leaves nothing to train",
            "enable the puzzle embedding or set freeze_weights = false");
}

void validate_for_world(const TrainConfig& c, int world_size) {
  TRM_CHECK(world_size >= 1 && c.global_batch_size % world_size == 0,
            c.source_path << ": global_batch_size = " << c.global_batch_size
                          << " is not divisible by the world size " << world_size,
            "choose a global_batch_size that is a multiple of the number of ranks (mpirun -np)");
  const int64_t eval_batch = c.eval_batch_size > 0 ? c.eval_batch_size : c.global_batch_size;
  TRM_CHECK(eval_batch % world_size == 0,
            c.source_path << ": eval_batch_size = " << eval_batch << " is not divisible by the world size "
                          << world_size,
            "choose an eval_batch_size that is a multiple of the number of ranks");
}

namespace {

// Shortest decimal text that reads back to exactly `v` (1e-4, not 0.00010000000000000000479).
std::string shortest_double(double v) {
  for (int precision = 1; precision <= 17; ++precision) {
    std::ostringstream os;
    os.precision(precision);
    os << v;
    if (std::stod(os.str()) == v) {
      std::string text = os.str();
      if (text.find_first_of(".eEni") == std::string::npos) text += ".0";  // keep it a TOML float
      return text;
    }
  }
  return std::to_string(v);
}

void print_table(std::ostream& os, const toml::table& table, const std::string& prefix) {
  // Plain keys first, then sub-tables as [section] blocks (TOML requires that order).
  for (const auto& [k, node] : table) {
    if (node.is_table()) continue;
    os << k.str() << " = ";
    if (node.is_floating_point()) os << shortest_double(node.as_floating_point()->get());
    else node.visit([&](const auto& n) { os << n; });
    os << "\n";
  }
  for (const auto& [k, node] : table) {
    if (!node.is_table()) continue;
    const std::string name = prefix + std::string(k.str());
    os << "\n[" << name << "]\n";
    print_table(os, *node.as_table(), name + ".");
  }
}

}  // namespace

std::string to_toml(const TrainConfig& config) {
  Writer writer;
  visit_fields(config, writer);
  std::ostringstream os;
  os << "# trm-dist resolved config";
  if (!config.source_path.empty()) os << " (from " << config.source_path << ")";
  os << "\n";
  print_table(os, writer.root, "");
  return os.str();
}

bool operator==(const ArchConfig& a, const ArchConfig& b) {
  TrainConfig x, y;
  x.arch = a;
  y.arch = b;
  return x == y;
}

bool operator==(const TrainConfig& a, const TrainConfig& b) {
  // Equal exactly when every key has the same value (source_path is not a key).
  Writer wa, wb;
  visit_fields(a, wa);
  visit_fields(b, wb);
  return wa.root == wb.root;
}

}  // namespace trm
