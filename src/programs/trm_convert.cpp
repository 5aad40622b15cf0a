// trm-convert: offline conversion of ARC JSON, Sudoku/Maze CSVs or generated puzzles into the
// HDF5 dataset layout of datasets/SCHEMA.md. Thin main over trm_data: parse the subcommand's
// flags, run the converter (progress bar on stderr), print a summary. Exit codes: 0 success,
// 1 bad input or failed conversion (nothing is left at --output), 2 bad command line.
#include <unistd.h>

#include <cstdio>
#include <cstdlib>
#include <iostream>
#include <map>
#include <set>
#include <string>
#include <vector>

#include "trm/common/error.hpp"
#include "trm/data/arc_converter.hpp"
#include "trm/data/maze.hpp"
#include "trm/data/sudoku.hpp"

namespace {

constexpr int kExitInput = 1;
constexpr int kExitUsage = 2;

const char* kUsage = R"(usage: trm-convert <arc|sudoku|maze> [options] --output DIR

common options:
  --output DIR        dataset directory to create (written to DIR.tmp-<pid>, renamed at the end)
  --force             replace DIR if it exists
  --shards N          shard files per split (default 1)
  --seed S            random seed
  --threads T         worker threads (default 2)
  --chunk-rows R      examples per HDF5 chunk (default 32)
  --compression L     deflate level 0..9 (default 1)
  --quiet             no progress bar

arc:     --input-prefix PATH --subsets training evaluation concept   (Kaggle files PATH_<subset>_*.json)
         | --input-dirs DIR...                                       (directories of <id>.json)
         --test-set NAME...   subsets whose test pairs form the test split (default: evaluation)
         --num-aug N (1000)   --seed (42)   --puzzle-identifiers-start K (1)   --puzzles ID...
sudoku:  --train-csv FILE --test-csv FILE [--subsample N] [--min-difficulty R] [--num-aug N]
         | --generate N --size {4,6,9} (--blanks K | --givens G) [--test M] [--num-aug N]
maze:    --train-csv FILE --test-csv FILE [--subsample N] [--aug]
         | --generate N --size S [--min-path-length L] [--test M] [--aug]
)";

struct UsageError : std::runtime_error {
  using std::runtime_error::runtime_error;
};

// Flags: name -> values (empty for switches). Values run until the next "--name".
using Flags = std::map<std::string, std::vector<std::string>>;

Flags parse_flags(int argc, char** argv, int first, const std::set<std::string>& switches,
                  const std::set<std::string>& single, const std::set<std::string>& multi) {
  Flags flags;
  for (int i = first; i < argc;) {
    const std::string arg = argv[i];
    if (arg.rfind("--", 0) != 0) throw UsageError("unexpected argument '" + arg + "'");
    const std::string name = arg.substr(2);
    if (flags.count(name)) throw UsageError("--" + name + " given twice");
    ++i;
    std::vector<std::string> values;
    while (i < argc && std::string(argv[i]).rfind("--", 0) != 0) values.push_back(argv[i++]);
    if (switches.count(name)) {
      if (!values.empty()) throw UsageError("--" + name + " takes no value");
    } else if (single.count(name)) {
      if (values.size() != 1) throw UsageError("--" + name + " takes exactly one value");
    } else if (multi.count(name)) {
      if (values.empty()) throw UsageError("--" + name + " needs at least one value");
    } else {
      throw UsageError("unknown option --" + name);
    }
    flags[name] = values;
  }
  return flags;
}

int64_t int_flag(const Flags& f, const std::string& name, int64_t fallback) {
  auto it = f.find(name);
  if (it == f.end()) return fallback;
  const std::string& v = it->second.front();
  try {
    size_t used = 0;
    const long long x = std::stoll(v, &used);
    if (used != v.size()) throw std::invalid_argument(v);
    return x;
  } catch (const std::logic_error&) {
    throw UsageError("--" + name + " expects an integer, got '" + v + "'");
  }
}
std::string str_flag(const Flags& f, const std::string& name, const std::string& fallback = "") {
  auto it = f.find(name);
  return it == f.end() ? fallback : it->second.front();
}
std::vector<std::string> list_flag(const Flags& f, const std::string& name) {
  auto it = f.find(name);
  return it == f.end() ? std::vector<std::string>{} : it->second;
}

