#include "engine/guarded_read.hpp"
#include "engine/random_stream.hpp"
#include "engine/result_file.hpp"
#include "engine/runner.hpp"
#include "models/testing/random_walk.hpp"

#include <catch2/catch.hpp>

#include <cmath>
#include <csignal>
#include <filesystem>
#include <fstream>
#include <memory>

#include <unistd.h>

using namespace smbsim;
using smbsim::testing::RandomWalk;
namespace fs = std::filesystem;

namespace {
fs::path scratch(const std::string& name) {
  const fs::path dir = fs::temp_directory_path() / ("smbsim-test-" + std::to_string(getpid()));
  fs::create_directories(dir);
  const fs::path p = dir / name;
  fs::remove(p);
  return p;
}

MonthlyStats write_walk(const fs::path& path, bool commit, bool force = false) {
  RunConfig cfg;
  cfg.seed = 3;
  cfg.runs = 2500;
  cfg.months = 24;
  cfg.paths = 2;
  cfg.block_size = 1000;
  const RandomWalk::Params p{1.0, 0.0, 0.2};
  Provenance prov{cfg.seed, cfg.runs, cfg.months, 2, utc_now_iso8601(), "walk", "given: 1", "resolved: 1"};
  ResultWriter writer(path.string(), force, prov);
  auto variant = writer.add_variant("base", RandomWalk::schema(p), cfg.paths, "{}");
  MonthlyStats s = simulate<RandomWalk>(p, cfg, *variant);
  variant->write_monthly(s);
  variant.reset();
  if (commit) writer.commit();
  return s;
}
}  // namespace

TEST_CASE("result file round trip of attributes and outcomes and monthly statistics") {
  const fs::path path = scratch("walk.h5");
  const MonthlyStats s = write_walk(path, true);
  REQUIRE(fs::exists(path));
  silence_hdf5_errors();
  H5Id f(H5Fopen(path.c_str(), H5F_ACC_RDONLY, H5P_DEFAULT), H5Fclose, "open");
  CHECK(read_attr_string(f, "format") == "smbsim");
  CHECK(read_attr_string(f, "format_version") == kFormatVersion);
  CHECK(read_attr_int(f, "runs") == 2500);
  CHECK(read_attr_int(f, "complete") == 1);
  CHECK(read_attr_string(f, "scenario_given") == "given: 1");
  CHECK(read_attr_string(f, "finished_utc").size() == 20);
  const auto alive = read_ints(f, "variants/base/monthly/alive");
  REQUIRE(alive.size() == 24);
  CHECK(alive[23] == s.alive(24));
  const auto survived = read_doubles(f, "variants/base/outcomes/survived");
  REQUIRE(survived.size() == 2500);
  double sum = 0;
  for (double x : survived) sum += x;
  CHECK(sum == s.alive(24));
  const auto month = read_doubles(f, "variants/base/outcomes/failure_month", 1000, 500);
  CHECK(month.size() == 500);
  CHECK(dataset_dims(f, "variants/base/paths/position") == std::vector<hsize_t>{2, 24});
  CHECK(read_strings(f, "variants/base/monthly/cause") == std::vector<std::string>{"absorbed"});
  H5Id d(H5Dopen2(f, "variants/base/monthly/survival", H5P_DEFAULT), H5Dclose, "open");
  CHECK(read_attr_string(d, "units") == "1");
}

TEST_CASE("nothing appears at the path until commit and the temporary goes away") {
  const fs::path path = scratch("uncommitted.h5");
  write_walk(path, false);
  CHECK_FALSE(fs::exists(path));
  for (const auto& e : fs::directory_iterator(path.parent_path()))
    CHECK(e.path().filename().string().find("uncommitted") == std::string::npos);
}

