// ARC conversion (see arc_converter.hpp). Pipeline: load and validate all subsets (small), shuffle
// each subset with Rng(seed, 0), then for every puzzle in that order a task on the pool builds its
// group (variants + encoded rows) from Rng(seed, 1 + position); the main thread consumes groups in
// order, assigns identifiers, streams identifiers.json and hands rows to the DatasetWriter.
#include "trm/data/arc_converter.hpp"

#include <algorithm>
#include <cstring>
#include <deque>
#include <fstream>
#include <future>
#include <iostream>
#include <set>
#include <unordered_map>
#include <unordered_set>

#include "trm/common/error.hpp"
#include "trm/data/json.hpp"
#include "trm/data/progress.hpp"
#include "trm/data/thread_pool.hpp"

namespace trm {

void encode_arc_grid(const Grid& grid, int pad_r, int pad_c, uint8_t* seq) {
  constexpr int n = kArcMaxGridSize;
  std::memset(seq, kArcPadToken, kArcSeqLen);
  for (int r = 0; r < grid.rows; ++r) {
    uint8_t* row = seq + (pad_r + r) * n + pad_c;
    const uint8_t* src = grid.cells.data() + static_cast<size_t>(r) * grid.cols;
    for (int c = 0; c < grid.cols; ++c) row[c] = static_cast<uint8_t>(src[c] + 2);
  }
  const int eos_row = pad_r + grid.rows;
  const int eos_col = pad_c + grid.cols;
  if (eos_row < n) std::memset(seq + eos_row * n + pad_c, kArcEosToken, grid.cols);
  if (eos_col < n) {
    for (int r = pad_r; r < eos_row; ++r) seq[r * n + eos_col] = kArcEosToken;
  }
}

namespace {
template <typename T>
Grid crop_impl(const T* seq) {
  constexpr int n = kArcMaxGridSize;
  int best_area = 0, best_r = 0, best_c = 0;
  int num_c = n;
  for (int num_r = 1; num_r <= n; ++num_r) {
    for (int c = 1; c <= num_c; ++c) {
      const T x = seq[(num_r - 1) * n + (c - 1)];
      if (x < 2 || x > 11) {
        num_c = c - 1;
        break;
      }
    }
    if (num_r * num_c > best_area) {
      best_area = num_r * num_c;
      best_r = num_r;
      best_c = num_c;
    }
  }
  Grid g;
  g.rows = best_r;
  g.cols = best_c;
  g.cells.resize(static_cast<size_t>(best_r) * best_c);
  for (int r = 0; r < best_r; ++r) {
    for (int c = 0; c < best_c; ++c) g.cells[static_cast<size_t>(r) * best_c + c] = static_cast<uint8_t>(seq[r * n + c] - 2);
  }
  return g;
}

// 64-bit mix of a grid's shape and cells under a seed (two seeds give a 128-bit hash).
uint64_t hash_grid(const Grid& g, uint64_t seed) {
  uint64_t h = seed ^ (static_cast<uint64_t>(g.rows) << 8) ^ static_cast<uint64_t>(g.cols);
  h = splitmix64(&h);
  size_t i = 0;
  const size_t n = g.cells.size();
  for (; i + 8 <= n; i += 8) {
    uint64_t w;
    std::memcpy(&w, g.cells.data() + i, 8);
    h ^= w;
    h = splitmix64(&h);
  }
  uint64_t tail = 0;
  for (size_t k = 0; i < n; ++i, ++k) tail |= static_cast<uint64_t>(g.cells[i]) << (8 * k);
  h ^= tail ^ (static_cast<uint64_t>(n) << 56);
  return splitmix64(&h);
}

struct PuzzleHashLess {
  bool operator()(const PuzzleHash& a, const PuzzleHash& b) const {
    return a.hi != b.hi ? a.hi < b.hi : a.lo < b.lo;
  }
};
}  // namespace

Grid crop_arc_grid(const uint8_t* seq) { return crop_impl(seq); }
Grid crop_arc_grid(const int32_t* seq) { return crop_impl(seq); }

PuzzleHash arc_puzzle_hash(const ArcPuzzle& puzzle) {
  std::vector<PuzzleHash> pairs;
  pairs.reserve(puzzle.train.size() + puzzle.test.size());
  for (const auto* list : {&puzzle.train, &puzzle.test}) {
    for (const ArcExample& e : *list) {
      uint64_t a = hash_grid(e.input, 0x1234567ULL) * 31 + hash_grid(e.output, 0x89ABCDEFULL);
      uint64_t b = hash_grid(e.input, 0x5555AAAAULL) * 37 + hash_grid(e.output, 0x0F0F0F0FULL);
      pairs.push_back(PuzzleHash{splitmix64(&a), splitmix64(&b)});
    }
  }
  std::sort(pairs.begin(), pairs.end(), PuzzleHashLess());  // the multiset of pairs, as the reference
  PuzzleHash h{0x243F6A8885A308D3ULL, 0x13198A2E03707344ULL};
  for (const PuzzleHash& p : pairs) {
    h.hi ^= p.hi;
    h.hi = splitmix64(&h.hi);
    h.lo ^= p.lo;
    h.lo = splitmix64(&h.lo);
  }
  return h;
}

ArcPuzzle augment_arc_puzzle(const ArcPuzzle& puzzle, const ArcAugmentation& aug) {
  ArcPuzzle out;
  out.id = augmented_puzzle_name(puzzle.id, aug);
  for (int which = 0; which < 2; ++which) {
    const auto& src = which == 0 ? puzzle.train : puzzle.test;
    auto& dst = which == 0 ? out.train : out.test;
    dst.reserve(src.size());
    for (const ArcExample& e : src) {
      dst.push_back(ArcExample{apply_augmentation(e.input, aug), apply_augmentation(e.output, aug), e.has_output});
    }
  }
  return out;
}

namespace {
// The dedup loop; when `variants` is given it also keeps the augmented puzzles it had to build.
std::vector<ArcAugmentation> distinct_augmentations(const ArcPuzzle& puzzle, int num_aug, Rng* rng,
                                                    std::vector<ArcPuzzle>* variants) {
  std::vector<ArcAugmentation> out;
  if (num_aug <= 0) return out;
  std::set<PuzzleHash, PuzzleHashLess> seen{arc_puzzle_hash(puzzle)};
  const int64_t tries = static_cast<int64_t>(kArcAugmentRetriesFactor) * num_aug;
  for (int64_t t = 0; t < tries; ++t) {
    ArcAugmentation aug;
    aug.trans_id = static_cast<int>(rng->below(kNumDihedral));
    std::array<uint8_t, 9> perm = {1, 2, 3, 4, 5, 6, 7, 8, 9};
    rng->shuffle(perm.begin(), perm.end());
    aug.mapping[0] = 0;
    for (int c = 1; c < 10; ++c) aug.mapping[c] = perm[c - 1];
    ArcPuzzle candidate = augment_arc_puzzle(puzzle, aug);
    if (seen.insert(arc_puzzle_hash(candidate)).second) {
      out.push_back(aug);
      if (variants != nullptr) variants->push_back(std::move(candidate));
      if (static_cast<int>(out.size()) >= num_aug) break;
    }
  }
  return out;
}
}  // namespace

std::vector<ArcAugmentation> arc_distinct_augmentations(const ArcPuzzle& puzzle, int num_aug, Rng* rng) {
  return distinct_augmentations(puzzle, num_aug, rng, nullptr);
}

namespace {

struct SourcePuzzle {
  const ArcPuzzle* puzzle = nullptr;
  int base_index = 0;      // index of the distinct base id (identifier keys)
  bool is_test_set = false;
  uint64_t stream = 0;     // random stream: 1 + position among all shuffled puzzles
};

// Rows of one split of one group: puzzles back to back.
struct SplitRows {
  std::vector<uint8_t> inputs, labels;  // [examples, 900]
  std::vector<int64_t> counts;          // examples per puzzle
};

struct BuiltGroup {
  std::vector<ArcAugmentation> augs;  // variants after the original
  SplitRows train, test;
};

void push_example(SplitRows* rows, const ArcExample& e, bool translate, Rng* rng) {
  int pad_r = 0, pad_c = 0;
  if (translate) {
    pad_r = static_cast<int>(rng->below(kArcMaxGridSize - std::max(e.input.rows, e.output.rows) + 1));
    pad_c = static_cast<int>(rng->below(kArcMaxGridSize - std::max(e.input.cols, e.output.cols) + 1));
  }
  const size_t off = rows->inputs.size();
  rows->inputs.resize(off + kArcSeqLen);
  rows->labels.resize(off + kArcSeqLen);
  encode_arc_grid(e.input, pad_r, pad_c, rows->inputs.data() + off);
  encode_arc_grid(e.output, pad_r, pad_c, rows->labels.data() + off);
}

BuiltGroup build_group(const SourcePuzzle& src, int num_aug, uint64_t seed) {
  Rng rng(seed, src.stream);
  BuiltGroup g;
  std::vector<ArcPuzzle> augmented;
  g.augs = distinct_augmentations(*src.puzzle, num_aug, &rng, &augmented);
  const size_t variants = g.augs.size() + 1;
  const size_t per_variant = src.puzzle->train.size() + src.puzzle->test.size();
  g.train.inputs.reserve(variants * per_variant * kArcSeqLen);
  g.train.labels.reserve(variants * per_variant * kArcSeqLen);
  if (src.is_test_set) {
    g.test.inputs.reserve(variants * src.puzzle->test.size() * kArcSeqLen);
    g.test.labels.reserve(variants * src.puzzle->test.size() * kArcSeqLen);
  }
  for (size_t v = 0; v < variants; ++v) {
    const ArcPuzzle& p = v == 0 ? *src.puzzle : augmented[v - 1];
    // Train split: all pairs of non-test puzzles, the train pairs of test-set puzzles.
    std::vector<const ArcExample*> train;
    for (const auto& e : p.train) train.push_back(&e);
    if (!src.is_test_set) {
      for (const auto& e : p.test) train.push_back(&e);
    }
    const int64_t no_translate = static_cast<int64_t>(rng.below(train.size()));
    for (size_t k = 0; k < train.size(); ++k) {
      push_example(&g.train, *train[k], static_cast<int64_t>(k) != no_translate, &rng);
    }
    g.train.counts.push_back(static_cast<int64_t>(train.size()));
    if (src.is_test_set) {
      for (const auto& e : p.test) push_example(&g.test, e, false, &rng);
      g.test.counts.push_back(static_cast<int64_t>(p.test.size()));
    }
  }
  return g;
}

// Identifier key of (base, augmentation): base * 8e9 + trans * 1e9 + permutation digits
// (mapping[1..9] as a 9-digit number; 0 for the un-augmented original).
uint64_t identifier_key(int base_index, const ArcAugmentation* aug) {
  uint64_t key = static_cast<uint64_t>(base_index) * 8000000000ULL;
  if (aug != nullptr) {
    uint64_t digits = 0;
    for (int c = 1; c < 10; ++c) digits = digits * 10 + aug->mapping[c];
    key += static_cast<uint64_t>(aug->trans_id) * 1000000000ULL + digits;
  }
  return key;
}

}  // namespace

ArcConvertReport convert_arc(const ArcConvertOptions& options) {
  TRM_CHECK(options.num_aug >= 0, "--num-aug must be >= 0, got " << options.num_aug, "");
  TRM_CHECK(options.puzzle_identifiers_start >= 1,
            "--puzzle-identifiers-start must be >= 1 (0 is the blank identifier)", "");
  TRM_CHECK(options.input_prefix.empty() != options.input_dirs.empty(),
            "give either --input-prefix with --subsets or --input-dirs", "see trm-convert arc --help");
  ProgressBar load_bar("loading", 1, false);

  // 1. Check the test sets name input subsets (before any loading), then load every subset
  //    (validated), in the order given.
  {
    std::set<std::string> names(options.subsets.begin(), options.subsets.end());
    for (const auto& dir : options.input_dirs) names.insert(arc_task_dir_subset_name(dir));
    for (const auto& t : options.test_sets) {
      TRM_CHECK(names.count(t) == 1, "test set '" << t << "' is not among the input subsets",
                "--test-set names one of the --subsets (or an --input-dirs directory name)");
    }
  }
  std::vector<ArcSubset> subsets;
  if (!options.input_prefix.empty()) {
    TRM_CHECK(!options.subsets.empty(), "--input-prefix needs --subsets", "e.g. --subsets training evaluation concept");
    for (const auto& name : options.subsets) subsets.push_back(load_arc_kaggle_subset(options.input_prefix, name));
  } else {
    for (const auto& dir : options.input_dirs) subsets.push_back(load_arc_task_dir(dir));
  }
  const std::set<std::string> test_sets(options.test_sets.begin(), options.test_sets.end());

  // 2. Shuffle each subset (reference: np.random.shuffle per subset), fix streams and bases.
  Rng master(options.seed, 0);
  std::vector<SourcePuzzle> order;
  std::unordered_map<std::string, int> base_of;
  std::vector<std::string> base_names;
  uint64_t position = 0;
  for (auto& subset : subsets) {
    master.shuffle(subset.puzzles.begin(), subset.puzzles.end());
    for (const auto& p : subset.puzzles) {
      SourcePuzzle sp;
      sp.puzzle = &p;
      sp.is_test_set = test_sets.count(subset.name) > 0;
      sp.stream = 1 + position++;
      auto it = base_of.find(p.id);
      if (it == base_of.end()) {
        it = base_of.emplace(p.id, static_cast<int>(base_names.size())).first;
        base_names.push_back(p.id);
      }
      sp.base_index = it->second;
      order.push_back(sp);
    }
  }
  if (!options.only_puzzles.empty()) {
    const std::set<std::string> wanted(options.only_puzzles.begin(), options.only_puzzles.end());
    for (const auto& id : wanted) {
      TRM_CHECK(base_of.count(id) == 1, "puzzle '" << id << "' (from --puzzles) is in none of the input subsets", "");
    }
    std::vector<SourcePuzzle> kept;
    for (const auto& sp : order) {
      if (wanted.count(sp.puzzle->id)) kept.push_back(sp);
    }
    order.swap(kept);
  }
  int64_t num_test_groups = 0;
  for (const auto& sp : order) num_test_groups += sp.is_test_set ? 1 : 0;

  // 3. Writer and side files.
  DatasetMetadata base;
  base.kind = "arc";
  base.seq_len = kArcSeqLen;
  base.vocab_size = kArcVocabSize;
  base.pad_id = kArcPadToken;
  base.ignore_label_id = kArcPadToken;
  base.blank_identifier_id = 0;
  ThreadPool pool(std::max(1, options.threads));
  DatasetWriter writer(options.writer, base, &pool);
  writer.begin_split("train", static_cast<int64_t>(order.size()));
  writer.begin_split("test", num_test_groups);

  const std::string ids_path = writer.side_file_path("identifiers.json");
  std::ofstream ids_file(ids_path, std::ios::binary);
  TRM_CHECK(ids_file.good(), "cannot write " << ids_path, "check disk space and permissions");
  ids_file << "[\"<blank>\"";
  for (int i = 1; i < options.puzzle_identifiers_start; ++i) ids_file << ",\"<blank>\"";
  int64_t next_identifier = options.puzzle_identifiers_start;
  std::unordered_map<uint64_t, int32_t> identifiers;
  std::string name_json;
  auto identifier_of = [&](const SourcePuzzle& sp, const ArcAugmentation* aug) -> int32_t {
    const uint64_t key = identifier_key(sp.base_index, aug);
    auto it = identifiers.find(key);
    if (it != identifiers.end()) return it->second;
    const int32_t id = static_cast<int32_t>(next_identifier++);
    identifiers.emplace(key, id);
    name_json.clear();
    append_json_string(&name_json, aug ? augmented_puzzle_name(sp.puzzle->id, *aug) : sp.puzzle->id);
    ids_file << ',' << name_json;
    return id;
  };

  // 4. Build groups on the pool, consume in order.
  ArcConvertReport report;
  ProgressBar bar("arc", static_cast<int64_t>(order.size()), options.progress);
  std::deque<std::future<BuiltGroup>> inflight;
  size_t next_submit = 0;
  const size_t window = static_cast<size_t>(pool.size()) + 2;
  auto submit_more = [&] {
    while (next_submit < order.size() && inflight.size() < window) {
      const SourcePuzzle sp = order[next_submit++];
      const int num_aug = options.num_aug;
      const uint64_t seed = options.seed;
      inflight.push_back(pool.submit([sp, num_aug, seed] { return build_group(sp, num_aug, seed); }));
    }
  };
  submit_more();
  for (size_t gi = 0; gi < order.size(); ++gi) {
    BuiltGroup g = inflight.front().get();
    inflight.pop_front();
    submit_more();
    const SourcePuzzle& sp = order[gi];
    if (static_cast<int>(g.augs.size()) < options.num_aug) {
      report.not_full.push_back(sp.puzzle->id + ": " + std::to_string(g.augs.size() + 1));
    }
    std::vector<int32_t> ids(g.augs.size() + 1);
    for (size_t v = 0; v < ids.size(); ++v) ids[v] = identifier_of(sp, v == 0 ? nullptr : &g.augs[v - 1]);
    for (int which = 0; which < 2; ++which) {
      const SplitRows& rows = which == 0 ? g.train : g.test;
      if (which == 1 && !sp.is_test_set) continue;
      const std::string split = which == 0 ? "train" : "test";
      writer.begin_group(split);
      size_t off = 0;
      for (size_t v = 0; v < rows.counts.size(); ++v) {
        writer.add_puzzle(split, ids[v], rows.inputs.data() + off, rows.labels.data() + off, rows.counts[v]);
        off += static_cast<size_t>(rows.counts[v]) * kArcSeqLen;
      }
      writer.end_group(split);
    }
    bar.update(static_cast<int64_t>(gi + 1));
  }
  bar.finish();
  ids_file << "]\n";
  ids_file.close();
  TRM_CHECK(ids_file.good(), "cannot write " << ids_path, "check disk space and permissions");

  // test_puzzles.json: the original test-set puzzles in conversion order, keyed by id.
  {
    std::string out = "{";
    bool first = true;
    std::set<std::string> written;
    for (const auto& sp : order) {
      if (!sp.is_test_set || !written.insert(sp.puzzle->id).second) continue;
      if (!first) out += ",";
      first = false;
      append_json_string(&out, sp.puzzle->id);
      out += ":";
      out += to_json(arc_puzzle_to_json(*sp.puzzle));
    }
    out += "}\n";
    writer.write_side_file("test_puzzles.json", out);
  }

  writer.commit(next_identifier);
  report.train = writer.summary("train");
  report.test = writer.summary("test");
  report.num_puzzle_identifiers = next_identifier;
  report.bytes = writer.bytes_written();
  report.seconds = bar.seconds();
  return report;
}

}  // namespace trm
