// ArcPredictionSet (see arc_predictions.hpp). Byte format, version 1, all integers little-endian:
//   u32 magic "TRMP", u32 version,
//   u32 #names, then per name: u32 length, bytes,
//   u32 #grids, then per grid: u8 rows, u8 cols, rows*cols bytes (colours 0..9),
//   u64 #records, then per record: u64 example_index, u32 puzzle, u64 input_hash, u32 grid,
//   f64 q (IEEE-754 bits).
#include "trm/eval/arc_predictions.hpp"

#include <cmath>
#include <cstring>
#include <type_traits>

#include "trm/common/error.hpp"

namespace trm {
namespace {

constexpr uint32_t kMagic = 0x504d5254;  // "TRMP" read as little-endian bytes
constexpr uint32_t kFormatVersion = 1;

class ByteWriter {
 public:
  explicit ByteWriter(std::vector<uint8_t>& out) : out_(out) {}
  template <typename T>
  void put(T value) {
    static_assert(std::is_integral<T>::value, "integers only; doubles go through put_f64");
    for (size_t i = 0; i < sizeof(T); ++i) {
      out_.push_back(static_cast<uint8_t>(static_cast<uint64_t>(value) >> (8 * i)));
    }
  }
  void put_f64(double value) {
    uint64_t bits;
    std::memcpy(&bits, &value, sizeof(bits));
    put(bits);
  }
  void put_bytes(const void* data, size_t n) {
    const auto* p = static_cast<const uint8_t*>(data);
    out_.insert(out_.end(), p, p + n);
  }

 private:
  std::vector<uint8_t>& out_;
};

class ByteReader {
 public:
  ByteReader(const std::vector<uint8_t>& in, const std::string& source)
      : in_(in), source_(source) {}
  template <typename T>
  T get() {
    need(sizeof(T));
    uint64_t v = 0;
    for (size_t i = 0; i < sizeof(T); ++i) v |= static_cast<uint64_t>(in_[pos_ + i]) << (8 * i);
    pos_ += sizeof(T);
    return static_cast<T>(v);
  }
  double get_f64() {
    const uint64_t bits = get<uint64_t>();
    double value;
    std::memcpy(&value, &bits, sizeof(value));
    return value;
  }
  void get_bytes(void* data, size_t n) {
    need(n);
    std::memcpy(data, in_.data() + pos_, n);
    pos_ += n;
  }
  bool at_end() const { return pos_ == in_.size(); }
  void need(size_t n) const {
    TRM_CHECK(n <= in_.size() - pos_,
              "ARC predictions from " << source_ << " are truncated at byte " << pos_ << " of "
                                      << in_.size(),
              "all ranks must run the same trm-dist build; a damaged gather is a bug");
  }

