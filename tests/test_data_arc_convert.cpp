// ARC conversion: token encoding (EOS row/column, PAD, translation bounds), augmentation
// variants that decode back to the original puzzle, deduplication counts on real puzzles, and a
// full conversion of the shared ARC-AGI-1 files whose test split reproduces the original grids.
#include <gtest/gtest.h>

#include <filesystem>
#include <map>
#include <set>

#include "test_data_helpers.hpp"
#include "trm/common/error.hpp"
#include "trm/data/arc_converter.hpp"
#include "trm/data/puzzle_dataset.hpp"
#include "trm/data/test_iterator.hpp"

namespace trm {
namespace {

namespace fs = std::filesystem;
using testing::TempDir;

const std::string kArcDir = TRM_SHARED_ARC_DIR;
const std::string kArcPrefix = kArcDir + "/arc-agi";

bool have_arc() { return fs::exists(kArcPrefix + "_evaluation_challenges.json"); }

Grid make_grid(int rows, int cols, uint8_t base) {
  Grid g;
  g.rows = rows;
  g.cols = cols;
  for (int i = 0; i < rows * cols; ++i) g.cells.push_back(static_cast<uint8_t>((base + i) % 10));
  return g;
}

TEST(ArcEncoding, EosRowAndColumnPadElsewhere) {
  const Grid g = make_grid(3, 4, 1);
  std::vector<uint8_t> seq(kArcSeqLen);
  encode_arc_grid(g, 5, 7, seq.data());
  for (int r = 0; r < 30; ++r) {
    for (int c = 0; c < 30; ++c) {
      const uint8_t t = seq[r * 30 + c];
      const bool in_grid = r >= 5 && r < 8 && c >= 7 && c < 11;
      const bool eos_row = r == 8 && c >= 7 && c < 11;
      const bool eos_col = c == 11 && r >= 5 && r < 8;
      if (in_grid) {
        EXPECT_EQ(t, g.at(r - 5, c - 7) + 2) << r << "," << c;
      } else if (eos_row || eos_col) {
        EXPECT_EQ(t, kArcEosToken) << r << "," << c;
      } else {
        EXPECT_EQ(t, kArcPadToken) << r << "," << c;  // includes the corner (8, 11)
      }
    }
  }
}

TEST(ArcEncoding, NoEosBeyondTheCanvasAndCropInverts) {
  const Grid full = make_grid(30, 30, 3);
  std::vector<uint8_t> seq(kArcSeqLen);
  encode_arc_grid(full, 0, 0, seq.data());
  for (int i = 0; i < kArcSeqLen; ++i) EXPECT_GE(seq[i], 2);
  EXPECT_EQ(crop_arc_grid(seq.data()), full);
  const Grid tall = make_grid(30, 2, 4);
  encode_arc_grid(tall, 0, 28, seq.data());  // touches the right and bottom edges
  int eos = 0;
  for (int i = 0; i < kArcSeqLen; ++i) eos += seq[i] == kArcEosToken;
  EXPECT_EQ(eos, 0);
  const Grid small = make_grid(2, 5, 0);
  encode_arc_grid(small, 0, 0, seq.data());
  EXPECT_EQ(crop_arc_grid(seq.data()), small);
}

ArcPuzzle load_one(const std::string& subset, const std::string& id) {
  const ArcSubset s = load_arc_kaggle_subset(kArcPrefix, subset);
  for (const auto& p : s.puzzles) {
    if (p.id == id) return p;
  }
  ADD_FAILURE() << "puzzle " << id << " not in " << subset;
  return {};
}

size_t count_variants(const ArcPuzzle& p, int num_aug) {
  Rng rng(42, 7);
  const auto augs = arc_distinct_augmentations(p, num_aug, &rng);
  // The returned variants are pairwise distinct and distinct from the original.
  std::set<std::pair<uint64_t, uint64_t>> hashes{{arc_puzzle_hash(p).hi, arc_puzzle_hash(p).lo}};
  for (const auto& a : augs) {
    const PuzzleHash h = arc_puzzle_hash(augment_arc_puzzle(p, a));
    EXPECT_TRUE(hashes.insert({h.hi, h.lo}).second) << "duplicate variant " << augmented_puzzle_name(p.id, a);
  }
  return augs.size() + 1;
}

TEST(ArcDedup, VariantCountsOfRealPuzzles) {
  if (!have_arc()) GTEST_SKIP() << "shared ARC data not found at " << kArcDir;
  EXPECT_EQ(count_variants(load_one("evaluation", "332efdb3"), 1000), 9u);
  EXPECT_EQ(count_variants(load_one("evaluation", "1990f7a8"), 1000), 72u);
  EXPECT_EQ(count_variants(load_one("concept", "MoveToBoundary3"), 1000), 72u);
}

TEST(ArcAugment, VariantsDecodeToTheOriginal) {
  if (!have_arc()) GTEST_SKIP() << "shared ARC data not found at " << kArcDir;
  const ArcPuzzle p = load_one("training", "007bbfb7");
  Rng rng(1, 2);
  const auto augs = arc_distinct_augmentations(p, 50, &rng);
  ASSERT_EQ(augs.size(), 50u);
  std::set<int> transforms;
  for (const auto& a : augs) {
    const ArcPuzzle v = augment_arc_puzzle(p, a);
    const ParsedPuzzleName parsed = parse_puzzle_name(v.id);
    ASSERT_TRUE(parsed.augmented);
    EXPECT_EQ(parsed.base, p.id);
    EXPECT_EQ(parsed.aug.trans_id, a.trans_id);
    transforms.insert(a.trans_id);
    for (size_t i = 0; i < p.train.size(); ++i) {
      EXPECT_EQ(invert_augmentation(v.train[i].input, parsed.aug), p.train[i].input);
      EXPECT_EQ(invert_augmentation(v.train[i].output, parsed.aug), p.train[i].output);
    }
    for (size_t i = 0; i < p.test.size(); ++i) {
      EXPECT_EQ(invert_augmentation(v.test[i].input, parsed.aug), p.test[i].input);
    }
  }
  EXPECT_EQ(transforms.size(), 8u);
}

// Converts selected puzzles and checks names, identifiers, translation bounds and inversion.
TEST(ArcConvert, SelectedPuzzlesAllVariantsNoDuplicatesAndDecodable) {
  if (!have_arc()) GTEST_SKIP() << "shared ARC data not found at " << kArcDir;
  TempDir tmp("arc_sel");
  ArcConvertOptions o;
  o.input_prefix = kArcPrefix;
  o.subsets = {"training", "evaluation", "concept"};
  o.test_sets = {"evaluation"};
  o.num_aug = 1000;
  o.only_puzzles = {"332efdb3", "1990f7a8", "MoveToBoundary3"};
  o.writer.output_dir = tmp / "out";
  o.progress = false;
  const ArcConvertReport r = convert_arc(o);
  EXPECT_EQ(r.train.groups, 3);
  EXPECT_EQ(r.test.groups, 2);  // the two evaluation puzzles
  EXPECT_EQ(r.train.puzzles, 9 + 72 + 72);
  EXPECT_EQ(r.test.puzzles, 9 + 72);
  EXPECT_EQ(r.num_puzzle_identifiers, 1 + 9 + 72 + 72);
  EXPECT_EQ(r.not_full.size(), 3u);

  const auto names = read_identifiers(o.writer.output_dir);
  ASSERT_EQ(static_cast<int64_t>(names.size()), r.num_puzzle_identifiers);
  EXPECT_EQ(names[0], "<blank>");
  EXPECT_EQ(std::set<std::string>(names.begin(), names.end()).size(), names.size());

  // Every training row decodes (after undoing translation and augmentation) to an original pair.
  const auto originals = std::map<std::string, ArcPuzzle>{
      {"332efdb3", load_one("evaluation", "332efdb3")},
      {"1990f7a8", load_one("evaluation", "1990f7a8")},
      {"MoveToBoundary3", load_one("concept", "MoveToBoundary3")}};
  PuzzleDataset train(o.writer.output_dir, "train");
  EXPECT_EQ(train.metadata().seq_len, 900);
  EXPECT_EQ(train.metadata().vocab_size, 12);
  std::vector<int32_t> in(900), lab(900);
  int untranslated_puzzles = 0;
  for (int64_t p = 0; p < train.num_puzzles(); ++p) {
    const ParsedPuzzleName parsed = parse_puzzle_name(names[train.puzzle_identifiers()[p]]);
    const ArcPuzzle& orig = originals.at(parsed.base);
    std::set<std::pair<uint64_t, uint64_t>> wanted;
    for (const auto* list : {&orig.train, &orig.test}) {
      for (const auto& e : *list) wanted.insert({grid_hash(e.input), grid_hash(e.output)});
    }
    int at_origin = 0;
    for (int64_t row = train.puzzle_indices()[p]; row < train.puzzle_indices()[p + 1]; ++row) {
      train.read_examples(&row, 1, in.data(), lab.data());
      // Find the translation: first row/col holding a colour token.
      int r0 = 30, c0 = 30;
      for (int i = 0; i < 900; ++i) {
        if (in[i] >= 2 || lab[i] >= 2) {
          r0 = std::min(r0, i / 30);
          c0 = std::min(c0, i % 30);
        }
      }
      ASSERT_LT(r0, 30);
      at_origin += (r0 == 0 && c0 == 0);
      std::vector<int32_t> shifted_in(900, 0), shifted_lab(900, 0);
      for (int r = r0; r < 30; ++r)
        for (int c = c0; c < 30; ++c) {
          shifted_in[(r - r0) * 30 + (c - c0)] = in[r * 30 + c];
          shifted_lab[(r - r0) * 30 + (c - c0)] = lab[r * 30 + c];
        }
      const Grid ai = crop_arc_grid(shifted_in.data());
      const Grid ao = crop_arc_grid(shifted_lab.data());
      const Grid gi = invert_augmentation(ai, parsed.aug);
      const Grid go = invert_augmentation(ao, parsed.aug);
      EXPECT_TRUE(wanted.count({grid_hash(gi), grid_hash(go)})) << names[train.puzzle_identifiers()[p]] << " row " << row;
      // Translation keeps both grids inside the canvas (EOS may fall off the edge).
      EXPECT_LE(r0 + std::max(ai.rows, ao.rows), 30);
      EXPECT_LE(c0 + std::max(ai.cols, ao.cols), 30);
    }
    EXPECT_GE(at_origin, 1);
    untranslated_puzzles += at_origin >= 1;
  }
  EXPECT_EQ(untranslated_puzzles, train.num_puzzles());
}

TEST(ArcConvert, TestSplitOfArcAgi1ReproducesOriginalGrids) {
  if (!have_arc()) GTEST_SKIP() << "shared ARC data not found at " << kArcDir;
  TempDir tmp("arc_full");
  ArcConvertOptions o;
  o.input_prefix = kArcPrefix;
  o.subsets = {"training", "evaluation"};
  o.test_sets = {"evaluation"};
  o.num_aug = 0;
  o.writer.output_dir = tmp / "out";
  o.writer.num_shards = 3;
  o.progress = false;
  const ArcConvertReport r = convert_arc(o);
  EXPECT_EQ(r.train.groups, 800);
  EXPECT_EQ(r.test.groups, 400);
  EXPECT_EQ(r.test.num_shards, 3);
  EXPECT_EQ(r.num_puzzle_identifiers, 801);

  const std::vector<ArcPuzzle> tests = load_test_puzzles(o.writer.output_dir);
  ASSERT_EQ(tests.size(), 400u);
  const ArcSubset eval = load_arc_kaggle_subset(kArcPrefix, "evaluation");
  std::map<std::string, const ArcPuzzle*> by_id;
  for (const auto& p : eval.puzzles) by_id[p.id] = &p;
  const auto names = read_identifiers(o.writer.output_dir);

  auto ds = std::make_shared<PuzzleDataset>(o.writer.output_dir, "test");
  TestIterator it(ds, 64, 0, 1);
  Batch b;
  size_t seen = 0;
  std::map<std::string, size_t> next_test;  // puzzles' test pairs appear in order
  while (it.next(&b)) {
    for (int64_t i = 0; i < b.real_rows; ++i) {
      const std::string& name = names[b.puzzle_identifiers[i]];
      ASSERT_EQ(by_id.count(name), 1u) << name;
      const ArcPuzzle& p = *by_id[name];
      const size_t k = next_test[name]++;
      ASSERT_LT(k, p.test.size());
      std::vector<int32_t> lab(b.labels.begin() + i * 900, b.labels.begin() + (i + 1) * 900);
      for (auto& t : lab) t = t == kIgnoreLabelId ? 0 : t;
      EXPECT_EQ(crop_arc_grid(b.inputs.data() + i * 900), p.test[k].input) << name;
      EXPECT_EQ(crop_arc_grid(lab.data()), p.test[k].output) << name;
      ++seen;
    }
  }
  size_t expected = 0;
  for (const auto& p : eval.puzzles) expected += p.test.size();
  EXPECT_EQ(seen, expected);
  // test_puzzles.json holds the same puzzles with their solutions.
  for (const auto& p : tests) {
    ASSERT_EQ(by_id.count(p.id), 1u);
    ASSERT_EQ(p.test.size(), by_id[p.id]->test.size());
    EXPECT_EQ(p.test[0].output, by_id[p.id]->test[0].output);
  }
}

TEST(ArcConvert, OutputDependsOnSeedNotThreads) {
  if (!have_arc()) GTEST_SKIP() << "shared ARC data not found at " << kArcDir;
  TempDir tmp("arc_det");
  auto convert = [&](int threads, uint64_t seed, const std::string& name) {
    ArcConvertOptions o;
    o.input_prefix = kArcPrefix;
    o.subsets = {"evaluation"};
    o.test_sets = {"evaluation"};
    o.num_aug = 20;
    o.seed = seed;
    o.only_puzzles = {"332efdb3", "00576224", "e7639916"};
    o.threads = threads;
    o.writer.output_dir = tmp / name;
    o.progress = false;
    convert_arc(o);
    PuzzleDataset ds(o.writer.output_dir, "train");
    std::vector<int64_t> rows(ds.num_examples());
    for (int64_t i = 0; i < ds.num_examples(); ++i) rows[i] = i;
    std::vector<int32_t> in(rows.size() * 900), lab(rows.size() * 900);
    ds.read_examples(rows.data(), ds.num_examples(), in.data(), lab.data());
    return std::make_pair(in, read_identifiers(o.writer.output_dir));
  };
  const auto a = convert(1, 42, "a");
  const auto b = convert(3, 42, "b");
  const auto c = convert(2, 43, "c");
  EXPECT_EQ(a, b);
  EXPECT_NE(a.first, c.first);
}

}  // namespace
}  // namespace trm