const std::set<std::string> kCommonSingle = {"output", "shards", "seed", "threads", "chunk-rows", "compression"};
const std::set<std::string> kCommonSwitches = {"force", "quiet"};

trm::DatasetWriterOptions writer_options(const Flags& f) {
  trm::DatasetWriterOptions w;
  w.output_dir = str_flag(f, "output");
  if (w.output_dir.empty()) throw UsageError("--output DIR is required");
  w.num_shards = static_cast<int>(int_flag(f, "shards", 1));
  w.chunk_rows = static_cast<int>(int_flag(f, "chunk-rows", 32));
  w.compression_level = static_cast<int>(int_flag(f, "compression", 1));
  w.overwrite = f.count("force") > 0;
  return w;
}

// The bar redraws one line with \r: only for a terminal, never into logs.
bool show_progress(const Flags& f) { return f.count("quiet") == 0 && ::isatty(2) == 1; }

std::set<std::string> with(std::set<std::string> a, const std::set<std::string>& b) {
  a.insert(b.begin(), b.end());
  return a;
}

void print_split(const char* name, const trm::SplitSummary& s) {
  std::printf("  %-5s %9lld groups %10lld puzzles %11lld examples  %d shard(s)\n", name,
              static_cast<long long>(s.groups), static_cast<long long>(s.puzzles),
              static_cast<long long>(s.examples), s.num_shards);
}

int run_arc(int argc, char** argv) {
  const Flags f = parse_flags(argc, argv, 2, kCommonSwitches,
                              with(kCommonSingle, {"input-prefix", "num-aug", "puzzle-identifiers-start"}),
                              {"subsets", "input-dirs", "test-set", "puzzles"});
  trm::ArcConvertOptions o;
  o.input_prefix = str_flag(f, "input-prefix");
  o.subsets = list_flag(f, "subsets");
  o.input_dirs = list_flag(f, "input-dirs");
  if (o.input_prefix.empty() == o.input_dirs.empty()) {
    throw UsageError("give either --input-prefix PATH --subsets ... or --input-dirs DIR...");
  }
  if (!o.input_prefix.empty() && o.subsets.empty()) throw UsageError("--input-prefix needs --subsets");
  o.test_sets = f.count("test-set") ? list_flag(f, "test-set") : std::vector<std::string>{"evaluation"};
  o.num_aug = static_cast<int>(int_flag(f, "num-aug", 1000));
  o.seed = static_cast<uint64_t>(int_flag(f, "seed", 42));
  o.puzzle_identifiers_start = static_cast<int>(int_flag(f, "puzzle-identifiers-start", 1));
  o.only_puzzles = list_flag(f, "puzzles");
  o.threads = static_cast<int>(int_flag(f, "threads", 2));
  o.progress = show_progress(f);
  o.writer = writer_options(f);
  const trm::ArcConvertReport r = trm::convert_arc(o);
  std::printf("trm-convert arc: wrote %s (%.1f MB) in %.1f s\n", o.writer.output_dir.c_str(), r.bytes / 1e6,
              r.seconds);
  print_split("train", r.train);
  print_split("test", r.test);
  std::printf("  puzzle identifiers: %lld (including <blank>)\n", static_cast<long long>(r.num_puzzle_identifiers));
  if (!r.not_full.empty()) {
    std::printf("  %zu puzzle(s) have fewer than %d distinct variants (original included):", r.not_full.size(),
                o.num_aug + 1);
    for (size_t i = 0; i < r.not_full.size() && i < 8; ++i) std::printf(" %s;", r.not_full[i].c_str());
    std::printf(r.not_full.size() > 8 ? " ...\n" : "\n");
  }
  return 0;
}

void print_simple(const char* kind, const std::string& out, const trm::SimpleConvertReport& r) {
  std::printf("trm-convert %s: wrote %s (%.1f MB) in %.1f s\n", kind, out.c_str(), r.bytes / 1e6, r.seconds);
  print_split("train", r.train);
  print_split("test", r.test);
}

