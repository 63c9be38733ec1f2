#include "features/node_features.h"

#include <spdlog/spdlog.h>

#include <atomic>
#include <chrono>
#include <thread>
#include <filesystem>
#include <sstream>
#include <unordered_map>

#include "core/civil_time.h"
#include "core/error.h"
#include "core/json_file.h"
#include "core/progress.h"
#include "data/dataset.h"
#include "features/node_inputs.h"
#include "tensor/safetensors_torch.h"

namespace spir {

namespace fs = std::filesystem;

namespace {

std::string features_dir(const std::string& ds_dir) { return ds_dir + "/features"; }
std::string table_path(const std::string& ds_dir, NodeType t) {
  return features_dir(ds_dir) + "/" + node_type_name(t) + ".safetensors";
}

torch::Tensor int64_tensor(const std::vector<int64_t>& v) {
  return torch::from_blob(const_cast<int64_t*>(v.data()), {static_cast<int64_t>(v.size())}, torch::kInt64).clone();
}

torch::Tensor double_tensor(const std::vector<double>& v) {
  return torch::from_blob(const_cast<double*>(v.data()), {static_cast<int64_t>(v.size())}, torch::kFloat64).clone();
}

// Encodes texts in chunks with progress; returns [n, dim].
torch::Tensor encode_texts(const TextEncoder& enc, const std::vector<std::string>& texts, const std::string& what) {
  torch::Tensor out = torch::zeros({static_cast<int64_t>(texts.size()), enc.dim()}, torch::kFloat32);
  Progress progress("text " + what, static_cast<int64_t>(texts.size()), "texts");
  const size_t chunk = 4096;
  for (size_t b = 0; b < texts.size(); b += chunk) {
    const size_t e = std::min(texts.size(), b + chunk);
    const std::vector<std::string> part(texts.begin() + static_cast<std::ptrdiff_t>(b), texts.begin() + static_cast<std::ptrdiff_t>(e));
    enc.encode(part, out.data_ptr<float>() + static_cast<int64_t>(b) * enc.dim());
    progress.update(static_cast<int64_t>(e));
  }
  if (texts.size() > 50000) progress.finish(static_cast<int64_t>(texts.size()));
  return out;
}

struct Stored {
  std::map<std::string, torch::Tensor> tensors;
  nlohmann::json info;
};

}  // namespace

FeatureSummary run_features(const std::string& ds_dir, const FeatureOptions& opt_in) {
  using clock = std::chrono::steady_clock;
  const auto t0 = clock::now();
  FeatureOptions opt = opt_in;
  const Dataset d = load_dataset(ds_dir);
  const PropagationGraph g = build_graph(d.set, d.samples, {});
  const auto& videos = d.set.videos;
  if (opt.time_mode != "absolute" && opt.time_mode != "relative")
    throw Error("unknown time mode '" + opt.time_mode + "' (use absolute or relative)");
  const bool relative = opt.time_mode == "relative";
  fs::create_directories(features_dir(ds_dir));
  if (opt.text.cache_dir.empty()) opt.text.cache_dir = features_dir(ds_dir) + "/cache";
  fs::create_directories(opt.text.cache_dir);

  // Rows shared across a video's states: one per ingested video (title, description, post time, duration, video).
  std::vector<std::string> titles, descs, comments;
  std::vector<double> comment_hours;
  titles.reserve(videos.size());
  for (const Video& v : videos) titles.push_back(v.title), descs.push_back(v.desc);
  for (int64_t n = 0; n < g.videos; ++n) {
    const Video& v = videos[static_cast<size_t>(g.video_of[static_cast<size_t>(n)])];
    for (int64_t c = g.comment_begin[static_cast<size_t>(n)]; c < g.comment_begin[static_cast<size_t>(n) + 1]; ++c) {
      const Comment& cm = v.comments[static_cast<size_t>(g.comment_index[static_cast<size_t>(c)])];
      comments.push_back(cm.text);
      comment_hours.push_back(relative ? static_cast<double>(cm.time - v.post_time) / 3600.0 : time_value_hours(cm.time));
    }
  }

  // Text encoder (Eq. 4), trained on the dataset's own text when it is fastText.
  std::vector<std::string> corpus;
  corpus.reserve(titles.size() * 2 + comments.size() + g.topic_names.size());
  for (const std::vector<std::string>* list :
       std::initializer_list<const std::vector<std::string>*>{&g.platform_names, &g.topic_names, &titles, &descs, &comments})
    corpus.insert(corpus.end(), list->begin(), list->end());
  const auto te = clock::now();
  const std::unique_ptr<TextEncoder> text = make_text_encoder(opt.text, corpus);
  corpus.clear();
  corpus.shrink_to_fit();

  std::array<Stored, kNumNodeTypes> stored;
  auto put = [&](NodeType t, const std::string& name, torch::Tensor x) { stored[static_cast<int>(t)].tensors[name] = std::move(x); };
  const torch::Tensor video_index = int64_tensor(g.video_of);
  // Platform names are single rare words to a text encoder: append a one-hot identity so platforms stay apart.
  const int64_t platforms = static_cast<int64_t>(g.platform_names.size());
  put(NodeType::kPlatform, "rows", torch::cat({encode_texts(*text, g.platform_names, "platforms"), torch::eye(platforms)}, 1));
  put(NodeType::kTopic, "rows", encode_texts(*text, g.topic_names, "topics"));
  put(NodeType::kTitle, "rows", encode_texts(*text, titles, "titles"));
  put(NodeType::kTitle, "index", video_index);
  put(NodeType::kDescription, "rows", encode_texts(*text, descs, "descriptions"));
  put(NodeType::kDescription, "index", video_index);
  put(NodeType::kComment, "rows", encode_texts(*text, comments, "comments"));
  put(NodeType::kComment, "hours", double_tensor(comment_hours));
  const double text_seconds = std::chrono::duration<double>(clock::now() - te).count();

  // Times (Eq. 5): post time per ingested video; ctime per distinct crawl date (absolute) or per distinct age
  // (relative).
  std::vector<double> post_hours;
  constexpr int64_t kWeek = 7 * kSecondsPerDay;
  for (const Video& v : videos)
    post_hours.push_back(relative ? static_cast<double>(((v.post_time % kWeek) + kWeek) % kWeek) / 3600.0
                                  : time_value_hours(v.post_time));
  put(NodeType::kTime, "hours", double_tensor(post_hours));
  put(NodeType::kTime, "index", video_index);
  std::vector<double> ctime_hours;
  std::vector<int64_t> ctime_index(static_cast<size_t>(g.videos));
  std::unordered_map<int64_t, int64_t> day_row;
  for (int64_t n = 0; n < g.videos; ++n) {
    const Sample& smp = d.samples[static_cast<size_t>(n)];
    const int64_t key = relative ? (smp.ctime_day + 1) * kSecondsPerDay - videos[static_cast<size_t>(smp.video)].post_time
                                 : smp.ctime_day * kSecondsPerDay;
    auto [it, fresh] = day_row.try_emplace(key, static_cast<int64_t>(ctime_hours.size()));
    if (fresh) ctime_hours.push_back(relative ? static_cast<double>(key) / 3600.0 : time_value_hours(key));
    ctime_index[static_cast<size_t>(n)] = it->second;
  }
  put(NodeType::kCtime, "hours", double_tensor(ctime_hours));
  put(NodeType::kCtime, "index", int64_tensor(ctime_index));

  // Scalars (Eq. 6): duration per ingested video; counts and fans per state.
  std::vector<int64_t> durations;
  for (const Video& v : videos) durations.push_back(std::isnan(v.duration) ? kMissing : std::llround(v.duration));
  put(NodeType::kVideoTime, "rows", scalar_features(durations));
  put(NodeType::kVideoTime, "index", video_index);
  const std::pair<NodeType, int> scalar_types[] = {{NodeType::kLikes, kLikes},       {NodeType::kCollects, kCollects},
                                                   {NodeType::kViews, kViews},       {NodeType::kShares, kShares},
                                                   {NodeType::kComments, kComments}, {NodeType::kFans, kFans}};
  for (auto [type, ind] : scalar_types) {
    std::vector<int64_t> counts;
    counts.reserve(static_cast<size_t>(g.videos));
    for (const Sample& s : d.samples) counts.push_back(s.counts[static_cast<size_t>(ind)]);
    put(type, "rows", scalar_features(counts));
  }

  // Video content (Eq. 3): one row per ingested video, last column = 1 when there is no readable video.
  const auto tv = clock::now();
  const std::unique_ptr<VideoEncoder> venc = make_video_encoder(opt.video);
  const std::string root = !opt.video_root.empty() ? opt.video_root : fs::path(d.set.source).parent_path().string();
  torch::Tensor vrows = torch::zeros({static_cast<int64_t>(videos.size()), venc->dim() + 1}, torch::kFloat32);
  std::atomic<int64_t> with_file{0}, unreadable{0}, done{0};
  Progress vprog("video " + venc->name(), static_cast<int64_t>(videos.size()), "videos");
  // FFmpeg statistics are independent per video: spread them over the cores. A ViT runs its own threads inside.
  const int workers = venc->name() == "stats" ? std::max(1u, std::thread::hardware_concurrency()) : 1;
  auto work = [&](int w) {
    for (size_t i = static_cast<size_t>(w); i < videos.size(); i += static_cast<size_t>(workers)) {
      float* row = vrows.data_ptr<float>() + static_cast<int64_t>(i) * (venc->dim() + 1);
      row[venc->dim()] = 1.0f;
      if (!videos[i].video_path.empty()) {
        ++with_file;
        const fs::path p = fs::path(videos[i].video_path).is_absolute() ? fs::path(videos[i].video_path) : fs::path(root) / videos[i].video_path;
        if (venc->encode(p.string(), row)) row[venc->dim()] = 0.0f;
        else if (++unreadable <= 3) spdlog::warn("features: cannot decode video {}", p.string());
      }
      ++done;
      if (w == 0) vprog.update(done.load());
    }
  };
  std::vector<std::thread> pool;
  for (int w = 1; w < workers; ++w) pool.emplace_back(work, w);
  work(0);
  for (auto& t : pool) t.join();
  put(NodeType::kVideo, "rows", vrows);
  put(NodeType::kVideo, "index", video_index);
  const double video_seconds = std::chrono::duration<double>(clock::now() - tv).count();

  // Write the tables and the manifest.
  nlohmann::json manifest;
  manifest["text_encoder"] = {{"spec", text->name()}, {"dim", text->dim()}, {"seconds", text_seconds}};
  manifest["video_encoder"] = {{"spec", venc->name()}, {"dim", venc->dim()}, {"videos", videos.size()},
                               {"with_file", with_file.load()}, {"unreadable", unreadable.load()},
                               {"without_video_zeros_and_mask", static_cast<int64_t>(videos.size()) - with_file + unreadable},
                               {"seconds", video_seconds}};
  manifest["time_encoding"] = {{"equation", 5}, {"dim", kTimeEncodingDim}, {"mode", opt.time_mode},
                               {"value", relative ? "hours: post time within its week; state and comment age since posting"
                                                  : "hours since 2020-01-01 00:00"}};
  const auto node_counts = g.node_counts();
  for (int t = 0; t < kNumNodeTypes; ++t) {
    const NodeType type = node_type_at(t);
    save_safetensors(table_path(ds_dir, type), stored[static_cast<size_t>(t)].tensors, {{"node_type", node_type_name(type)}});
    NodeFeatureTable table;
    table.type = type;
    for (auto& [name, x] : stored[static_cast<size_t>(t)].tensors)
      (name == "rows" ? table.rows : name == "hours" ? table.hours : table.index) = x;
    manifest["node_types"][node_type_name(type)] = {{"file", std::string(node_type_name(type)) + ".safetensors"},
                                                   {"nodes", node_counts[static_cast<size_t>(t)]},
                                                   {"rows", table.row_count()},
                                                   {"dim", table.dim()}};
  }
  manifest["seconds"] = std::chrono::duration<double>(clock::now() - t0).count();
  write_json(features_dir(ds_dir) + "/manifest.json", manifest);
  return FeatureSummary{manifest};
}

std::string FeatureSummary::to_text() const {
  std::ostringstream s;
  char buf[160];
  s << "node features (Eq. 3-7), text " << manifest["text_encoder"]["spec"].get<std::string>() << ", video "
    << manifest["video_encoder"]["spec"].get<std::string>() << "\n";
  std::snprintf(buf, sizeof buf, "  %-12s %12s %12s %6s\n", "node type", "nodes", "stored rows", "dim");
  s << buf;
  for (int t = 0; t < kNumNodeTypes; ++t) {
    const auto& j = manifest["node_types"][node_type_name(node_type_at(t))];
    std::snprintf(buf, sizeof buf, "  %-12s %12lld %12lld %6lld\n", node_type_name(node_type_at(t)),
                  static_cast<long long>(j["nodes"].get<int64_t>()), static_cast<long long>(j["rows"].get<int64_t>()),
                  static_cast<long long>(j["dim"].get<int64_t>()));
    s << buf;
  }
  const auto& v = manifest["video_encoder"];
  s << "  videos: " << v["videos"] << ", with a file " << v["with_file"] << ", unreadable " << v["unreadable"]
    << " (videos without a readable file get zeros and the mask bit)\n";
  s << "  text encoding " << manifest["text_encoder"]["seconds"].get<double>() << " s, video encoding "
    << v["seconds"].get<double>() << " s, total " << manifest["seconds"].get<double>() << " s\n";
  return s.str();
}

int64_t NodeFeatureTable::nodes() const { return index.defined() ? index.size(0) : row_count(); }

int64_t NodeFeatureTable::row_count() const { return rows.defined() ? rows.size(0) : hours.defined() ? hours.size(0) : 0; }

int64_t NodeFeatureTable::dim() const {
  return (rows.defined() ? rows.size(1) : 0) + (hours.defined() ? kTimeEncodingDim : 0);
}

torch::Tensor NodeFeatureTable::expand_rows(int64_t begin, int64_t end) const {
  if (!hours.defined()) return rows.slice(0, begin, end);
  if (!rows.defined()) return sinusoidal_time_encoding(hours.slice(0, begin, end));
  // rows ‖ Eq. 5 of hours, written into one table (no concatenated copy)
  const int64_t d = rows.size(1);
  torch::Tensor out = torch::empty({end - begin, d + kTimeEncodingDim}, torch::kFloat32);
  out.slice(1, 0, d).copy_(rows.slice(0, begin, end));
  write_sinusoidal_time_encoding(hours.slice(0, begin, end), out.slice(1, d));
  return out;
}

torch::Tensor NodeFeatureTable::matrix() const {
  torch::Tensor all = expand_rows(0, row_count());
  return index.defined() ? all.index_select(0, index) : all;
}

NodeFeatures load_features(const std::string& ds_dir, const PropagationGraph& g) {
  const std::string manifest_path = features_dir(ds_dir) + "/manifest.json";
  if (!fs::exists(manifest_path)) throw Error(manifest_path + ": missing; run 'spir features " + ds_dir + "' first");
  NodeFeatures f;
  f.manifest = read_json(manifest_path);
  const auto node_counts = g.node_counts();
  for (int t = 0; t < kNumNodeTypes; ++t) {
    NodeFeatureTable& table = f.tables[static_cast<size_t>(t)];
    table.type = node_type_at(t);
    for (auto& [name, x] : load_safetensors(table_path(ds_dir, table.type)))
      (name == "rows" ? table.rows : name == "hours" ? table.hours : table.index) = x;
    if (table.nodes() != node_counts[static_cast<size_t>(t)])
      throw Error(table_path(ds_dir, table.type) + ": " + std::to_string(table.nodes()) + " nodes, but the graph has " +
                  std::to_string(node_counts[static_cast<size_t>(t)]) + "; rerun 'spir features " + ds_dir + "'");
  }
  return f;
}

}  // namespace spir
