// Card import/export on the project's own fixtures (tests/persona/fixtures), round trips
// through every format, and rejection of bad input.
#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include <filesystem>
#include <fstream>
#include <sstream>

#include "image_samples.h"
#include "persona/base64.h"
#include "persona/card.h"
#include "persona/charx.h"
#include "persona/image.h"
#include "persona/png_io.h"

#include <zlib.h>

namespace tokki::persona {
namespace {

using nlohmann::json;
namespace fs = std::filesystem;

std::string Fixture(const std::string& name) {
  std::ifstream in(fs::path(TOKKI_PERSONA_FIXTURES_DIR) / name, std::ios::binary);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

ImportedCard MustImport(const std::string& bytes) {
  auto r = ImportCard(bytes);
  EXPECT_TRUE(r.ok()) << r.status().ToString();
  return r.ok() ? std::move(r).value() : ImportedCard{};
}

// Every card field, compared one by one so a failure names the field.
void ExpectSameCard(const store::Character& a, const store::Character& b, bool same_assets) {
  EXPECT_EQ(a.name, b.name);
  EXPECT_EQ(a.nickname, b.nickname);
  EXPECT_EQ(a.description, b.description);
  EXPECT_EQ(a.personality, b.personality);
  EXPECT_EQ(a.scenario, b.scenario);
  EXPECT_EQ(a.first_mes, b.first_mes);
  EXPECT_EQ(a.mes_example, b.mes_example);
  EXPECT_EQ(a.creator_notes, b.creator_notes);
  EXPECT_EQ(a.system_prompt, b.system_prompt);
  EXPECT_EQ(a.post_history_instructions, b.post_history_instructions);
  EXPECT_EQ(a.alternate_greetings, b.alternate_greetings);
  EXPECT_EQ(a.group_only_greetings, b.group_only_greetings);
  EXPECT_EQ(a.tags, b.tags);
  EXPECT_EQ(a.creator, b.creator);
  EXPECT_EQ(a.character_version, b.character_version);
  EXPECT_EQ(a.source, b.source);
  EXPECT_EQ(a.creator_notes_multilingual_json, b.creator_notes_multilingual_json);
  EXPECT_EQ(a.extensions_json, b.extensions_json);
  EXPECT_EQ(a.character_book_json, b.character_book_json);
  if (same_assets) {
    EXPECT_EQ(a.assets_json, b.assets_json);
  }
  EXPECT_EQ(a.creation_date, b.creation_date);
  EXPECT_EQ(a.modification_date, b.modification_date);
  EXPECT_EQ(a.tagline, b.tagline);
  EXPECT_EQ(a.language, b.language);
  EXPECT_EQ(a.real_person, b.real_person);
}

TEST(CardImport, V3JsonMapsEveryField) {
  ImportedCard card = MustImport(Fixture("aria_v3.json"));
  const store::Character& c = card.character;
  EXPECT_EQ(card.format, "v3_json");
  EXPECT_EQ(c.name, "Aria Vale");
  EXPECT_EQ(c.nickname, "Ari");
  EXPECT_EQ(c.system_prompt, "{{original}} Keep replies under 120 words.");
  EXPECT_EQ(c.alternate_greetings.size(), 2u);
  EXPECT_EQ(c.group_only_greetings,
            std::vector<std::string>{"Everyone inside, the wind is picking up."});
  EXPECT_EQ(c.tags, (std::vector<std::string>{"slice-of-life", "island", "original"}));
  EXPECT_EQ(c.source, std::vector<std::string>{"https://example.org/aria"});
  EXPECT_EQ(c.creation_date, 1700000000);
  EXPECT_EQ(c.modification_date, 1710000000);
  EXPECT_EQ(json::parse(c.creator_notes_multilingual_json)["ko"],
            "느긋하고 분위기 있는 대화에 어울립니다.");
  // Tokki's fields move to the Character; the rest of extensions.tokki stays.
  EXPECT_EQ(c.tagline, "Keeps the light on for you");
  EXPECT_EQ(c.language, "en");
  EXPECT_FALSE(c.real_person);
  json ext = json::parse(c.extensions_json);
  EXPECT_EQ(ext["tokki"]["id"], "aria-vale");
  EXPECT_EQ(ext["tokki"]["avatar"]["motif"], "wave");
  EXPECT_FALSE(ext["tokki"].contains("tagline"));
  EXPECT_EQ(ext["depth_prompt"]["depth"], 4);
  EXPECT_EQ(ext["example/unknown"]["nested"][2]["deep"], true);
  json book = json::parse(c.character_book_json);
  ASSERT_EQ(book["entries"].size(), 3u);
  EXPECT_EQ(book["entries"][1]["secondary_keys"][1], "weather");
  EXPECT_EQ(book["entries"][1]["position"], "after_char");
  EXPECT_EQ(book["scan_depth"], 4);
  EXPECT_EQ(json::parse(c.assets_json)[1]["name"], "lamp_room");
  EXPECT_FALSE(card.avatar.has_value());
}

TEST(CardImport, V2AndV1Json) {
  ImportedCard boris = MustImport(Fixture("boris_v2.json"));
  EXPECT_EQ(boris.format, "v2_json");
  // data wins over the V1 mirror fields at the top level.
  EXPECT_EQ(boris.character.description,
            "Boris runs a tiny bakery and remembers every regular's order.");
  EXPECT_EQ(json::parse(boris.character.extensions_json)["world"], "Bakery");
  ImportedCard cleo = MustImport(Fixture("cleo_v1.json"));
  EXPECT_EQ(cleo.format, "v1_json");
  EXPECT_EQ(cleo.character.first_mes, "Goggles on. We launch at noon.");
  EXPECT_EQ(cleo.character.language, "en");
}

TEST(CardImport, PygmalionKeys) {
  auto r = ImportCard(R"({"char_name":"Pip","char_persona":"A sprite.","world_scenario":"A garden.",
    "char_greeting":"Hi!","example_dialogue":"<START>\nYou: hey\nPip: hey"})");
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  EXPECT_EQ(r->format, "v1_json");
  EXPECT_EQ(r->character.name, "Pip");
  EXPECT_EQ(r->character.description, "A sprite.");
  EXPECT_EQ(r->character.scenario, "A garden.");
  EXPECT_EQ(r->character.first_mes, "Hi!");
  EXPECT_NE(r->character.mes_example.find("Pip: hey"), std::string::npos);
}

TEST(CardImport, PngChunksAndAvatar) {
  ImportedCard boris = MustImport(Fixture("boris_v2.png"));
  EXPECT_EQ(boris.format, "v2_png");
  EXPECT_EQ(boris.character.name, "Boris");
  ASSERT_TRUE(boris.avatar.has_value());
  EXPECT_EQ(boris.avatar->mime, "image/png");
  auto info = internal::ReadPng(boris.avatar->bytes);
  ASSERT_TRUE(info.ok());
  EXPECT_EQ(info->width, 12u);
  EXPECT_TRUE(info->texts.empty());  // card text is not kept in the avatar
  EXPECT_TRUE(boris.character.has_avatar);

  // APNG: the animation chunks stay in the avatar.
  ImportedCard anim = MustImport(Fixture("boris_v2_apng.png"));
  EXPECT_EQ(anim.character.name, "Boris");
  ASSERT_TRUE(anim.avatar.has_value());
  EXPECT_NE(anim.avatar->bytes.find("acTL"), std::string::npos);
  EXPECT_NE(anim.avatar->bytes.find("fdAT"), std::string::npos);
  EXPECT_EQ(anim.avatar->bytes.find("tEXt"), std::string::npos);

  ImportedCard cleo = MustImport(Fixture("cleo_v1_ztxt.png"));
  EXPECT_EQ(cleo.format, "v1_png");
  EXPECT_EQ(cleo.character.name, "Cleo");

  // iTXt "CCV3" wins over tEXt "Chara"; keywords are case-insensitive.
  ImportedCard aria = MustImport(Fixture("aria_v3_dual.png"));
  EXPECT_EQ(aria.format, "v3_png");
  EXPECT_EQ(aria.character.name, "Aria Vale");
  EXPECT_EQ(aria.character.nickname, "Ari");
}

TEST(CardImport, CharxIconBecomesAvatar) {
  ImportedCard card = MustImport(Fixture("aria_v3.charx"));
  EXPECT_EQ(card.format, "v3_charx");
  EXPECT_EQ(card.character.name, "Aria Vale");
  ASSERT_TRUE(card.avatar.has_value());
  auto info = internal::ReadPng(card.avatar->bytes);
  ASSERT_TRUE(info.ok());
  EXPECT_EQ(info->width, 10u);
  EXPECT_EQ(card.warnings.size(), 1u);  // the emotion asset is not kept
}

class RoundTrip : public ::testing::TestWithParam<std::tuple<std::string, CardFormat>> {};

TEST_P(RoundTrip, EveryFieldSurvives) {
  auto [fixture, format] = GetParam();
  ImportedCard first = MustImport(Fixture(fixture));
  auto bytes = ExportCard(first.character, first.avatar ? &*first.avatar : nullptr, format);
  ASSERT_TRUE(bytes.ok()) << bytes.status().ToString();
  ImportedCard second = MustImport(*bytes);
  EXPECT_EQ(second.format, format == CardFormat::kPng    ? "v3_png"
                           : format == CardFormat::kJson ? "v3_json"
                                                         : "v3_charx");
  // Assets are rewritten to point at the exported icon for PNG and CHARX.
  ExpectSameCard(first.character, second.character, format == CardFormat::kJson);
  if (format == CardFormat::kPng) {
    ASSERT_TRUE(second.avatar.has_value());
  }
  if (format == CardFormat::kCharx && first.avatar.has_value()) {
    ASSERT_TRUE(second.avatar.has_value());
    EXPECT_EQ(second.avatar->bytes, first.avatar->bytes);
  }
  // A second trip gives byte-identical output: nothing drifts.
  auto bytes2 = ExportCard(second.character, second.avatar ? &*second.avatar : nullptr, format);
  ASSERT_TRUE(bytes2.ok());
  if (format != CardFormat::kPng || first.avatar.has_value()) {
    EXPECT_EQ(*bytes2, *bytes);
  }
}

INSTANTIATE_TEST_SUITE_P(
    Fixtures, RoundTrip,
    ::testing::Combine(::testing::Values("aria_v3.json", "boris_v2.json", "cleo_v1.json",
                                         "boris_v2.png", "boris_v2_apng.png", "cleo_v1_ztxt.png",
                                         "aria_v3_dual.png", "aria_v3.charx"),
                       ::testing::Values(CardFormat::kPng, CardFormat::kJson, CardFormat::kCharx)));

TEST(CardExport, PngHasCcv3AndV2Backfill) {
  ImportedCard aria = MustImport(Fixture("aria_v3.json"));
  auto png = ExportCard(aria.character, nullptr, CardFormat::kPng);
  ASSERT_TRUE(png.ok());
  auto info = internal::ReadPng(*png);
  ASSERT_TRUE(info.ok());
  EXPECT_EQ(info->width, 256u);  // generated placeholder
  std::map<std::string, json> chunks;
  for (const auto& t : info->texts)
    chunks[t.keyword] = json::parse(*internal::Base64Decode(t.text));
  ASSERT_EQ(chunks.size(), 2u);
  EXPECT_EQ(chunks["chara"]["spec"], "chara_card_v2");
  EXPECT_EQ(chunks["chara"]["name"], "Aria Vale");  // V1 mirror
  EXPECT_EQ(chunks["chara"]["data"]["extensions"]["tokki"]["tagline"],
            "Keeps the light on for you");
  EXPECT_EQ(chunks["ccv3"]["spec"], "chara_card_v3");
  EXPECT_EQ(chunks["ccv3"]["data"]["nickname"], "Ari");
  EXPECT_EQ(chunks["ccv3"]["data"]["assets"][0]["uri"], "ccdefault:");
  EXPECT_EQ(chunks["ccv3"]["data"]["extensions"]["tokki"]["language"], "en");
  EXPECT_EQ(chunks["ccv3"]["data"]["extensions"]["tokki"]["real_person"], false);
}

TEST(CardExport, PngCopiesASanitisedAvatarWithoutReencoding) {
  // Every stored avatar is a SanitizeImage PNG, usually 512x512: its IHDR and IDAT go
  // into the card byte for byte, and come back out as the same avatar.
  auto avatar = SanitizeImage(testing::MakeJpeg(testing::Gradient(1024, 1024)));
  ASSERT_TRUE(avatar.ok()) << avatar.status().ToString();
  ASSERT_EQ(avatar->width, 512);
  store::Character c;
  c.name = "Mina";
  store::Avatar stored{avatar->mime, avatar->bytes};
  auto png = ExportCard(c, &stored, CardFormat::kPng);
  ASSERT_TRUE(png.ok()) << png.status().ToString();
  const std::string& a = avatar->bytes;
  EXPECT_NE(png->find(a.substr(8, 25)), std::string::npos);                   // IHDR
  EXPECT_NE(png->find(a.substr(33, a.size() - 33 - 12)), std::string::npos);  // IDATs
  ImportedCard back = MustImport(*png);
  EXPECT_EQ(back.character.name, "Mina");
  EXPECT_EQ(back.avatar->bytes, a);

  // An avatar stored before sanitising (JPEG) is converted rather than replaced by the
  // placeholder.
  store::Avatar jpeg{"image/jpeg", testing::MakeJpeg(testing::Gradient(40, 30))};
  auto from_jpeg = ExportCard(c, &jpeg, CardFormat::kPng);
  ASSERT_TRUE(from_jpeg.ok());
  auto info = internal::ReadPng(*from_jpeg);
  ASSERT_TRUE(info.ok());
  EXPECT_EQ(info->width, 40u);
}

TEST(CardExport, CharxLayout) {
  ImportedCard aria = MustImport(Fixture("aria_v3_dual.png"));
  auto zip = ExportCard(aria.character, &*aria.avatar, CardFormat::kCharx);
  ASSERT_TRUE(zip.ok());
  auto reader = internal::CharxReader::Open(*zip);
  ASSERT_TRUE(reader.ok());
  EXPECT_EQ((*reader)->names(),
            (std::vector<std::string>{"card.json", "assets/icon/images/main.png"}));
  json card = json::parse(*(*reader)->Read("card.json"));
  EXPECT_EQ(card["data"]["assets"][0]["uri"], "embeded://assets/icon/images/main.png");
  EXPECT_EQ(*(*reader)->Read("assets/icon/images/main.png"), aria.avatar->bytes);
}

TEST(CardExport, TokkiFieldsWrittenBack) {
  store::Character c;
  c.name = "민지";
  c.tagline = "서울의 바리스타";
  c.language = "ko";
  c.real_person = true;
  auto text = ExportCard(c, nullptr, CardFormat::kJson);
  ASSERT_TRUE(text.ok());
  json doc = json::parse(*text);
  EXPECT_EQ(doc["data"]["extensions"]["tokki"]["tagline"], "서울의 바리스타");
  EXPECT_EQ(doc["data"]["extensions"]["tokki"]["language"], "ko");
  EXPECT_EQ(doc["data"]["extensions"]["tokki"]["real_person"], true);
  ImportedCard back = MustImport(*text);
  EXPECT_TRUE(back.character.real_person);
  EXPECT_EQ(back.character.language, "ko");
}

// ---- Bad input ----

Status ImportStatus(const std::string& bytes) { return ImportCard(bytes, "bad.file").status(); }

std::string PngWithChunk(const std::string& keyword, const std::string& text) {
  std::vector<uint8_t> px(4 * 4 * 3, 128);
  return *internal::EncodePng(4, 4, 3, px.data(), {{keyword, text}});
}

TEST(CardReject, NotACard) {
  Status st = ImportStatus("hello world");
  EXPECT_EQ(st.code(), Status::Code::kInvalidArgument);
  EXPECT_NE(st.message().find("not a character card"), std::string::npos) << st.ToString();
  EXPECT_NE(st.message().find("bad.file"), std::string::npos);
  EXPECT_EQ(ImportStatus("").code(), Status::Code::kInvalidArgument);
  EXPECT_EQ(ImportStatus("[1,2]").code(), Status::Code::kInvalidArgument);
  std::vector<uint8_t> px(4 * 4 * 3, 0);
  Status no_chunk = ImportStatus(*internal::EncodePng(4, 4, 3, px.data(), {{"Title", "x"}}));
  EXPECT_NE(no_chunk.message().find("no 'chara' or 'ccv3'"), std::string::npos);
}

TEST(CardReject, BrokenEncodings) {
  Status b64 = ImportStatus(PngWithChunk("chara", "!!!not base64!!!"));
  EXPECT_NE(b64.message().find("not valid base64"), std::string::npos) << b64.ToString();
  Status js = ImportStatus(PngWithChunk("chara", internal::Base64Encode("{\"name\": ")));
  EXPECT_NE(js.message().find("not valid JSON"), std::string::npos) << js.ToString();
  Status raw = ImportStatus("{\"name\": \"a\",");
  EXPECT_NE(raw.message().find("not valid JSON"), std::string::npos);
  Status utf8 = ImportStatus("{\"name\": \"bad \xff\xfe\"}");
  EXPECT_NE(utf8.message().find("UTF-8"), std::string::npos) << utf8.ToString();
  std::string png = *internal::EncodePng(4, 4, 3, std::vector<uint8_t>(48, 9).data(), {});
  Status truncated = ImportStatus(png.substr(0, png.size() / 2));
  EXPECT_NE(truncated.message().find("broken PNG"), std::string::npos) << truncated.ToString();
  Status deep = ImportStatus("{\"name\":\"x\",\"extensions\":" + std::string(200, '[') +
                             std::string(200, ']') + "}");
  EXPECT_NE(deep.message().find("nests deeper"), std::string::npos);
}

TEST(CardReject, WrongTypesAndMissingName) {
  EXPECT_NE(ImportStatus(R"({"name": 5})").message().find("'name' must be a string"),
            std::string::npos);
  EXPECT_NE(ImportStatus(R"({"spec":"chara_card_v2","data":{"name":"a","tags":{"x":1}}})")
                .message()
                .find("'data.tags' must be a list"),
            std::string::npos);
  EXPECT_NE(ImportStatus(R"({"spec":"chara_card_v2","data":{"description":"x"}})")
                .message()
                .find("no name"),
            std::string::npos);
  EXPECT_NE(ImportStatus(R"({"spec":"chara_card_v9","data":{"name":"a"}})")
                .message()
                .find("unsupported card spec"),
            std::string::npos);
  EXPECT_NE(
      ImportStatus(
          R"({"spec":"chara_card_v2","data":{"name":"a","character_book":{"entries":[{"keys":"x"}]}}})")
          .message()
          .find("keys must be a list"),
      std::string::npos);
  EXPECT_NE(ImportStatus(R"({"name":"a","extensions":{"tokki":{"real_person":"yes"}}})")
                .message()
                .find("real_person"),
            std::string::npos);
}

TEST(CardReject, SizeLimits) {
  std::string big(kMaxCardFileBytes + 1, ' ');
  EXPECT_EQ(ImportStatus(big).code(), Status::Code::kTooLarge);
  json doc = {{"name", "a"}, {"personality", std::string(kMaxTextFieldBytes + 1, 'x')}};
  Status field = ImportStatus(doc.dump());
  EXPECT_EQ(field.code(), Status::Code::kTooLarge);
  EXPECT_NE(field.message().find("personality"), std::string::npos);
  doc = {{"name", "a"}, {"description", std::string(kMaxTextFieldBytes + 1, 'x')}};
  EXPECT_TRUE(ImportCard(doc.dump()).ok());  // description may be longer
  doc = {{"name", "a"}, {"description", std::string(kMaxLongFieldBytes + 1, 'x')}};
  EXPECT_EQ(ImportStatus(doc.dump()).code(), Status::Code::kTooLarge);
}

TEST(CardReject, ZipBombsAndTraversal) {
  std::string card = R"({"spec":"chara_card_v3","spec_version":"3.0","data":{"name":"Z"}})";
  auto traversal = internal::WriteZip({{"card.json", card}, {"../../etc/passwd", "x"}});
  ASSERT_TRUE(traversal.ok());
  Status t = ImportStatus(*traversal);
  EXPECT_NE(t.message().find("unsafe path"), std::string::npos) << t.ToString();
  auto absolute = internal::WriteZip({{"card.json", card}, {"/abs.png", "x"}});
  EXPECT_NE(ImportStatus(*absolute).message().find("unsafe path"), std::string::npos);
  auto bomb =
      internal::WriteZip({{"card.json", card}, {"assets/a.bin", std::string(4 << 20, '\0')}});
  ASSERT_TRUE(bomb.ok());
  Status b = ImportStatus(*bomb);
  EXPECT_NE(b.message().find("compression ratio"), std::string::npos) << b.ToString();
  auto huge =
      internal::WriteZip({{"card.json", card}, {"assets/b.bin", std::string(9 << 20, 'a')}});
  EXPECT_EQ(ImportStatus(*huge).code(), Status::Code::kTooLarge);
  std::vector<std::pair<std::string, std::string>> many = {{"card.json", card}};
  for (size_t i = 0; i < kMaxZipEntries; ++i) many.push_back({"f" + std::to_string(i), "x"});
  EXPECT_EQ(ImportStatus(*internal::WriteZip(many)).code(), Status::Code::kTooLarge);
  auto no_card = internal::WriteZip({{"other.json", card}});
  EXPECT_NE(ImportStatus(*no_card).message().find("no card.json"), std::string::npos);
  auto ok = internal::WriteZip({{"card.json", card}});
  EXPECT_TRUE(ImportCard(*ok).ok());
}

TEST(ValidateCharacter, Rules) {
  store::Character c;
  EXPECT_FALSE(ValidateCharacter(c).ok());  // no name
  c.name = std::string(kMaxNameChars, 'a');
  EXPECT_TRUE(ValidateCharacter(c).ok());
  c.name += "a";
  EXPECT_EQ(ValidateCharacter(c).code(), Status::Code::kTooLarge);
  c.name.clear();
  for (size_t i = 0; i < kMaxNameChars; ++i) c.name += "가";  // 3 bytes each
  EXPECT_TRUE(ValidateCharacter(c).ok());
  c.name = "Ok";
  c.tags.assign(kMaxTags, "t");
  EXPECT_TRUE(ValidateCharacter(c).ok());
  c.tags.push_back("t");
  EXPECT_EQ(ValidateCharacter(c).code(), Status::Code::kTooLarge);
  c.tags.clear();
  c.scenario = "bad \xc3\x28";
  EXPECT_NE(ValidateCharacter(c).message().find("scenario"), std::string::npos);
  c.scenario.clear();
  c.character_book_json = R"({"entries": 3})";
  EXPECT_FALSE(ValidateCharacter(c).ok());
  c.character_book_json.clear();
  c.language = "English";
  EXPECT_FALSE(ValidateCharacter(c).ok());
}

}  // namespace
}  // namespace tokki::persona

