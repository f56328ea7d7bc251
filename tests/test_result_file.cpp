#include "engine/result_file.hpp"
#include "engine/runner.hpp"
#include "models/testing/random_walk.hpp"

#include <catch2/catch.hpp>

#include <filesystem>
#include <fstream>

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