 private:
  const std::vector<uint8_t>& in_;
  const std::string& source_;
  size_t pos_ = 0;
};

}  // namespace

void ArcPredictionSet::add(const std::string& name, const Grid& input, const Grid& prediction,
                           float q_halt_logit, uint64_t example_index) {
  const ParsedPuzzleName parsed = parse_puzzle_name(name);
  const Grid original_input = invert_augmentation(input, parsed.aug);
  const Grid original_pred = invert_augmentation(prediction, parsed.aug);
  const double q = 1.0 / (1.0 + std::exp(-static_cast<double>(q_halt_logit)));
  add_grids(parsed.base, original_input, original_pred, q, example_index);
}

void ArcPredictionSet::add_grids(const std::string& original_id, const Grid& input,
                                 const Grid& prediction, double q, uint64_t example_index) {
  ArcPredictionRecord record;
  record.example_index = example_index;
  record.puzzle = intern_puzzle(original_id);
  record.input_hash = grid_hash(input);
  record.grid = intern_grid(prediction);
  record.q = q;
  records_.push_back(record);
}

uint32_t ArcPredictionSet::intern_grid(const Grid& grid) {
  const uint64_t h = grid_hash(grid);
  auto range = grid_index_.equal_range(h);
  for (auto it = range.first; it != range.second; ++it) {
    if (grids_[it->second] == grid) return it->second;
  }
  const auto index = static_cast<uint32_t>(grids_.size());
  grids_.push_back(grid);
  grid_index_.emplace(h, index);
  return index;
}

uint32_t ArcPredictionSet::intern_puzzle(const std::string& name) {
  auto it = puzzle_index_.find(name);
  if (it != puzzle_index_.end()) return it->second;
  const auto index = static_cast<uint32_t>(puzzle_names_.size());
  puzzle_names_.push_back(name);
  puzzle_index_.emplace(name, index);
  return index;
}

void ArcPredictionSet::merge(const ArcPredictionSet& other) {
  std::vector<uint32_t> grid_map(other.grids_.size());
  for (size_t i = 0; i < other.grids_.size(); ++i) grid_map[i] = intern_grid(other.grids_[i]);
  std::vector<uint32_t> name_map(other.puzzle_names_.size());
  for (size_t i = 0; i < other.puzzle_names_.size(); ++i) {
    name_map[i] = intern_puzzle(other.puzzle_names_[i]);
  }
  records_.reserve(records_.size() + other.records_.size());
  for (ArcPredictionRecord r : other.records_) {
    r.grid = grid_map[r.grid];
    r.puzzle = name_map[r.puzzle];
    records_.push_back(r);
  }
}

void ArcPredictionSet::clear() { *this = ArcPredictionSet(); }

std::vector<uint8_t> ArcPredictionSet::serialize() const {
  std::vector<uint8_t> out;
  ByteWriter w(out);
  w.put(kMagic);
  w.put(kFormatVersion);
  w.put(static_cast<uint32_t>(puzzle_names_.size()));
  for (const auto& name : puzzle_names_) {
    w.put(static_cast<uint32_t>(name.size()));
    w.put_bytes(name.data(), name.size());
  }
  w.put(static_cast<uint32_t>(grids_.size()));
  for (const auto& g : grids_) {
    w.put(static_cast<uint8_t>(g.rows));
    w.put(static_cast<uint8_t>(g.cols));
    w.put_bytes(g.cells.data(), g.cells.size());
  }
  w.put(static_cast<uint64_t>(records_.size()));
  for (const auto& r : records_) {
    w.put(r.example_index);
    w.put(r.puzzle);
    w.put(r.input_hash);
    w.put(r.grid);
    w.put_f64(r.q);
  }
  return out;
}

ArcPredictionSet ArcPredictionSet::deserialize(const std::vector<uint8_t>& bytes,
                                               const std::string& source) {
  ByteReader r(bytes, source);
  const auto magic = r.get<uint32_t>();
  TRM_CHECK(magic == kMagic, "bytes from " << source << " are not ARC predictions (bad magic)",
            "all ranks must run the same trm-dist build");
  const auto version = r.get<uint32_t>();
  TRM_CHECK(version == kFormatVersion,
            "ARC predictions from " << source << " have format version " << version
                                    << ", this build reads " << kFormatVersion,
            "all ranks must run the same trm-dist build");
  ArcPredictionSet set;
  const auto num_names = r.get<uint32_t>();
  for (uint32_t i = 0; i < num_names; ++i) {
    const auto len = r.get<uint32_t>();
    r.need(len);
    std::string name(len, '\0');
    r.get_bytes(&name[0], len);
    TRM_CHECK(set.intern_puzzle(name) == i,
              "ARC predictions from " << source << " repeat puzzle name '" << name << "'",
              "a damaged gather is a bug; rerun the evaluation");
  }
  const auto num_grids = r.get<uint32_t>();
  for (uint32_t i = 0; i < num_grids; ++i) {
    Grid g;
    g.rows = r.get<uint8_t>();
    g.cols = r.get<uint8_t>();
    TRM_CHECK(g.rows <= kArcMaxGridSize && g.cols <= kArcMaxGridSize,
              "ARC predictions from " << source << " hold a " << g.rows << "x" << g.cols
                                      << " grid",
              "a damaged gather is a bug; rerun the evaluation");
    g.cells.resize(static_cast<size_t>(g.rows) * g.cols);
    r.get_bytes(g.cells.data(), g.cells.size());
    // Distinct in the sender, hence distinct here; appended directly to keep the indexes.
    set.grid_index_.emplace(grid_hash(g), static_cast<uint32_t>(set.grids_.size()));
    set.grids_.push_back(std::move(g));
  }
  const auto num_records = r.get<uint64_t>();
  constexpr uint64_t kRecordBytes = 8 + 4 + 8 + 4 + 8;
  TRM_CHECK(num_records <= bytes.size() / kRecordBytes,
            "ARC predictions from " << source << " claim " << num_records << " records in "
                                    << bytes.size() << " bytes",
            "a damaged gather is a bug; rerun the evaluation");
  set.records_.resize(num_records);
  for (auto& rec : set.records_) {
    rec.example_index = r.get<uint64_t>();
    rec.puzzle = r.get<uint32_t>();
    rec.input_hash = r.get<uint64_t>();
    rec.grid = r.get<uint32_t>();
    rec.q = r.get_f64();
    TRM_CHECK(rec.puzzle < num_names && rec.grid < num_grids,
              "ARC predictions from " << source << " reference a missing grid or puzzle",
              "a damaged gather is a bug; rerun the evaluation");
  }
  TRM_CHECK(r.at_end(), "ARC predictions from " << source << " have trailing bytes",
            "all ranks must run the same trm-dist build");
  return set;
}

}  // namespace trm