namespace tokki::persona {
namespace {

TEST(CardReject, HugePngDimensions) {
  // A valid 1x1 image whose IHDR claims 20000 px width is refused before decoding.
  std::vector<uint8_t> px(3, 0);
  std::string png = *internal::EncodePng(1, 1, 3, px.data(), {{"chara", "e30="}});
  // Patch IHDR width (bytes 16..19) and fix its CRC.
  std::string patched = png;
  patched[16] = 0;
  patched[17] = 0;
  patched[18] = 0x4E;
  patched[19] = 0x20;
  uLong crc = crc32(0, reinterpret_cast<const Bytef*>(patched.data() + 12), 17);
  for (int i = 0; i < 4; ++i) patched[29 + i] = static_cast<char>((crc >> (24 - 8 * i)) & 0xFF);
  Status st = ImportCard(patched).status();
  EXPECT_EQ(st.code(), Status::Code::kTooLarge) << st.ToString();
}

}  // namespace
}  // namespace tokki::persona

namespace tokki::persona {
namespace {

void AppendChunk(std::string* out, const std::string& type, const std::string& data) {
  uint32_t n = static_cast<uint32_t>(data.size());
  for (int shift = 24; shift >= 0; shift -= 8) out->push_back(static_cast<char>(n >> shift));
  std::string body = type + data;
  *out += body;
  uLong crc = crc32(0, reinterpret_cast<const Bytef*>(body.data()), body.size());
  for (int shift = 24; shift >= 0; shift -= 8) out->push_back(static_cast<char>(crc >> shift));
}

TEST(CardReject, ChunkLengthPastEndOfFile) {
  // Found by fuzzing: a tEXt chunk declaring 1.4 GB in a 1 KB file made libpng allocate
  // the declared size. Such files are refused before libpng sees them.
  std::vector<uint8_t> px(3, 0);
  std::string png = *internal::EncodePng(1, 1, 3, px.data(), {});
  std::string body = png.substr(0, png.size() - 12);
  const char header[] = {0x54, 0x00, 0x00, 0x1a, 't', 'E', 'X', 't'};  // 1409286170 bytes
  body.append(header, sizeof(header));
  body += "chara";
  body += std::string(100, 'x');
  Status st = ImportCard(body).status();
  EXPECT_EQ(st.code(), Status::Code::kInvalidArgument);
  EXPECT_NE(st.message().find("past the end"), std::string::npos) << st.ToString();
}

TEST(CardReject, CompressedTextChunkFloodIsBounded) {
  // 40 zTXt chunks that each inflate to 8 MiB: only the first 15 text chunks are kept
  // (so memory stays bounded), and a card chunk after them is not seen.
  std::string big(8u << 20, 'A');
  uLongf n_comp = compressBound(big.size());
  std::string comp(n_comp, '\0');
  ASSERT_EQ(compress2(reinterpret_cast<Bytef*>(comp.data()), &n_comp,
                      reinterpret_cast<const Bytef*>(big.data()), big.size(), 1),
            Z_OK);
  comp.resize(n_comp);
  std::vector<uint8_t> px(3, 0);
  std::string png = *internal::EncodePng(1, 1, 3, px.data(), {});
  std::string body = png.substr(0, png.size() - 12);  // without IEND
  std::string card = internal::Base64Encode(R"({"name":"Late"})");
  std::string early = body;
  AppendChunk(&early, "tEXt", std::string("chara") + '\0' + card);
  for (int i = 0; i < 40; ++i) {
    AppendChunk(&body, "zTXt", std::string("junk") + '\0' + '\0' + comp);
    AppendChunk(&early, "zTXt", std::string("junk") + '\0' + '\0' + comp);
  }
  AppendChunk(&body, "tEXt", std::string("chara") + '\0' + card);
  AppendChunk(&body, "IEND", "");
  AppendChunk(&early, "IEND", "");
  auto info = internal::ReadPng(body);
  ASSERT_TRUE(info.ok()) << info.status().ToString();
  EXPECT_LT(info->texts.size(), 16u);
  EXPECT_NE(ImportCard(body).status().message().find("no 'chara'"), std::string::npos);
  // The same card chunk first in the file is found.
  auto ok = ImportCard(early);
  ASSERT_TRUE(ok.ok()) << ok.status().ToString();
  EXPECT_EQ(ok->character.name, "Late");
}

}  // namespace
}  // namespace tokki::persona
