// Resume compatibility: both configs are flattened to "dotted.key" -> printed TOML value and
// compared; arch.* keys and global_batch_size are refused, the rest is reported. Working on the TOML text (rather than
// on TrainConfig fields) keeps this independent of which keys a given trm-dist version has.
#include "trm/ckpt/resume_policy.hpp"

#include <map>
#include <algorithm>
#include <sstream>
#include <string_view>

#include <toml++/toml.h>

#include "trm/common/error.hpp"

namespace trm {
namespace {

void flatten(const toml::table& table, const std::string& prefix,
             std::map<std::string, std::string>& out) {
  for (const auto& [key, node] : table) {
    const std::string name = prefix.empty() ? std::string(key.str())
                                            : prefix + "." + std::string(key.str());
    if (const toml::table* sub = node.as_table()) {
      flatten(*sub, name, out);
    } else {
      std::ostringstream os;
      node.visit([&](const auto& n) { os << n; });
      out[name] = os.str();
    }
  }
}

std::map<std::string, std::string> flatten_text(const std::string& text, const char* which) {
  std::map<std::string, std::string> out;
  try {
    const toml::table root = toml::parse(std::string_view(text), std::string_view(which));
    flatten(root, "", out);
  } catch (const toml::parse_error& e) {
    TRM_FAIL("cannot parse the " << which << " config for the resume check: " << e.description(),
             "the checkpoint's /config is damaged; use --init-from to take its weights only");
  }
  return out;
}

}  // namespace

std::vector<ConfigChange> diff_config_toml(const std::string& saved_toml,
                                           const std::string& current_toml) {
  const auto saved = flatten_text(saved_toml, "checkpoint");
  const auto current = flatten_text(current_toml, "current");
  std::vector<ConfigChange> changes;
  for (const auto& [key, value] : current) {
    auto it = saved.find(key);
    if (it == saved.end())
      changes.push_back({key, "<absent>", value});
    else if (it->second != value)
      changes.push_back({key, it->second, value});
  }
  for (const auto& [key, value] : saved)
    if (!current.count(key)) changes.push_back({key, value, "<absent>"});
  std::sort(changes.begin(), changes.end(),
            [](const ConfigChange& a, const ConfigChange& b) { return a.key < b.key; });
  return changes;
}

bool is_resume_locked_key(const std::string& key) {
  return key.rfind("arch.", 0) == 0 || key == "global_batch_size";
}

std::vector<ConfigChange> check_resume_config(const std::string& saved_toml,
                                              const std::string& current_toml,
                                              const std::string& checkpoint_path) {
  std::vector<ConfigChange> allowed, refused;
  for (auto& change : diff_config_toml(saved_toml, current_toml))
    (is_resume_locked_key(change.key) ? refused : allowed).push_back(change);
  if (!refused.empty()) {
    std::ostringstream os;
    for (size_t i = 0; i < refused.size(); ++i)
      os << (i ? ", " : "") << refused[i].key << " " << refused[i].saved << " -> "
         << refused[i].current;
    TRM_FAIL("cannot resume from " << checkpoint_path << ": the model or batch changed (" << os.str()
                                  << ")",
             "resume with the checkpoint's arch settings, or start a new run that takes only its "
             "weights with --init-from " + checkpoint_path);
  }
  return allowed;
}

void add_data_shape_to_checkpoint(CheckpointContent& content, const DataShape& shape) {
  content.ints["data.seq_len"] = shape.seq_len;
  content.ints["data.vocab_size"] = shape.vocab_size;
  content.ints["data.num_puzzle_identifiers"] = shape.num_puzzle_identifiers;
}

void check_resume_data_shape(const CheckpointContent& content, const DataShape& current,
                             const std::string& checkpoint_path) {
  const DataShape saved{content.int_value("data.seq_len", checkpoint_path),
                        content.int_value("data.vocab_size", checkpoint_path),
                        content.int_value("data.num_puzzle_identifiers", checkpoint_path)};
  std::ostringstream os;
  auto cmp = [&](const char* key, int64_t a, int64_t b) {
    if (a != b) os << (os.tellp() > 0 ? ", " : "") << key << " " << a << " -> " << b;
  };
  cmp("seq_len", saved.seq_len, current.seq_len);
  cmp("vocab_size", saved.vocab_size, current.vocab_size);
  cmp("num_puzzle_identifiers", saved.num_puzzle_identifiers, current.num_puzzle_identifiers);
  TRM_CHECK(os.str().empty(),
            "cannot resume from " << checkpoint_path << ": the dataset shape changed (" << os.str()
                                  << ")",
            "resume with the dataset the checkpoint was trained on, or fine-tune on the new one "
            "with --init-from " + checkpoint_path);
}

std::string describe_changes(const std::vector<ConfigChange>& changes) {
  std::ostringstream os;
  for (const auto& c : changes)
    os << "resume: " << c.key << " changed " << c.saved << " -> " << c.current << " (allowed)\n";
  return os.str();
}

}  // namespace trm
