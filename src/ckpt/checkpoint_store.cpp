// CheckpointStore and the --resume resolution: naming, retention (last K + best), and the search
// for the newest checkpoint that passes its checksum.
#include "trm/ckpt/checkpoint_store.hpp"

#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <iomanip>
#include <sstream>

#include "trm/common/error.hpp"
#include "trm/dist/communicator.hpp"

namespace trm {
namespace fs = std::filesystem;

namespace {

constexpr const char* kBestName = "best.h5";

bool parse_step_name(const std::string& name, int64_t& step) {
  // step_<digits>.h5
  if (name.size() < 9 || name.rfind("step_", 0) != 0) return false;
  if (name.compare(name.size() - 3, 3, ".h5") != 0) return false;
  const std::string digits = name.substr(5, name.size() - 8);
  if (digits.empty() || !std::all_of(digits.begin(), digits.end(), ::isdigit)) return false;
  step = std::stoll(digits);
  return true;
}

bool is_directory(const std::string& path) {
  std::error_code ec;
  return fs::is_directory(path, ec);
}

// Makes `link_path` name the same file as `target`: a hard link when the file system allows it,
// a copy otherwise; atomically replaces an existing link_path.
void point_at(const std::string& target, const std::string& link_path) {
  const std::string tmp = link_path + ".tmp-" + std::to_string(::getpid());
  std::remove(tmp.c_str());
  if (::link(target.c_str(), tmp.c_str()) != 0) {
    std::error_code ec;
    fs::copy_file(target, tmp, fs::copy_options::overwrite_existing, ec);
    TRM_CHECK(!ec, "cannot link or copy " << target << " to " << tmp << ": " << ec.message(),
              "check disk space and permissions of the checkpoint folder");
  }
  if (std::rename(tmp.c_str(), link_path.c_str()) != 0) {
    const int err = errno;
    std::remove(tmp.c_str());
    TRM_FAIL("cannot rename " << tmp << " to " << link_path << ": " << std::strerror(err),
             "check permissions of the checkpoint folder");
  }
}

}  // namespace

std::string checkpoint_file_name(int64_t step) {
  std::ostringstream os;
  os << "step_" << std::setw(9) << std::setfill('0') << step << ".h5";
  return os.str();
}

std::vector<CheckpointEntry> list_checkpoints(const std::string& dir) {
  std::vector<CheckpointEntry> out;
  std::error_code ec;
  if (!fs::is_directory(dir, ec)) return out;
  for (const auto& entry : fs::directory_iterator(dir, ec)) {
    int64_t step = 0;
    if (parse_step_name(entry.path().filename().string(), step))
      out.push_back({entry.path().string(), step});
  }
  std::sort(out.begin(), out.end(),
            [](const CheckpointEntry& a, const CheckpointEntry& b) { return a.step > b.step; });
  return out;
}

CheckpointStore::CheckpointStore(CheckpointStoreOptions options) : options_(std::move(options)) {
  TRM_CHECK(!options_.dir.empty(), "the checkpoint folder is empty",
            "set checkpoint_path in the config");
  TRM_CHECK(options_.keep_last >= 1,
            "checkpoint keep_last is " << options_.keep_last << "; it must be at least 1",
            "set checkpoint_keep_last >= 1");
}

std::string CheckpointStore::best_path() const { return options_.dir + "/" + kBestName; }

std::string CheckpointStore::save(const CheckpointContent& content, int64_t step,
                                  std::optional<double> eval_metric) {
  std::error_code ec;
  fs::create_directories(options_.dir, ec);
  TRM_CHECK(!ec && is_directory(options_.dir),
            "cannot create the checkpoint folder " << options_.dir << ": " << ec.message(),
            "check checkpoint_path and its permissions");

  CheckpointContent full = content;
  full.ints["step"] = step;
  if (eval_metric) full.floats["eval_metric"] = *eval_metric;
  const std::string path = options_.dir + "/" + checkpoint_file_name(step);
  write_checkpoint_file(path, full);

  if (eval_metric) {
    if (!best_loaded_) {
      best_loaded_ = true;
      // The best so far is whatever best.h5 says (it survives restarts); a damaged or missing
      // best.h5 simply loses the comparison.
      try {
        CheckpointReadOptions o;
        o.groups = {"/"};
        o.verify_checksum = false;
        const CheckpointContent best = read_checkpoint_file(best_path(), o);
        auto it = best.floats.find("eval_metric");
        if (it != best.floats.end()) best_metric_ = it->second;
      } catch (const Error&) {
      }
    }
    const bool better = !best_metric_ || (options_.higher_is_better ? *eval_metric > *best_metric_
                                                                     : *eval_metric < *best_metric_);
    if (better) {
      point_at(path, best_path());
      best_metric_ = eval_metric;
    }
  }

  // Temporary files of writes killed half-way (".step_*.h5.tmp-<pid>", never under a final name).
  for (const auto& entry : fs::directory_iterator(options_.dir, ec)) {
    const std::string name = entry.path().filename().string();
    if (name.rfind(".step_", 0) == 0 && name.find(".h5.tmp-") != std::string::npos)
      std::remove(entry.path().c_str());
  }

  // Retention: the newest keep_last step files; best.h5 is its own link and survives pruning.
  const std::vector<CheckpointEntry> all = list_checkpoints(options_.dir);
  for (size_t i = size_t(options_.keep_last); i < all.size(); ++i) std::remove(all[i].path.c_str());
  return path;
}

std::optional<std::string> find_latest_valid_checkpoint(const std::string& dir,
                                                        std::ostream& warnings) {
  for (const CheckpointEntry& entry : list_checkpoints(dir)) {
    const std::string problem = checkpoint_file_problem(entry.path);
    if (problem.empty()) return entry.path;
    warnings << "warning: skipping damaged checkpoint " << entry.path << ": " << problem << "\n";
  }
  return std::nullopt;
}

std::optional<std::string> resolve_resume_path(const std::string& resume_arg,
                                               const std::string& checkpoint_dir,
                                               std::ostream& log) {
  if (resume_arg.empty()) return std::nullopt;
  if (resume_arg == "auto") {
    auto latest = find_latest_valid_checkpoint(checkpoint_dir, log);
    if (!latest) log << "resume: no valid checkpoint in " << checkpoint_dir << "; starting fresh\n";
    return latest;
  }
  if (is_directory(resume_arg)) {
    auto latest = find_latest_valid_checkpoint(resume_arg, log);
    TRM_CHECK(latest.has_value(), "--resume " << resume_arg << ": no valid checkpoint in the folder",
              "name a checkpoint file, or use --resume auto to start fresh when there is none");
    return latest;
  }
  const std::string problem = checkpoint_file_problem(resume_arg);
  TRM_CHECK(problem.empty(), "--resume " << resume_arg << ": " << problem,
            "use --resume auto to take the newest valid checkpoint instead");
  return resume_arg;
}

std::optional<std::string> agree_resume_path(const std::string& resume_arg,
                                             const std::string& checkpoint_dir,
                                             Communicator& comm, std::ostream& log) {
  // Message: "n" (no checkpoint), "p<path>" or "e<message>\x1f<hint>".
  std::string message;
  if (comm.rank() == 0) {
    try {
      const auto path = resolve_resume_path(resume_arg, checkpoint_dir, log);
      message = path ? "p" + *path : "n";
    } catch (const Error& e) {
      message = "e" + e.message() + "\x1f" + e.hint();
    }
  }
  comm.broadcast_string(message, 0);
  TRM_CHECK(!message.empty(), "resume: no answer from rank 0", "report this as a bug");
  if (message[0] == 'e') {
    const size_t nl = message.find('\x1f');
    TRM_FAIL(message.substr(1, nl - 1), message.substr(nl + 1));
  }
  if (message[0] == 'n') return std::nullopt;
  return message.substr(1);
}

}  // namespace trm
