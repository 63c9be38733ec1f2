#include "features/wordpiece.h"

#include "core/utf8.h"

#include <algorithm>
#include <fstream>
#include <nlohmann/json.hpp>

#include "core/error.h"

namespace spir {
namespace {

struct Range {
  char32_t lo, hi;
};
const Range kPunctuation[] = {
    {0x21, 0x23}, {0x25, 0x2A}, {0x2C, 0x2F}, {0x3A, 0x3B}, {0x3F, 0x40}, {0x5B, 0x5D}, {0x5F, 0x5F}, {0x7B, 0x7B},
    {0x7D, 0x7D}, {0xA1, 0xA1}, {0xA7, 0xA7}, {0xAB, 0xAB}, {0xB6, 0xB7}, {0xBB, 0xBB}, {0xBF, 0xBF}, {0x37E, 0x37E},
    {0x387, 0x387}, {0x55A, 0x55F}, {0x589, 0x58A}, {0x5BE, 0x5BE}, {0x5C0, 0x5C0}, {0x5C3, 0x5C3}, {0x5C6, 0x5C6},
    {0x5F3, 0x5F4}, {0x609, 0x60A}, {0x60C, 0x60D}, {0x61B, 0x61B}, {0x61D, 0x61F}, {0x66A, 0x66D}, {0x6D4, 0x6D4},
    {0x700, 0x70D}, {0x7F7, 0x7F9}, {0x830, 0x83E}, {0x85E, 0x85E}, {0x964, 0x965}, {0x970, 0x970}, {0x9FD, 0x9FD},
    {0xA76, 0xA76}, {0xAF0, 0xAF0}, {0xC77, 0xC77}, {0xC84, 0xC84}, {0xDF4, 0xDF4}, {0xE4F, 0xE4F}, {0xE5A, 0xE5B},
    {0xF04, 0xF12}, {0xF14, 0xF14}, {0xF3A, 0xF3D}, {0xF85, 0xF85}, {0xFD0, 0xFD4}, {0xFD9, 0xFDA}, {0x104A, 0x104F},
    {0x10FB, 0x10FB}, {0x1360, 0x1368}, {0x1400, 0x1400}, {0x166E, 0x166E}, {0x169B, 0x169C}, {0x16EB, 0x16ED},
    {0x1735, 0x1736}, {0x17D4, 0x17D6}, {0x17D8, 0x17DA}, {0x1800, 0x180A}, {0x1944, 0x1945}, {0x1A1E, 0x1A1F},
    {0x1AA0, 0x1AA6}, {0x1AA8, 0x1AAD}, {0x1B5A, 0x1B60}, {0x1B7D, 0x1B7E}, {0x1BFC, 0x1BFF}, {0x1C3B, 0x1C3F},
    {0x1C7E, 0x1C7F}, {0x1CC0, 0x1CC7}, {0x1CD3, 0x1CD3}, {0x2010, 0x2027}, {0x2030, 0x2043}, {0x2045, 0x2051},
    {0x2053, 0x205E}, {0x207D, 0x207E}, {0x208D, 0x208E}, {0x2308, 0x230B}, {0x2329, 0x232A}, {0x2768, 0x2775},
    {0x27C5, 0x27C6}, {0x27E6, 0x27EF}, {0x2983, 0x2998}, {0x29D8, 0x29DB}, {0x29FC, 0x29FD}, {0x2CF9, 0x2CFC},
    {0x2CFE, 0x2CFF}, {0x2D70, 0x2D70}, {0x2E00, 0x2E2E}, {0x2E30, 0x2E4F}, {0x2E52, 0x2E5D}, {0x3001, 0x3003},
    {0x3008, 0x3011}, {0x3014, 0x301F}, {0x3030, 0x3030}, {0x303D, 0x303D}, {0x30A0, 0x30A0}, {0x30FB, 0x30FB},
    {0xA4FE, 0xA4FF}, {0xA60D, 0xA60F}, {0xA673, 0xA673}, {0xA67E, 0xA67E}, {0xA6F2, 0xA6F7}, {0xA874, 0xA877},
    {0xA8CE, 0xA8CF}, {0xA8F8, 0xA8FA}, {0xA8FC, 0xA8FC}, {0xA92E, 0xA92F}, {0xA95F, 0xA95F}, {0xA9C1, 0xA9CD},
    {0xA9DE, 0xA9DF}, {0xAA5C, 0xAA5F}, {0xAADE, 0xAADF}, {0xAAF0, 0xAAF1}, {0xABEB, 0xABEB}, {0xFD3E, 0xFD3F},
    {0xFE10, 0xFE19}, {0xFE30, 0xFE52}, {0xFE54, 0xFE61}, {0xFE63, 0xFE63}, {0xFE68, 0xFE68}, {0xFE6A, 0xFE6B},
    {0xFF01, 0xFF03}, {0xFF05, 0xFF0A}, {0xFF0C, 0xFF0F}, {0xFF1A, 0xFF1B}, {0xFF1F, 0xFF20}, {0xFF3B, 0xFF3D},
    {0xFF3F, 0xFF3F}, {0xFF5B, 0xFF5B}, {0xFF5D, 0xFF5D}, {0xFF5F, 0xFF65}, {0x10100, 0x10102}, {0x1039F, 0x1039F},
    {0x103D0, 0x103D0}, {0x1056F, 0x1056F}, {0x10857, 0x10857}, {0x1091F, 0x1091F}, {0x1093F, 0x1093F},
    {0x10A50, 0x10A58}, {0x10A7F, 0x10A7F}, {0x10AF0, 0x10AF6}, {0x10B39, 0x10B3F}, {0x10B99, 0x10B9C},
    {0x10EAD, 0x10EAD}, {0x10F55, 0x10F59}, {0x10F86, 0x10F89}, {0x11047, 0x1104D}, {0x110BB, 0x110BC},
    {0x110BE, 0x110C1}, {0x11140, 0x11143}, {0x11174, 0x11175}, {0x111C5, 0x111C8}, {0x111CD, 0x111CD},
    {0x111DB, 0x111DB}, {0x111DD, 0x111DF}, {0x11238, 0x1123D}, {0x112A9, 0x112A9}, {0x1144B, 0x1144F},
    {0x1145A, 0x1145B}, {0x1145D, 0x1145D}, {0x114C6, 0x114C6}, {0x115C1, 0x115D7}, {0x11641, 0x11643},
    {0x11660, 0x1166C}, {0x116B9, 0x116B9}, {0x1173C, 0x1173E}, {0x1183B, 0x1183B}, {0x11944, 0x11946},
    {0x119E2, 0x119E2}, {0x11A3F, 0x11A46}, {0x11A9A, 0x11A9C}, {0x11A9E, 0x11AA2}, {0x11C41, 0x11C45},
    {0x11C70, 0x11C71}, {0x11EF7, 0x11EF8}, {0x11FFF, 0x11FFF}, {0x12470, 0x12474}, {0x12FF1, 0x12FF2},
    {0x16A6E, 0x16A6F}, {0x16AF5, 0x16AF5}, {0x16B37, 0x16B3B}, {0x16B44, 0x16B44}, {0x16E97, 0x16E9A},
    {0x16FE2, 0x16FE2}, {0x1BC9F, 0x1BC9F}, {0x1DA87, 0x1DA8B}, {0x1E95E, 0x1E95F},
};
// Categories Cc, Cf and Co ("other" characters BERT drops while cleaning; unassigned code points are kept).
const Range kOther[] = {
    {0x0, 0x1F}, {0x7F, 0x9F}, {0xAD, 0xAD}, {0x600, 0x605}, {0x61C, 0x61C}, {0x6DD, 0x6DD}, {0x70F, 0x70F},
    {0x890, 0x891}, {0x8E2, 0x8E2}, {0x180E, 0x180E}, {0x200B, 0x200F}, {0x202A, 0x202E}, {0x2060, 0x2064},
    {0x2066, 0x206F}, {0xE000, 0xF8FF}, {0xFEFF, 0xFEFF}, {0xFFF9, 0xFFFB}, {0x110BD, 0x110BD}, {0x110CD, 0x110CD},
    {0x13430, 0x13438}, {0x1BCA0, 0x1BCA3}, {0x1D173, 0x1D17A}, {0xE0001, 0xE0001}, {0xE0020, 0xE007F},
    {0xF0000, 0xFFFFD}, {0x100000, 0x10FFFD},
};
// Category Zs (space separators).
const Range kSpaceSeparator[] = {
    {0x20, 0x20}, {0xA0, 0xA0}, {0x1680, 0x1680}, {0x2000, 0x200A}, {0x202F, 0x202F}, {0x205F, 0x205F},
    {0x3000, 0x3000},
};

// Nonspacing combining marks dropped by accent stripping. Limited to the main combining blocks.
const Range kCombining[] = {
    {0x300, 0x36F}, {0x483, 0x489}, {0x591, 0x5BD}, {0x610, 0x61A}, {0x64B, 0x65F},
    {0x1AB0, 0x1AFF}, {0x1DC0, 0x1DFF}, {0x20D0, 0x20FF}, {0xFE20, 0xFE2F},
};

// CJK ideograph blocks that BERT splits into single-character tokens (sorted).
const Range kCjk[] = {
    {0x3400, 0x4DBF}, {0x4E00, 0x9FFF}, {0xF900, 0xFAFF}, {0x20000, 0x2A6DF},
    {0x2A700, 0x2B73F}, {0x2B740, 0x2B81F}, {0x2B820, 0x2CEAF}, {0x2F800, 0x2FA1F},
};

// Whether c lies in one of the sorted ranges of table.
template <size_t N>
bool in_ranges(const Range (&table)[N], char32_t c) {
  const Range* end = table + N;
  const Range* it = std::lower_bound(table, end, c, [](const Range& r, char32_t v) { return r.hi < v; });
  return it != end && it->lo <= c && c <= it->hi;
}

// Base letters of U+00C0..U+017F after canonical decomposition (NFD) with the combining marks removed; '.' marks a
// character that does not decompose. Accent stripping is limited to this range (Latin-1 Supplement and Latin
// Extended-A: é, ï, É, ő, ...) plus dropping combining marks already present in the text; precomposed characters
// of other blocks (Vietnamese, Greek tonos, ...) keep their accents.
const char kLatinBase[] =
    "AAAAAA.CEEEEIIII.NOOOOO..UUUUY..aaaaaa.ceeeeiiii.nooooo..uuuuy.y"
    "AaAaAaCcCcCcCcDd..EeEeEeEeEeGgGgGgGgHh..IiIiIiIiI...JjKk.LlLlLl."
    "...NnNnNn...OoOoOo..RrRrRrSsSsSsSsTtTt..UuUuUuUuUuUuWwYyYZzZzZz.";

bool is_punctuation(char32_t c) {
  if ((c >= 33 && c <= 47) || (c >= 58 && c <= 64) || (c >= 91 && c <= 96) || (c >= 123 && c <= 126)) return true;
  return c >= 0x80 && in_ranges(kPunctuation, c);
}
bool is_control(char32_t c) {
  if (c == '\t' || c == '\n' || c == '\r') return false;
  return in_ranges(kOther, c);
}
bool is_whitespace(char32_t c) {
  return c == '\t' || c == '\n' || c == '\r' || c == 0x2028 || c == 0x2029 || in_ranges(kSpaceSeparator, c);
}

char32_t strip_accent(char32_t c) {
  if (c >= 0xC0 && c <= 0x17F) {
    char b = kLatinBase[c - 0xC0];
    if (b != '.') return static_cast<char32_t>(b);
  }
  return c;
}

// Simple lowercase mapping, limited to ASCII, Latin-1, Latin Extended-A, Greek, Cyrillic and fullwidth Latin.
char32_t to_lower(char32_t c) {
  if (c < 0x80) return (c >= 'A' && c <= 'Z') ? c + 32 : c;
  if (c >= 0xC0 && c <= 0xDE && c != 0xD7) return c + 32;
  if (c >= 0x100 && c <= 0x17F) {
    if (c == 0x130) return 'i';
    if (c == 0x178) return 0xFF;
    if ((c <= 0x137) || (c >= 0x14A && c <= 0x177)) return (c % 2 == 0) ? c + 1 : c;
    if ((c >= 0x139 && c <= 0x148) || (c >= 0x179 && c <= 0x17E)) return (c % 2 == 1) ? c + 1 : c;
    return c;
  }
  if (c >= 0x391 && c <= 0x3AB && c != 0x3A2) return c + 32;
  if (c == 0x386) return 0x3AC;
  if (c >= 0x388 && c <= 0x38A) return c + 37;
  if (c == 0x38C) return 0x3CC;
  if (c == 0x38E || c == 0x38F) return c + 63;
  if (c >= 0x410 && c <= 0x42F) return c + 32;
  if (c >= 0x400 && c <= 0x40F) return c + 80;
  if (c >= 0xFF21 && c <= 0xFF3A) return c + 32;
  return c;
}


}  // namespace

WordPieceTokenizer::WordPieceTokenizer(std::vector<std::string> vocab, WordPieceOptions opt)
    : vocab_(std::move(vocab)), opt_(std::move(opt)) {
  for (size_t i = 0; i < vocab_.size(); ++i) ids_.emplace(vocab_[i], static_cast<int64_t>(i));  // first id wins
  auto need = [&](const std::string& tok, const char* what) {
    const int64_t id = token_to_id(tok);
    if (id < 0) throw Error(std::string("vocab.txt: ") + what + " '" + tok + "' is not in the vocabulary");
    return id;
  };
  unk_id_ = need(opt_.unk_token, "unk_token");
  cls_id_ = need(opt_.cls_token, "cls_token");
  sep_id_ = need(opt_.sep_token, "sep_token");
  pad_id_ = need(opt_.pad_token, "pad_token");
  for (const auto* s : {&opt_.unk_token, &opt_.cls_token, &opt_.sep_token, &opt_.pad_token, &opt_.mask_token})
    if (!s->empty() && token_to_id(*s) >= 0) specials_.push_back(*s);
  // Longest first, so that a special token that prefixes another cannot shadow it.
  std::sort(specials_.begin(), specials_.end(),
            [](const std::string& a, const std::string& b) { return a.size() > b.size(); });
}

WordPieceTokenizer WordPieceTokenizer::from_dir(const std::string& dir) {
  const std::string vocab_path = dir + "/vocab.txt";
  std::ifstream in(vocab_path, std::ios::binary);
  if (!in) throw Error(vocab_path + ": cannot open");
  std::vector<std::string> vocab;
  std::string line;
  while (std::getline(in, line)) {
    if (!line.empty() && line.back() == '\r') line.pop_back();
    vocab.push_back(line);
  }
  if (vocab.empty()) throw Error(vocab_path + ": empty vocabulary");
  WordPieceOptions opt;
  const std::string cfg_path = dir + "/tokenizer_config.json";
  std::ifstream cfg_in(cfg_path, std::ios::binary);
  if (cfg_in) {
    nlohmann::json cfg;
    try {
      cfg = nlohmann::json::parse(cfg_in);
    } catch (const std::exception& e) {
      throw Error(cfg_path + ": bad JSON: " + e.what());
    }
    auto get_bool = [&](const char* key, bool* v) {
      if (!cfg.contains(key) || cfg[key].is_null()) return;
      if (!cfg[key].is_boolean()) throw Error(cfg_path + ": field '" + key + "': expected true or false");
      *v = cfg[key].get<bool>();
    };
    get_bool("do_lower_case", &opt.do_lower_case);
    get_bool("tokenize_chinese_chars", &opt.tokenize_chinese_chars);
    if (cfg.contains("strip_accents") && !cfg["strip_accents"].is_null()) {
      bool s = false;
      get_bool("strip_accents", &s);
      opt.strip_accents = s ? 1 : 0;
    }
    auto get_token = [&](const char* key, std::string* v) {
      if (!cfg.contains(key) || cfg[key].is_null()) return;
      const auto& t = cfg[key];
      if (t.is_string()) *v = t.get<std::string>();
      else if (t.is_object() && t.contains("content") && t["content"].is_string()) *v = t["content"].get<std::string>();
      else throw Error(cfg_path + ": field '" + key + "': expected a token string");
    };
    get_token("unk_token", &opt.unk_token);
    get_token("cls_token", &opt.cls_token);
    get_token("sep_token", &opt.sep_token);
    get_token("pad_token", &opt.pad_token);
    get_token("mask_token", &opt.mask_token);
  }
  return WordPieceTokenizer(std::move(vocab), opt);
}

std::vector<std::string> WordPieceTokenizer::basic_tokenize(const std::string& text) const {
  std::vector<std::string> words;
  const bool strip = opt_.strip_accents < 0 ? opt_.do_lower_case : opt_.strip_accents == 1;
  // Normalises and splits one stretch of text that holds no special token.
  auto run = [&](const std::string& part) {
    const std::u32string cps = decode_utf8(part);
    std::u32string norm;
    norm.reserve(cps.size() + 8);
    for (char32_t c : cps) {
      if (c == 0 || c == 0xFFFD || is_control(c)) continue;  // clean text
      if (is_whitespace(c)) {
        norm.push_back(' ');
        continue;
      }
      if (opt_.tokenize_chinese_chars && in_ranges(kCjk, c)) {
        norm.push_back(' ');
        norm.push_back(c);
        norm.push_back(' ');
        continue;
      }
      if (strip) {
        if (in_ranges(kCombining, c)) continue;
        c = strip_accent(c);
      }
      if (opt_.do_lower_case) c = to_lower(c);
      norm.push_back(c);
    }
    // Whitespace split, then every punctuation character becomes a word of its own.
    size_t begin = 0;
    for (size_t i = 0; i <= norm.size(); ++i) {
      const bool end = i == norm.size();
      if (end || norm[i] == ' ' || is_punctuation(norm[i])) {
        if (i > begin) words.push_back(encode_utf8(norm, begin, i));
        if (!end && norm[i] != ' ') words.push_back(encode_utf8(norm, i, i + 1));
        begin = i + 1;
      }
    }
  };
  // Special tokens in the raw text are kept whole.
  size_t start = 0, i = 0;
  while (i < text.size()) {
    const std::string* hit = nullptr;
    for (const auto& s : specials_)
      if (text.compare(i, s.size(), s) == 0) {
        hit = &s;
        break;
      }
    if (hit) {
      run(text.substr(start, i - start));
      words.push_back(*hit);
      i += hit->size();
      start = i;
    } else {
      ++i;
    }
  }
  run(text.substr(start));
  return words;
}

void WordPieceTokenizer::wordpiece(const std::string& word, std::vector<std::string>* out) const {
  if (std::find(specials_.begin(), specials_.end(), word) != specials_.end()) {
    out->push_back(word);
    return;
  }
  const std::u32string cps = decode_utf8(word);
  if (static_cast<int64_t>(cps.size()) > opt_.max_input_chars_per_word) {
    out->push_back(opt_.unk_token);
    return;
  }
  // Greedy longest match from each start; "##" marks a piece that continues a word.
  std::vector<std::string> pieces;
  size_t start = 0;
  while (start < cps.size()) {
    size_t end = cps.size();
    std::string found;
    for (; end > start; --end) {
      std::string sub = (start > 0 ? "##" : "") + encode_utf8(cps, start, end);
      if (ids_.count(sub)) {
        found = std::move(sub);
        break;
      }
    }
    if (found.empty()) {
      out->push_back(opt_.unk_token);  // some position has no piece: the whole word is unknown
      return;
    }
    pieces.push_back(std::move(found));
    start = end;
  }
  out->insert(out->end(), pieces.begin(), pieces.end());
}

std::vector<std::string> WordPieceTokenizer::tokenize(const std::string& text) const {
  std::vector<std::string> out;
  for (const auto& w : basic_tokenize(text)) wordpiece(w, &out);
  return out;
}

std::vector<int64_t> WordPieceTokenizer::token_ids(const std::string& text) const {
  std::vector<int64_t> ids;
  for (const auto& t : tokenize(text)) {
    const int64_t id = token_to_id(t);
    ids.push_back(id < 0 ? unk_id_ : id);
  }
  return ids;
}

WordPieceEncoding WordPieceTokenizer::encode(const std::string& text, int max_length) const {
  std::vector<int64_t> ids = token_ids(text);
  if (max_length > 0) {
    if (max_length < 2)
      throw Error("WordPiece encode: max_length " + std::to_string(max_length) + " leaves no room for [CLS] and [SEP]");
    if (ids.size() > static_cast<size_t>(max_length - 2)) ids.resize(max_length - 2);
  }
  WordPieceEncoding e;
  e.input_ids.push_back(cls_id_);
  e.input_ids.insert(e.input_ids.end(), ids.begin(), ids.end());
  e.input_ids.push_back(sep_id_);
  e.token_type_ids.assign(e.input_ids.size(), 0);
  e.attention_mask.assign(e.input_ids.size(), 1);
  return e;
}

WordPieceEncoding WordPieceTokenizer::encode_pair(const std::string& a, const std::string& b, int max_length) const {
  std::vector<int64_t> x = token_ids(a), y = token_ids(b);
  if (max_length > 0) {
    if (max_length < 3)
      throw Error("WordPiece encode_pair: max_length " + std::to_string(max_length) +
                  " leaves no room for [CLS] and two [SEP]");
    // Longest first: drop the last token of the longer side (the second on ties) until the pair fits.
    while (x.size() + y.size() > static_cast<size_t>(max_length - 3)) {
      if (x.size() > y.size()) x.pop_back();
      else y.pop_back();
    }
  }
  WordPieceEncoding e;
  e.input_ids.push_back(cls_id_);
  e.input_ids.insert(e.input_ids.end(), x.begin(), x.end());
  e.input_ids.push_back(sep_id_);
  e.token_type_ids.assign(e.input_ids.size(), 0);
  e.input_ids.insert(e.input_ids.end(), y.begin(), y.end());
  e.input_ids.push_back(sep_id_);
  e.token_type_ids.resize(e.input_ids.size(), 1);
  e.attention_mask.assign(e.input_ids.size(), 1);
  return e;
}

WordPieceBatch WordPieceTokenizer::encode_batch(const std::vector<std::string>& texts, int max_length) const {
  std::vector<WordPieceEncoding> encs;
  encs.reserve(texts.size());
  size_t cols = 0;
  for (const auto& t : texts) {
    encs.push_back(encode(t, max_length));
    cols = std::max(cols, encs.back().input_ids.size());
  }
  WordPieceBatch b;
  b.rows = static_cast<int64_t>(texts.size());
  b.cols = static_cast<int64_t>(cols);
  b.input_ids.assign(b.rows * b.cols, pad_id_);
  b.token_type_ids.assign(b.rows * b.cols, 0);
  b.attention_mask.assign(b.rows * b.cols, 0);
  for (size_t r = 0; r < encs.size(); ++r)
    for (size_t c = 0; c < encs[r].input_ids.size(); ++c) {
      b.input_ids[r * cols + c] = encs[r].input_ids[c];
      b.token_type_ids[r * cols + c] = encs[r].token_type_ids[c];
      b.attention_mask[r * cols + c] = 1;
    }
  return b;
}

int64_t WordPieceTokenizer::token_to_id(const std::string& token) const {
  auto it = ids_.find(token);
  return it == ids_.end() ? -1 : it->second;
}

const std::string& WordPieceTokenizer::id_to_token(int64_t id) const {
  if (id < 0 || id >= vocab_size()) throw Error("WordPiece: token id " + std::to_string(id) + " out of range");
  return vocab_[static_cast<size_t>(id)];
}

}  // namespace spir