TEST_CASE("two writers of one target never share a temporary file") {
  const fs::path path = scratch("shared.h5");
  fs::path temps[2];
  {
    AtomicOutput a(path, true), b(path, true);
    temps[0] = a.temp_path();
    temps[1] = b.temp_path();
    CHECK(temps[0] != temps[1]);
    CHECK(fs::is_regular_file(temps[0]));
    CHECK(fs::is_regular_file(temps[1]));
  }
  CHECK_FALSE(fs::exists(temps[0]));
  CHECK_FALSE(fs::exists(temps[1]));
  CHECK_FALSE(fs::exists(path));
}

TEST_CASE("an existing file is never clobbered without force") {
  const fs::path path = scratch("existing.h5");
  { std::ofstream(path) << "precious"; }
  CHECK_THROWS_AS(write_walk(path, true), OutputExists);
  std::ifstream in(path);
  std::string content;
  in >> content;
  CHECK(content == "precious");
  write_walk(path, true, true);
  H5Id f(H5Fopen(path.c_str(), H5F_ACC_RDONLY, H5P_DEFAULT), H5Fclose, "open");
  CHECK(read_attr_int(f, "complete") == 1);
}

TEST_CASE("outcome columns are compressed where that pays, and read back exactly") {
  const fs::path path = scratch("columns.h5");
  ModelSchema schema;
  using T = ColumnSpec::Type;
  schema.outcome_columns = {{"count", "1", "small integers", T::i32, "failure_month"},
                            {"constant", "1", "the same value in every run", T::f64, "", "steady"},
                            {"never", "month", "NaN in most runs", T::f64},
                            {"noise", "USD", "full-precision random values", T::f64}};
  schema.causes = {"none"};
  const std::int64_t runs = 20000;
  std::vector<double> rows(static_cast<std::size_t>(runs) * 4);
  RandomStream s(9, 0, 0, 0);
  for (std::size_t i = 0; i < static_cast<std::size_t>(runs); ++i) {
    rows[i * 4 + 0] = static_cast<double>(i % 7);
    rows[i * 4 + 1] = 27.0;
    rows[i * 4 + 2] = i % 10 == 0 ? static_cast<double>(i % 13) : NAN;
    rows[i * 4 + 3] = s.uniform() * 1e5;
  }
  {
    Provenance prov{1, runs, 1, 1, utc_now_iso8601(), "columns", "", ""};
    ResultWriter writer(path.string(), false, prov);
    auto variant = writer.add_variant("base", schema, 0, "{}");
    for (std::int64_t first = 0; first < runs; first += 4096) {
      const std::int64_t count = std::min<std::int64_t>(4096, runs - first);
      variant->append_outcomes(first, count, std::span<const double>(&rows[static_cast<std::size_t>(first) * 4],
                                                                      static_cast<std::size_t>(count) * 4));
    }
    variant->write_monthly(MonthlyStats(1, {}, 1));
    variant.reset();
    writer.commit();
  }
  silence_hdf5_errors();
  H5Id f(H5Fopen(path.c_str(), H5F_ACC_RDONLY, H5P_DEFAULT), H5Fclose, "open");
  auto filters = [&](const std::string& name) {
    H5Id d(H5Dopen2(f, ("variants/base/outcomes/" + name).c_str(), H5P_DEFAULT), H5Dclose, "open");
    H5Id dcpl(H5Dget_create_plist(d), H5Pclose, "plist");
    return H5Pget_nfilters(dcpl);
  };
  CHECK(filters("count") == 2);     // shuffle + deflate
  CHECK(filters("constant") == 2);
  CHECK(filters("never") == 2);
  CHECK(filters("noise") == 0);     // deflate would gain little for its CPU
  // Roles and KPI labels are stored only where the schema gives them (format 1.6).
  auto attr = [&](const std::string& name, const char* key) {
    H5Id d(H5Dopen2(f, ("variants/base/outcomes/" + name).c_str(), H5P_DEFAULT), H5Dclose, "open");
    return has_attr(d, key) ? read_attr_string(d, key) : std::string("(none)");
  };
  CHECK(attr("count", "role") == "failure_month");
  CHECK(attr("count", "kpi_label") == "(none)");
  CHECK(attr("constant", "role") == "(none)");
  CHECK(attr("constant", "kpi_label") == "steady");
  for (std::size_t c = 0; c < 4; ++c) {
    const auto back = read_doubles(f, "variants/base/outcomes/" + schema.outcome_columns[c].name);
    REQUIRE(back.size() == static_cast<std::size_t>(runs));
    for (std::size_t i = 0; i < back.size(); ++i) {
      const double want = rows[i * 4 + c];
      REQUIRE((std::isnan(want) ? std::isnan(back[i]) : back[i] == want));
    }
  }
}