int run_sudoku(int argc, char** argv) {
  const Flags f = parse_flags(argc, argv, 2, kCommonSwitches,
                              with(kCommonSingle, {"train-csv", "test-csv", "subsample", "min-difficulty", "num-aug",
                                                   "generate", "size", "blanks", "givens", "test"}),
                              {});
  trm::SudokuConvertOptions o;
  o.train_csv = str_flag(f, "train-csv");
  o.test_csv = str_flag(f, "test-csv");
  o.subsample = int_flag(f, "subsample", -1);
  o.min_difficulty = static_cast<int>(int_flag(f, "min-difficulty", -1));
  o.num_aug = static_cast<int>(int_flag(f, "num-aug", 0));
  o.generate = int_flag(f, "generate", 0);
  o.generate_test = int_flag(f, "test", 0);
  o.size = static_cast<int>(int_flag(f, "size", 9));
  if (f.count("blanks") && f.count("givens")) throw UsageError("give --blanks or --givens, not both");
  o.blanks = static_cast<int>(int_flag(f, "blanks", -1));
  if (f.count("givens")) o.blanks = o.size * o.size - static_cast<int>(int_flag(f, "givens", 0));
  if (o.generate > 0 && !f.count("blanks") && !f.count("givens")) throw UsageError("--generate needs --blanks or --givens");
  if (o.generate == 0 && o.train_csv.empty()) throw UsageError("give --train-csv/--test-csv or --generate N");
  o.seed = static_cast<uint64_t>(int_flag(f, "seed", 0));
  o.threads = static_cast<int>(int_flag(f, "threads", 2));
  o.progress = show_progress(f);
  o.writer = writer_options(f);
  print_simple("sudoku", o.writer.output_dir, trm::convert_sudoku(o));
  return 0;
}

int run_maze(int argc, char** argv) {
  const Flags f = parse_flags(argc, argv, 2, with(kCommonSwitches, {"aug"}),
                              with(kCommonSingle, {"train-csv", "test-csv", "subsample", "generate", "size",
                                                   "min-path-length", "test"}),
                              {});
  trm::MazeConvertOptions o;
  o.train_csv = str_flag(f, "train-csv");
  o.test_csv = str_flag(f, "test-csv");
  o.subsample = int_flag(f, "subsample", -1);
  o.aug = f.count("aug") > 0;
  o.generate = int_flag(f, "generate", 0);
  o.generate_test = int_flag(f, "test", 0);
  o.size = static_cast<int>(int_flag(f, "size", 30));
  o.min_path_length = static_cast<int>(int_flag(f, "min-path-length", 0));
  if (o.generate == 0 && o.train_csv.empty()) throw UsageError("give --train-csv/--test-csv or --generate N");
  o.seed = static_cast<uint64_t>(int_flag(f, "seed", 0));
  o.threads = static_cast<int>(int_flag(f, "threads", 2));
  o.progress = show_progress(f);
  o.writer = writer_options(f);
  print_simple("maze", o.writer.output_dir, trm::convert_maze(o));
  return 0;
}

}  // namespace

int main(int argc, char** argv) {
  if (argc < 2 || std::string(argv[1]) == "--help" || std::string(argv[1]) == "-h") {
    std::fputs(kUsage, argc < 2 ? stderr : stdout);
    return argc < 2 ? kExitUsage : 0;
  }
  const std::string cmd = argv[1];
  try {
    for (int i = 2; i < argc; ++i) {
      if (std::string(argv[i]) == "--help") {
        std::fputs(kUsage, stdout);
        return 0;
      }
    }
    if (cmd == "arc") return run_arc(argc, argv);
    if (cmd == "sudoku") return run_sudoku(argc, argv);
    if (cmd == "maze") return run_maze(argc, argv);
    throw UsageError("unknown subcommand '" + cmd + "'");
  } catch (const UsageError& e) {
    std::fprintf(stderr, "trm-convert: %s\n\n%s", e.what(), kUsage);
    return kExitUsage;
  } catch (const trm::Error& e) {
    std::fprintf(stderr, "\ntrm-convert %s: error: %s\n", cmd.c_str(), e.message().c_str());
    if (!e.hint().empty()) std::fprintf(stderr, "  hint: %s\n", e.hint().c_str());
    return kExitInput;
  } catch (const std::exception& e) {
    std::fprintf(stderr, "\ntrm-convert %s: error: %s\n", cmd.c_str(), e.what());
    return kExitInput;
  }
}
