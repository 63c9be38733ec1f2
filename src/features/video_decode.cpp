#include "features/video_decode.h"

extern "C" {
#include <libavcodec/avcodec.h>
#include <libavformat/avformat.h>
#include <libavutil/log.h>
#include <libswscale/swscale.h>
}

#include <algorithm>
#include <cmath>
#include <mutex>

namespace spir {

namespace {

// The demuxer, decoder, scaler and scratch buffers of one open file; freed on destruction.
struct Input {
  AVFormatContext* fmt = nullptr;
  AVCodecContext* dec = nullptr;
  SwsContext* sws = nullptr;
  AVPacket* pkt = nullptr;
  AVFrame* frame = nullptr;
  AVFrame* last = nullptr;  // the latest frame before a seek target (used when the target lies past the end)
  int stream = -1;
  bool draining = false;  // the demuxer is exhausted and the decoder was sent its end-of-stream packet

  Input() = default;
  Input(const Input&) = delete;
  Input& operator=(const Input&) = delete;
  ~Input() { close(); }
  void close() {
    sws_freeContext(sws);
    sws = nullptr;
    av_frame_free(&frame);
    av_frame_free(&last);
    av_packet_free(&pkt);
    avcodec_free_context(&dec);
    avformat_close_input(&fmt);
    stream = -1;
    draining = false;
  }
};

std::string av_text(int err) {
  char buf[AV_ERROR_MAX_STRING_SIZE] = {0};
  av_strerror(err, buf, sizeof buf);
  return buf;
}

// Opens path and a decoder for its best video stream; other streams are discarded. Returns "" or what failed.
std::string open_input(const std::string& path, Input& in) {
  in.close();
  int r = avformat_open_input(&in.fmt, path.c_str(), nullptr, nullptr);
  if (r < 0) return "cannot open (" + av_text(r) + ")";
  r = avformat_find_stream_info(in.fmt, nullptr);
  if (r < 0) return "cannot read stream information (" + av_text(r) + ")";
  const AVCodec* codec = nullptr;
  r = av_find_best_stream(in.fmt, AVMEDIA_TYPE_VIDEO, -1, -1, &codec, 0);
  if (r < 0 || codec == nullptr) return "no decodable video stream";
  in.stream = r;
  for (unsigned i = 0; i < in.fmt->nb_streams; ++i)
    if (static_cast<int>(i) != in.stream) in.fmt->streams[i]->discard = AVDISCARD_ALL;
  in.dec = avcodec_alloc_context3(codec);
  in.pkt = av_packet_alloc();
  in.frame = av_frame_alloc();
  in.last = av_frame_alloc();
  if (!in.dec || !in.pkt || !in.frame || !in.last) return "out of memory";
  r = avcodec_parameters_to_context(in.dec, in.fmt->streams[in.stream]->codecpar);
  if (r < 0) return "bad codec parameters (" + av_text(r) + ")";
  in.dec->thread_count = 1;  // callers parallelise across videos
  r = avcodec_open2(in.dec, codec, nullptr);
  if (r < 0) return std::string("cannot open the ") + codec->name + " decoder (" + av_text(r) + ")";
  return "";
}

// Decodes the next frame into in.frame: 1 on a frame, 0 at the end, < 0 on a decoder failure.
// Packets the decoder rejects (corrupt data) are skipped.
int next_frame(Input& in) {
  for (;;) {
    int r = avcodec_receive_frame(in.dec, in.frame);
    if (r == 0) return 1;
    if (r == AVERROR_EOF) return 0;
    if (r != AVERROR(EAGAIN)) return r;
    if (in.draining) return 0;
    r = av_read_frame(in.fmt, in.pkt);
    if (r < 0) {
      avcodec_send_packet(in.dec, nullptr);
      in.draining = true;
      continue;
    }
    if (in.pkt->stream_index == in.stream) avcodec_send_packet(in.dec, in.pkt);
    av_packet_unref(in.pkt);
  }
}

// Seconds from the stream start of a decoded frame; NaN when it has no timestamp.
double frame_time(const Input& in, const AVFrame* f) {
  const AVStream* st = in.fmt->streams[in.stream];
  if (f->best_effort_timestamp == AV_NOPTS_VALUE) return std::nan("");
  const int64_t start = st->start_time == AV_NOPTS_VALUE ? 0 : st->start_time;
  return static_cast<double>(f->best_effort_timestamp - start) * av_q2d(st->time_base);
}

// Converts f to RGB24 at the output size and appends it (with its time) to out.
bool keep_frame(Input& in, const AVFrame* f, DecodedVideo& out) {
  if (f->width <= 0 || f->height <= 0) return false;
  in.sws = sws_getCachedContext(in.sws, f->width, f->height, static_cast<AVPixelFormat>(f->format), out.frame_width,
                                out.frame_height, AV_PIX_FMT_RGB24, SWS_BILINEAR, nullptr, nullptr, nullptr);
  if (!in.sws) return false;
  std::vector<uint8_t> rgb(static_cast<size_t>(out.frame_width) * out.frame_height * 3);
  uint8_t* dst[4] = {rgb.data(), nullptr, nullptr, nullptr};
  int stride[4] = {out.frame_width * 3, 0, 0, 0};
  if (sws_scale(in.sws, f->data, f->linesize, 0, f->height, dst, stride) <= 0) return false;
  out.frames.push_back(std::move(rgb));
  out.frame_times.push_back(frame_time(in, f));
  return true;
}

// Reads every packet of the video stream: their count, and the end time (seconds) of the last one (NaN if unknown).
int64_t count_packets(Input& in, double* end_s) {
  const AVStream* st = in.fmt->streams[in.stream];
  const int64_t start = st->start_time == AV_NOPTS_VALUE ? 0 : st->start_time;
  int64_t n = 0, end = AV_NOPTS_VALUE;
  while (av_read_frame(in.fmt, in.pkt) >= 0) {
    if (in.pkt->stream_index == in.stream) {
      ++n;
      const int64_t t = in.pkt->pts != AV_NOPTS_VALUE ? in.pkt->pts : in.pkt->dts;
      const int64_t stop = t + std::max<int64_t>(0, in.pkt->duration);
      if (t != AV_NOPTS_VALUE) end = end == AV_NOPTS_VALUE ? stop : std::max(end, stop);
    }
    av_packet_unref(in.pkt);
  }
  *end_s = end == AV_NOPTS_VALUE ? std::nan("") : static_cast<double>(end - start) * av_q2d(st->time_base);
  return n;
}

// Decodes from the start, keeping the frames whose output index is in targets (ascending). Returns frames decoded.
int64_t decode_sequential(Input& in, const std::vector<int64_t>& targets, DecodedVideo& out) {
  int64_t index = 0;
  size_t next = 0;
  while (next < targets.size() && next_frame(in) == 1) {
    if (index == targets[next]) {
      keep_frame(in, in.frame, out);
      ++next;
    }
    ++index;
    av_frame_unref(in.frame);
  }
  return index;
}

// Seeks to each target time and keeps the first frame at or after it. False when a seek fails (no frames kept).
bool decode_seeking(Input& in, const std::vector<double>& times, double fps, DecodedVideo& out) {
  AVStream* st = in.fmt->streams[in.stream];
  const int64_t start = st->start_time == AV_NOPTS_VALUE ? 0 : st->start_time;
  const double tb = av_q2d(st->time_base);
  const double slack = fps > 0 ? 0.5 / fps : 0.0;
  for (double t : times) {
    const int64_t ts = start + static_cast<int64_t>(std::llround(t / tb));
    if (av_seek_frame(in.fmt, in.stream, ts, AVSEEK_FLAG_BACKWARD) < 0) {
      out.frames.clear();
      out.frame_times.clear();
      return false;
    }
    avcodec_flush_buffers(in.dec);
    in.draining = false;
    av_frame_unref(in.last);
    bool got = false;
    while (next_frame(in) == 1) {
      const double ft = frame_time(in, in.frame);
      if (std::isnan(ft) || ft + slack >= t) {
        got = keep_frame(in, in.frame, out);
        av_frame_unref(in.frame);
        break;
      }
      av_frame_unref(in.last);
      av_frame_move_ref(in.last, in.frame);
    }
    if (!got && in.last->width > 0) keep_frame(in, in.last, out);
  }
  return true;
}

std::vector<int64_t> target_indices(int64_t frame_count, int n) {
  std::vector<int64_t> t;
  for (int k = 0; k < n; ++k)
    t.push_back(static_cast<int64_t>(std::floor((k + 0.5) * static_cast<double>(frame_count) / n)));
  return t;
}

}  // namespace

bool decode_video_frames(const std::string& path, const VideoDecodeOptions& opt, DecodedVideo* out,
                         std::string* error) {
  static std::once_flag quiet;
  std::call_once(quiet, [] {
    if (av_log_get_level() == AV_LOG_INFO) av_log_set_level(AV_LOG_FATAL);
  });
  *out = DecodedVideo();
  auto fail = [&](const std::string& msg) {
    *out = DecodedVideo();
    if (error) *error = path + ": " + msg;
    return false;
  };
  if (opt.frames <= 0) return fail("frames to decode must be positive");

  Input in;
  std::string msg = open_input(path, in);
  if (!msg.empty()) return fail(msg);
  const AVStream* st = in.fmt->streams[in.stream];
  DecodedVideo& v = *out;
  v.width = st->codecpar->width;
  v.height = st->codecpar->height;
  if (v.width <= 0 || v.height <= 0) return fail("video stream has no frame size");

  // Facts from metadata; a duration the demuxer only estimated from the bit rate is not trusted.
  const double tb = av_q2d(st->time_base);
  if (st->avg_frame_rate.num > 0 && st->avg_frame_rate.den > 0) v.fps = av_q2d(st->avg_frame_rate);
  else if (st->r_frame_rate.num > 0 && st->r_frame_rate.den > 0) v.fps = av_q2d(st->r_frame_rate);
  if (st->duration != AV_NOPTS_VALUE && st->duration > 0) v.duration_s = static_cast<double>(st->duration) * tb;
  else if (in.fmt->duration > 0 && in.fmt->duration_estimation_method != AVFMT_DURATION_FROM_BITRATE)
    v.duration_s = static_cast<double>(in.fmt->duration) / AV_TIME_BASE;
  v.frame_count = st->nb_frames;

  // Without a frame count, count the packets and start again.
  if (v.frame_count <= 0) {
    double end_s = std::nan("");
    v.frame_count = count_packets(in, &end_s);
    if (v.duration_s <= 0 && std::isfinite(end_s) && end_s > 0) v.duration_s = end_s;
    msg = open_input(path, in);
    if (!msg.empty()) return fail(msg);
  }
  if (v.duration_s <= 0 && v.fps > 0 && v.frame_count > 0) v.duration_s = static_cast<double>(v.frame_count) / v.fps;

  // Output size: the coded size, or scaled down to max_side on the longer side.
  v.frame_width = v.width;
  v.frame_height = v.height;
  const int longer = std::max(v.width, v.height);
  if (opt.max_side > 0 && longer > opt.max_side) {
    const double s = static_cast<double>(opt.max_side) / longer;
    v.frame_width = std::max(1, static_cast<int>(std::lround(v.width * s)));
    v.frame_height = std::max(1, static_cast<int>(std::lround(v.height * s)));
  }

  // Long seekable videos: seek to each target time; otherwise (and when seeking fails) decode from the start.
  const int n = static_cast<int>(std::min<int64_t>(opt.frames, std::max<int64_t>(v.frame_count, 1)));
  const bool seekable = in.fmt->pb && (in.fmt->pb->seekable & AVIO_SEEKABLE_NORMAL);
  bool done = false;
  if (v.frame_count > 300 && v.duration_s > 0 && seekable) {
    std::vector<double> times;
    for (int k = 0; k < n; ++k) times.push_back((k + 0.5) * v.duration_s / n);
    done = decode_seeking(in, times, v.fps, v) && !v.frames.empty();
    if (!done) {
      v.frames.clear();
      v.frame_times.clear();
      msg = open_input(path, in);
      if (!msg.empty()) return fail(msg);
    }
  }
  if (!done) {
    const int64_t decoded = decode_sequential(in, target_indices(v.frame_count, n), v);
    // The metadata promised more frames than the stream holds: sample the frames that are there.
    if (static_cast<int>(v.frames.size()) < n && decoded > 0 && decoded < v.frame_count) {
      v.frame_count = decoded;
      v.frames.clear();
      v.frame_times.clear();
      msg = open_input(path, in);
      if (!msg.empty()) return fail(msg);
      decode_sequential(in, target_indices(decoded, static_cast<int>(std::min<int64_t>(n, decoded))), v);
    }
  }
  if (v.frames.empty()) return fail("no frame could be decoded");
  if (v.fps <= 0 && v.duration_s > 0) v.fps = static_cast<double>(v.frame_count) / v.duration_s;
  return true;
}

}  // namespace spir
