// "A write acknowledged to the client survives kill -9 of the server at any moment": eight
// clients write (the manager adds items, the annotator labels an item) while the server is
// killed with SIGKILL at a random moment; after a restart every write that was answered 201 is
// there, byte for byte, and `caliper audit verify` passes. Five rounds on one data directory,
// so recovery from a crash is itself crashed into.

#include <atomic>
#include <cstdio>
#include <mutex>
#include <random>
#include <thread>

#include "support/e2e.h"

namespace caliper::e2e {
namespace {

constexpr int kRounds = 5;
constexpr int kClients = 8;  // even: the annotator labels; odd: the manager adds items

struct AckedItem {
  std::string id;
  std::string content;
};

struct AckedAnnotation {
  std::string id;
  std::int64_t n = 0;  // the evidence's "n", unique per write
};

// What the clients of one round saw. Thread-safe.
struct Ledger {
  std::mutex mu;
  std::vector<AckedItem> items;
  std::vector<AckedAnnotation> annotations;
  std::vector<std::string> unexpected;  // answers other than 201 while the server was up
  int no_response = 0;                  // requests cut off by the kill (or refused after it)
};

std::string RandomContent(std::mt19937_64& rng) {
  std::string out(512 + rng() % (32 * 1024), '\0');
  for (char& c : out) c = static_cast<char>(rng() & 0xff);
  return out;
}

// Writes as client `index` until `stop`, recording every acknowledged write in `ledger`.
void WriteUntilStopped(int port, const Team& team, const std::string& labelled_item, int index,
                       std::uint64_t seed, std::atomic<bool>& stop,
                       std::atomic<std::int64_t>& counter, Ledger& ledger) {
  Api api(port);
  std::mt19937_64 rng(seed);
  while (!stop) {
    const std::int64_t n = ++counter;
    if (index % 2 == 0) {
      auto res = api.Post("/api/v1/items/" + labelled_item + "/annotations", &team.annotator,
                          {{"evidence", {{"kind", "roi"}, {"data", {{"n", n}}}}},
                           {"label", {{"class", "lesion"}}}});
      std::lock_guard<std::mutex> lock(ledger.mu);
      if (!res) {
        ++ledger.no_response;
      } else if (res->status == 201 && Body(res)["id"].is_string()) {
        ledger.annotations.push_back({Body(res)["id"], n});
      } else {
        ledger.unexpected.push_back("annotation: " + Describe(res));
      }
    } else {
      std::string content = RandomContent(rng);
      auto res = api.UploadItem(team.project_id, team.manager,
                                ImagingItem("pt-" + std::to_string(n % 7)), content);
      std::lock_guard<std::mutex> lock(ledger.mu);
      if (!res) {
        ++ledger.no_response;
      } else if (res->status == 201 && Body(res)["id"].is_string()) {
        ledger.items.push_back({Body(res)["id"], std::move(content)});
      } else {
        ledger.unexpected.push_back("item: " + Describe(res));
      }
    }
  }
}

TEST(Kill9Test, AcknowledgedWritesSurviveKill9UnderLoad) {
  TempDir dir("caliper_kill9_test");
  const std::string data = dir / "data";
  const std::string admin_password = InitDeployment(data);
  ASSERT_FALSE(admin_password.empty());
  ServerProcess server(data, ServerProcess::PlainHttp());
  ASSERT_TRUE(server.Start());

  // A project with a manager and an annotator, and an item assigned to the annotator.
  Team team;
  std::string labelled_item;
  {
    Api api(server.port());
    ASSERT_TRUE(MakeTeam(api, admin_password, team));
    auto item = api.UploadItem(team.project_id, team.manager, ImagingItem("pt-labelled"),
                               "synthetic slice");
    ASSERT_TRUE(item && item->status == 201) << Describe(item);
    labelled_item = Body(item)["id"];
    auto task = api.Post("/api/v1/items/" + labelled_item + "/assignments", &team.manager,
                         {{"user_id", team.annotator_id}});
    ASSERT_TRUE(task && task->status == 201) << Describe(task);
    // Labels need a published guideline that has their class (docs/workflow.md).
    json lesion{{"id", "lesion"}, {"name", "Lesion"}, {"kind", "segmentation"}, {"definition", "a focal lesion"}};
    auto draft = api.Post("/api/v1/projects/" + team.project_id + "/guidelines", &team.manager,
                          {{"schema", {{"classes", {lesion}}}}});
    ASSERT_TRUE(draft && draft->status == 201) << Describe(draft);
    httplib::Client raw("127.0.0.1", server.port());
    auto published = raw.Post("/api/v1/projects/" + team.project_id + "/guidelines/" +
                                  Body(draft)["id"].get<std::string>() + "/publish",
                              httplib::Headers{{"Cookie", team.manager.cookie},
                                               {"X-CSRF-Token", team.manager.csrf},
                                               {"If-Match", draft->get_header_value("ETag")}},
                              "", "application/json");
    ASSERT_TRUE(published && published->status == 200) << Describe(published);
  }

  const std::uint64_t seed = std::random_device{}();
  std::printf("kill -9 rounds, seed %llu\n", static_cast<unsigned long long>(seed));
  std::mt19937_64 rng(seed);
  std::vector<AckedItem> acked_items;
  std::vector<AckedAnnotation> acked_annotations;
  std::atomic<std::int64_t> counter{0};
  for (int round = 1; round <= kRounds; ++round) {
    SCOPED_TRACE("round " + std::to_string(round));
    Ledger ledger;
    std::atomic<bool> stop{false};
    std::vector<std::thread> clients;
    for (int c = 0; c < kClients; ++c) {
      clients.emplace_back(WriteUntilStopped, server.port(), std::cref(team),
                           std::cref(labelled_item), c, rng(), std::ref(stop), std::ref(counter),
                           std::ref(ledger));
    }
    const int delay_ms = 300 + static_cast<int>(rng() % 1201);
    std::this_thread::sleep_for(milliseconds(delay_ms));
    server.Kill9();
    stop = true;
    for (auto& c : clients) c.join();
    EXPECT_TRUE(ledger.unexpected.empty())
        << ledger.unexpected.size()
        << " writes answered neither 201 nor nothing; first: " << ledger.unexpected.front();
    ASSERT_FALSE(ledger.items.empty()) << "no item was acknowledged in " << delay_ms << " ms";
    ASSERT_FALSE(ledger.annotations.empty())
        << "no annotation was acknowledged in " << delay_ms << " ms";

    const auto restart_began = std::chrono::steady_clock::now();
    ASSERT_TRUE(server.Start()) << "restart after kill -9";
    const auto check_began = std::chrono::steady_clock::now();
    // Every write acknowledged so far, this round's and earlier rounds' (which must survive
    // this crash and recovery too).
    for (auto& item : ledger.items) acked_items.push_back(std::move(item));
    acked_annotations.insert(acked_annotations.end(), ledger.annotations.begin(),
                             ledger.annotations.end());
    Api api(server.port());
    int lost = 0;
    for (const auto& item : acked_items) {
      auto res = api.Get("/api/v1/items/" + item.id + "/content", &team.manager);
      if (!res || res->status != 200 || res->body != item.content) {
        ++lost;
        ADD_FAILURE() << "acknowledged item " << item.id << " (" << item.content.size()
                      << " bytes) after restart: " << Describe(res).substr(0, 200);
      }
    }
    for (const auto& a : acked_annotations) {
      auto res =
          api.Get("/api/v1/items/" + labelled_item + "/annotations/" + a.id, &team.annotator);
      if (!res || res->status != 200 || Body(res)["evidence"]["data"]["n"] != a.n) {
        ++lost;
        ADD_FAILURE() << "acknowledged annotation " << a.id << " after restart: " << Describe(res);
      }
    }
    const auto verify_began = std::chrono::steady_clock::now();
    RunResult verify = Caliper({"audit", "verify", "--data", data, "--json"});
    const auto verify_ended = std::chrono::steady_clock::now();
    auto ms = [](auto d) {
      return static_cast<long long>(std::chrono::duration_cast<milliseconds>(d).count());
    };
    json report = json::parse(verify.out, nullptr, false);
    EXPECT_EQ(verify.exit_code, 0) << Describe(verify);
    std::printf(
        "round %d: killed after %4d ms; acknowledged %3zu items + %3zu annotations, %3d without "
        "response, %zu "
        "unexpected answers; lost %d; audit verify exit %d (%s events); restart %lld ms, reads "
        "%lld ms, "
        "verify %lld ms\n",
        round, delay_ms, ledger.items.size(), ledger.annotations.size(), ledger.no_response,
        ledger.unexpected.size(), lost, verify.exit_code,
        report.is_object() ? report["events"].dump().c_str() : "?", ms(check_began - restart_began),
        ms(verify_began - check_began), ms(verify_ended - verify_began));
    std::fflush(stdout);
    if (verify.exit_code != 0) break;  // a broken chain stays broken; later rounds add nothing
  }
  EXPECT_EQ(server.Terminate(), 0) << server.Log();
}

}  // namespace
}  // namespace caliper::e2e