TEST_CASE("a column role the readers do not know is a programming error, caught when the column is made") {
  const fs::path path = scratch("bad_role.h5");
  ModelSchema schema;
  schema.outcome_columns = {{"alive", "1", "1 if alive", ColumnSpec::Type::u8, "survivl"}};
  schema.causes = {"none"};
  Provenance prov{1, 1, 1, 1, utc_now_iso8601(), "bad_role", "", ""};
  ResultWriter writer(path.string(), false, prov);
  auto variant = writer.add_variant("base", schema, 0, "{}");
  const double row[1] = {1.0};
  CHECK_THROWS_AS(variant->append_outcomes(0, 1, std::span<const double>(row, 1)), std::logic_error);
}

// The guarded reader's child (engine/guarded_read.hpp): what it meets is what the caller
// gets, and the parent reads again only after a read that ended otherwise.
TEST_CASE("a guarded read passes the child's refusal, crash or memory overrun back without reading again") {
  const fs::path path = scratch("guarded.h5");
  std::ofstream(path) << "any regular file";
  int here = 0;  // reads in this process (the child's count is its own)
  SECTION("a refusal is thrown with the child's message") {
    const auto refuse = [&] {
      ++here;
      throw InputError("guarded.h5: expected this, found that");
    };
    REQUIRE_THROWS_WITH(rehearse_read(path.string(), 60, refuse), "guarded.h5: expected this, found that");
    REQUIRE(here == 0);
  }
  SECTION("a crash is an InputError naming the signal") {
    const auto crash = [&] {
      ++here;
      std::signal(SIGSEGV, SIG_DFL);  // past Catch's handler, which would report from the child
      std::raise(SIGSEGV);
    };
    REQUIRE_THROWS_WITH(rehearse_read(path.string(), 60, crash), Catch::Contains("crashes the HDF5 library (Segmentation fault"));
    REQUIRE(here == 0);
  }
#if !defined(__SANITIZE_ADDRESS__)
  SECTION("the address space is capped by the file's size: 3 GiB are refused to a 16-byte file") {
    // Not touched, so without the cap this would take no memory (and succeed).
    const auto allocate = [&] {
      ++here;
      const auto big = std::make_unique_for_overwrite<char[]>(std::size_t{3} << 30);
      REQUIRE(big != nullptr);
    };
    REQUIRE_THROWS_WITH(rehearse_read(path.string(), 60, allocate), Catch::Contains("needs more memory"));
    REQUIRE(here == 0);
  }
  SECTION("the cap is at most half of physical memory: a file whose size stands for all of it gets half") {
    // Sparse: its size stands for physical memory (8,800 values of 8 bytes a byte), so the
    // size alone would allow 1 GiB more than that; three quarters of it, untouched, are refused.
    const double physical = static_cast<double>(::sysconf(_SC_PHYS_PAGES)) * static_cast<double>(::sysconf(_SC_PAGESIZE));
    fs::resize_file(path, static_cast<std::uintmax_t>(physical / (kMaxCompression * 8)));
    const auto allocate = [&] {
      ++here;
      const auto big = std::make_unique_for_overwrite<char[]>(static_cast<std::size_t>(0.75 * physical));
      REQUIRE(big != nullptr);
    };
    REQUIRE_THROWS_WITH(rehearse_read(path.string(), 60, allocate), Catch::Contains("needs more memory"));
    REQUIRE(here == 0);
  }
#endif
  SECTION("a read that succeeds in the child is the caller's to repeat") {
    REQUIRE(guarded_read(path.string(), 60, [&] { return ++here; }) == 1);
  }
}
